package io.tributary.connector.file.testing;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.internal.checkpoint.ScopedCheckpointStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the test harnesses of this module's direct sources share: the source opened as the runtime
 * opens it (pipeline {@code p}, a simple meter registry, its state under {@code sources/<name>} of
 * a local checkpoint directory, so a new harness on the same directory is a restart), reading
 * planned ranges, counters. Subclasses plan as their source needs.
 *
 * <p>Thread safety: none; one test thread.
 */
public abstract class DirectSourceHarness<S extends DirectSource> implements AutoCloseable {
  public final S source;
  public final MeterRegistry registry = new SimpleMeterRegistry();
  public final CheckpointStorage checkpoint;

  /** Opens {@code source} with its state in {@code checkpointDir} under {@code sourceName}. */
  protected DirectSourceHarness(S source, Path checkpointDir, String sourceName) throws Exception {
    this.checkpoint = new LocalCheckpointStorage(checkpointDir);
    this.source = source;
    source.open(
        new SourceContext() {
          @Override
          public String pipelineId() {
            return "p";
          }

          @Override
          public String sourceName() {
            return sourceName;
          }

          @Override
          public MeterRegistry meterRegistry() {
            return registry;
          }

          @Override
          public CheckpointStorage stateStorage() {
            return new ScopedCheckpointStorage(checkpoint, "sources/" + sourceName);
          }
        });
  }

  /** The values of the records of {@code ranges}, as strings, in plan order. */
  public List<String> read(List<OffsetRange> ranges) throws Exception {
    List<String> out = new ArrayList<>();
    for (Record r : records(ranges)) {
      out.add(r.valueAsString());
    }
    return out;
  }

  /** The records of {@code ranges}, in plan order. */
  public List<Record> records(List<OffsetRange> ranges) throws Exception {
    List<Record> out = new ArrayList<>();
    for (OffsetRange r : ranges) {
      try (CloseableIterator<Record> it = source.read(r)) {
        it.forEachRemaining(out::add);
      }
    }
    return out;
  }

  public double counter(String name) {
    return registry.get(name).counter().count();
  }

  @Override
  public void close() {
    try {
      source.close();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("closing " + source, e);
    }
  }
}
