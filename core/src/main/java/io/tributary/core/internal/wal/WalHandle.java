package io.tributary.core.internal.wal;

/**
 * Where one write-ahead log entry lives: the segment, the byte offset of the entry's frame (its
 * length field) in that segment file, and the payload length. Handles are small values meant to be
 * written into a batch plan ({@code offsets/<batchId>}) and passed back to {@link
 * WriteAheadLog#read(WalHandle)} after a restart.
 *
 * <p>Thread safety: immutable.
 *
 * @param segmentId id of the segment file {@code wal-<segmentId as 20 digits>.log}
 * @param position byte offset of the entry's frame header within the segment file
 * @param length payload length in bytes (the frame is {@code 8 + length} bytes long)
 */
public record WalHandle(long segmentId, long position, int length) {
  public WalHandle {
    if (segmentId < 0) {
      throw new IllegalArgumentException(
          "Invalid value " + segmentId + " for segmentId (expected: >= 0)");
    }
    if (position < 0) {
      throw new IllegalArgumentException(
          "Invalid value " + position + " for position (expected: >= 0)");
    }
    if (length < 0) {
      throw new IllegalArgumentException(
          "Invalid value " + length + " for length (expected: >= 0)");
    }
  }
}
