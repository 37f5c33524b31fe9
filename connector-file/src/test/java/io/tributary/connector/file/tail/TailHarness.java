package io.tributary.connector.file.tail;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.file.TailSource;
import io.tributary.connector.file.TailSourceOptions;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.internal.DirectPlanner;
import io.tributary.core.internal.checkpoint.BatchPlan;
import io.tributary.core.internal.checkpoint.ScopedCheckpointStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Drives a {@link TailSource} as the runtime does, with core's own {@link DirectPlanner} (ranges
 * end where the source's {@code fixRangeEnd} says), its state in a local checkpoint directory, and
 * the last committed plan kept so that a "crash" (a new harness on the same directory given the
 * last plan) replays exactly what the runtime would.
 */
final class TailHarness implements AutoCloseable {
  final TailSource source;
  final MeterRegistry registry = new SimpleMeterRegistry();
  final DirectPlanner planner = new DirectPlanner(0, 0, 1000);

  TailHarness(Map<String, ?> options, Path checkpointDir) throws Exception {
    CheckpointStorage checkpoint = new LocalCheckpointStorage(checkpointDir);
    this.source = new TailSource(TailSourceOptions.SPEC.parse(options));
    source.open(
        new SourceContext() {
          @Override
          public String pipelineId() {
            return "p";
          }

          @Override
          public String sourceName() {
            return "tail";
          }

          @Override
          public MeterRegistry meterRegistry() {
            return registry;
          }

          @Override
          public CheckpointStorage stateStorage() {
            return new ScopedCheckpointStorage(checkpoint, "sources/tail");
          }
        });
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

  List<String> read(List<OffsetRange> ranges) throws Exception {
    List<String> out = new ArrayList<>();
    for (Record r : records(ranges)) {
      out.add(r.valueAsString());
    }
    return out;
  }

  List<Record> records(List<OffsetRange> ranges) throws Exception {
    List<Record> out = new ArrayList<>();
    for (OffsetRange r : ranges) {
      try (CloseableIterator<Record> it = source.read(r)) {
        it.forEachRemaining(out::add);
      }
    }
    return out;
  }

  List<String> batch() throws Exception {
    return read(plan());
  }

  double counter(String name) {
    return registry.get(name).counter().count();
  }

  @Override
  public void close() {
    source.close();
  }
}
