package io.tributary.connector.file.source;

import io.tributary.connector.file.FileSource;
import io.tributary.connector.file.FileSourceOptions;
import io.tributary.connector.file.testing.DirectSourceHarness;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives a {@link FileSource} the way the runtime does (partitions, plan everything available,
 * read, commit) without a pipeline, with its state in a local checkpoint directory so that
 * "restarts" reopen the same state.
 */
final class SourceHarness extends DirectSourceHarness<FileSource> {
  /** Next offset to plan per partition (what offsets/N would hold). */
  final Map<String, Long> positions;

  long batchId;

  SourceHarness(Map<String, ?> options, Path checkpointDir, Map<String, Long> positions)
      throws Exception {
    this(options, checkpointDir, positions, Clock.systemUTC());
  }

  /**
   * The completeness guard is off ({@code stable-for: 0s}) unless {@code options} set it: most
   * tests rename files into place and read them in the next cycle.
   */
  SourceHarness(
      Map<String, ?> options, Path checkpointDir, Map<String, Long> positions, Clock clock)
      throws Exception {
    super(
        new FileSource(FileSourceOptions.SPEC.parse(withDefaults(options)), clock),
        checkpointDir,
        "files");
    this.positions = positions;
  }

  SourceHarness(Map<String, ?> options, Path checkpointDir) throws Exception {
    this(options, checkpointDir, new HashMap<>());
  }

  private static Map<String, Object> withDefaults(Map<String, ?> options) {
    Map<String, Object> o = new HashMap<>(options);
    o.putIfAbsent("stable-for", "0s");
    return o;
  }

  /** Lists and plans every available offset, like the planner without limits. */
  List<OffsetRange> plan() throws Exception {
    List<OffsetRange> ranges = new ArrayList<>();
    for (PartitionInfo p : source.partitions()) {
      long from = positions.getOrDefault(p.id(), p.initialPosition().toLong());
      ranges.add(new OffsetRange(p.id(), from, p.endPosition().toLong()));
      positions.put(p.id(), p.endPosition().toLong());
    }
    return ranges;
  }

  void commit(List<OffsetRange> ranges) {
    source.onBatchCommitted(batchId++, ranges);
  }

  /** One whole batch: plan, read, commit. */
  List<String> batch() throws Exception {
    List<OffsetRange> ranges = plan();
    List<String> lines = read(ranges);
    commit(ranges);
    return lines;
  }

  double functionCounter(String name) {
    return registry.get(name).functionCounter().count();
  }

  double gauge(String name) {
    return registry.get(name).gauge().value();
  }
}
