package io.tributary.core.sinks;

import io.tributary.core.api.AtLeastOnceSink;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkContext;
import io.tributary.core.runtime.BatchFunction;
import java.util.List;
import java.util.Objects;

/**
 * Runs a user function per batch. At-least-once: after a crash the last batch is passed again with
 * the same id and records, so the function can make itself idempotent on the batch id.
 *
 * <p>Thread safety: called from the batch thread only.
 */
public final class ForeachBatchSink implements AtLeastOnceSink {
  private final BatchFunction fn;

  public ForeachBatchSink(BatchFunction fn) {
    this.fn = Objects.requireNonNull(fn);
  }

  @Override
  public void open(SinkContext context) {}

  @Override
  public void write(long batchId, List<Record> records) throws Exception {
    fn.apply(batchId, records);
  }

  @Override
  public void close() {}
}
