package io.tributary.core.runtime;

import io.tributary.core.api.Record;
import java.util.List;

/**
 * A per-batch transform ({@code transform} of Spark): gets the whole batch, returns the records to pass on. Must be
 * deterministic (a replayed batch must give the same output) for exactly-once sinks to stay exactly-once.
 */
@FunctionalInterface
public interface BatchTransform {
  List<Record> apply(long batchId, List<Record> records) throws Exception;
}
