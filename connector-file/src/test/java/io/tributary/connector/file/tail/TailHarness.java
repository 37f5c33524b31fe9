package io.tributary.connector.file.tail;

import io.tributary.connector.file.TailSource;
import io.tributary.connector.file.TailSourceOptions;
import io.tributary.connector.file.testing.DirectSourceHarness;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.internal.DirectPlanner;
import io.tributary.core.internal.checkpoint.BatchPlan;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Drives a {@link TailSource} as the runtime does, with core's own {@link DirectPlanner} (ranges
 * end where the source's {@code fixRangeEnd} says), its state in a local checkpoint directory, and
 * the last committed plan kept so that a "crash" (a new harness on the same directory given the
 * last plan) replays exactly what the runtime would.
 */
final class TailHarness extends DirectSourceHarness<TailSource> {
  final DirectPlanner planner = new DirectPlanner(0, 0, 1000);

  TailHarness(Map<String, ?> options, Path checkpointDir) throws Exception {
    super(new TailSource(TailSourceOptions.SPEC.parse(options)), checkpointDir, "tail");
  }

  /** Restores the planner's positions from a plan (as a restart does from the last offsets/N). */
  void recover(List<OffsetRange> lastPlan) {
    planner.recover(
        new BatchPlan(
            BatchPlan.FORMAT_VERSION, "p", 0, 0, "tail", BatchPlan.DIRECT, lastPlan, null));
  }

  /** Plans the next batch (positions move past it). */
  List<OffsetRange> plan() throws Exception {
    List<OffsetRange> ranges = planner.plan(source.partitions(), 0, 0, 0, source);
    planner.advance(ranges);
    return ranges;
  }

  List<String> batch() throws Exception {
    return read(plan());
  }
}
