package io.tributary.core.runtime;

import io.tributary.core.api.Record;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A per-batch transform ({@code transform} of Spark): gets the whole batch, returns the records to
 * pass on. Must be deterministic (a replayed batch must give the same output) for exactly-once
 * sinks to stay exactly-once.
 *
 * <p>Memory: a pipeline with a whole-batch transform holds each batch in memory at once. Per-record
 * transforms made with {@link #perRecord(Function)} (what {@code map}, {@code filter} and {@code
 * flatMap} of {@link Pipeline.Builder} use) are applied to each chunk as it is read, so batches
 * stream through in bounded memory.
 */
@FunctionalInterface
public interface BatchTransform {
  List<Record> apply(long batchId, List<Record> records) throws Exception;

  /**
   * Whether the transform treats every record on its own, so that it may be applied chunk by chunk.
   */
  default boolean perRecord() {
    return false;
  }

  /** A transform of each record into zero or more records; applied chunk by chunk. */
  static BatchTransform perRecord(Function<Record, ? extends Iterable<Record>> fn) {
    return new BatchTransform() {
      @Override
      public List<Record> apply(long batchId, List<Record> records) {
        List<Record> out = new ArrayList<>(records.size());
        for (Record r : records) {
          for (Record o : fn.apply(r)) {
            out.add(o);
          }
        }
        return out;
      }

      @Override
      public boolean perRecord() {
        return true;
      }
    };
  }
}
