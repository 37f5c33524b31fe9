package io.tributary.core.api;

import java.util.Map;

/**
 * Mix-in for a source that knows, per partition, how far in time its reading is behind the newest
 * record (Kinesis {@code MillisBehindLatest}). The runtime shows it in the pipeline's status
 * ({@code millisBehindLatest} of each partition in the admin API's JSON and on the status page).
 *
 * <p>Thread safety: {@link #millisBehindLatest()} is called from any thread (the admin server's),
 * concurrently with the batch; it must not block.
 */
public interface ReportsTimeLag {
  /**
   * Milliseconds behind the newest record per partition, as of the source's last read of it; -1 for
   * a partition not read yet. Partitions the source does not read now (another instance's lease)
   * are absent.
   */
  Map<String, Long> millisBehindLatest();
}
