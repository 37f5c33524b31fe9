package io.tributary.connector.file.source;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.file.FileSource;
import io.tributary.connector.file.FileSourceOptions;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.internal.checkpoint.ScopedCheckpointStorage;
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
final class SourceHarness implements AutoCloseable {
  final FileSource source;
  final MeterRegistry registry = new SimpleMeterRegistry();
  final CheckpointStorage checkpoint;

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
    this.checkpoint = new LocalCheckpointStorage(checkpointDir);
    this.positions = positions;
    Map<String, Object> o = new HashMap<>(options);
    o.putIfAbsent("stable-for", "0s");
    this.source = new FileSource(FileSourceOptions.SPEC.parse(o), clock);
    source.open(
        new SourceContext() {
          @Override
          public String pipelineId() {
            return "p";
          }

          @Override
          public String sourceName() {
            return "files";
          }

          @Override
          public MeterRegistry meterRegistry() {
            return registry;
          }

          @Override
          public CheckpointStorage stateStorage() {
            return new ScopedCheckpointStorage(checkpoint, "sources/files");
          }
        });
  }

  SourceHarness(Map<String, ?> options, Path checkpointDir) throws Exception {
    this(options, checkpointDir, new HashMap<>());
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

  List<String> read(List<OffsetRange> ranges) throws Exception {
    List<String> out = new ArrayList<>();
    for (Record r : readRecords(ranges)) {
      out.add(r.valueAsString());
    }
    return out;
  }

  List<Record> readRecords(List<OffsetRange> ranges) throws Exception {
    List<Record> out = new ArrayList<>();
    for (OffsetRange r : ranges) {
      try (CloseableIterator<Record> it = source.read(r)) {
        it.forEachRemaining(out::add);
      }
    }
    return out;
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

  double counter(String name) {
    return registry.get(name).counter().count();
  }

  double functionCounter(String name) {
    return registry.get(name).functionCounter().count();
  }

  double gauge(String name) {
    return registry.get(name).gauge().value();
  }

  @Override
  public void close() {
    source.close();
  }
}
