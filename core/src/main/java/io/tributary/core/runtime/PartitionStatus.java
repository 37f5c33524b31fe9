package io.tributary.core.runtime;

import java.util.OptionalLong;

/**
 * Where one partition (a Kafka partition, a file, a receiver's WAL blocks) of a running pipeline
 * stands.
 *
 * <p>Thread safety: immutable.
 *
 * @param partition the partition id as in {@code offsets/N}
 * @param committedPosition the position up to which batches are committed (the {@code until} of the
 *     partition's range in the last committed batch), or {@code null} before the first commit
 * @param latestPosition the latest position the source says is available, or {@code null} when the
 *     source cannot tell (receivers, sources whose end is known only by reading)
 * @param lag records available but not committed yet, when the source can tell
 * @param millisBehindLatest how far in time the source's last read of the partition was behind its
 *     newest record, when the source tells ({@link io.tributary.core.api.ReportsTimeLag}); -1
 *     before its first read
 */
public record PartitionStatus(
    String partition,
    String committedPosition,
    String latestPosition,
    OptionalLong lag,
    OptionalLong millisBehindLatest) {
  /** Without a time lag (the source does not report one). */
  public PartitionStatus(
      String partition, String committedPosition, String latestPosition, OptionalLong lag) {
    this(partition, committedPosition, latestPosition, lag, OptionalLong.empty());
  }
}
