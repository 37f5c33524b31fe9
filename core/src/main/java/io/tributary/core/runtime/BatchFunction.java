package io.tributary.core.runtime;

import io.tributary.core.api.Record;
import java.util.List;

/**
 * A per-batch output operation ({@code foreachBatch}). Called on the batch thread with the batch
 * id, which is the same when a batch is replayed after a crash: use it to make the operation
 * idempotent.
 */
@FunctionalInterface
public interface BatchFunction {
  void apply(long batchId, List<Record> records) throws Exception;
}
