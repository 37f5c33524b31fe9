package io.tributary.core.internal.checkpoint;

import java.util.Map;

/**
 * The content of the checkpoint's {@code positions} file: a receiver's stored position per
 * partition as of the end of batch {@code batchId}'s plan. Together with the {@code positions} of
 * every {@code offsets/N} after {@code batchId} (each holds only the partitions of its own blocks)
 * and the write-ahead log, it gives every position the receiver stored.
 *
 * <p>Why a separate file: {@code offsets/N} is rewritten every batch, so it holds only that batch's
 * partitions and stays small however many partitions exist. This file is rewritten only every few
 * batches (and holds only partitions that did not expire), and {@link CheckpointLog#purgeBefore}
 * keeps every {@code offsets/N} newer than it.
 *
 * @param version format version ({@link #FORMAT_VERSION})
 * @param source the receiver's name
 * @param batchId the last batch whose planned blocks are included
 * @param positions per partition, the highest stored offset and when it was last stored
 */
public record ReceiverPositions(
    int version, String source, long batchId, Map<String, Position> positions) {
  public static final int FORMAT_VERSION = 1;

  /**
   * @param offset the highest stored offset
   * @param storedMs wall-clock time (epoch ms) of the last store seen for the partition; it expires
   *     from there
   */
  public record Position(long offset, long storedMs) {
    /** The later of two positions of one partition: the higher offset and the later store time. */
    public Position max(Position other) {
      return new Position(Math.max(offset, other.offset), Math.max(storedMs, other.storedMs));
    }
  }

  public ReceiverPositions {
    positions = positions == null ? Map.of() : Map.copyOf(positions);
  }
}
