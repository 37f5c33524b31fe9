package io.tributary.core.internal.wal;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The on-disk format of WAL segments, and a streaming scanner over them.
 *
 * <pre>
 * segment = header frame*
 * header  = int magic ("TWAL") , int formatVersion (1)              8 bytes, big-endian
 * frame   = int length (1..MAX_ENTRY_BYTES) , int crc32c(payload) , payload[length]
 * </pre>
 *
 * <p>Zero-length payloads are not allowed, so a zero-filled tail (left by some file systems after a
 * crash) never parses as valid entries.
 *
 * <p>Thread safety: stateless; every method is safe to call from any thread.
 */
final class WalFormat {
  static final int MAGIC = 0x5457414C; // "TWAL"
  static final int VERSION = 1;
  static final int HEADER_BYTES = 8;
  static final int FRAME_HEADER_BYTES = 8;

  /** Largest payload accepted; a length field above it is "impossible" and marks corruption. */
  static final int MAX_ENTRY_BYTES = 1 << 30;

  static final String WHAT_TO_DO =
      "Restore the segment from backup, or move it aside to accept losing its records, then restart.";

  private static final Pattern SEGMENT_NAME = Pattern.compile("wal-(\\d{20})\\.log");

  private WalFormat() {}

  static String fileName(long segmentId) {
    return String.format("wal-%020d.log", segmentId);
  }

  /** The segment id of a file name, or -1 when the name is not a segment's. */
  static long parseSegmentId(String fileName) {
    Matcher m = SEGMENT_NAME.matcher(fileName);
    if (!m.matches()) {
      return -1;
    }
    try {
      return Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return -1; // 20 digits can exceed Long.MAX_VALUE; such a file is not ours
    }
  }

  static ByteBuffer header() {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
    b.putInt(MAGIC).putInt(VERSION).flip();
    return b;
  }

  static int crc(byte[] payload) {
    CRC32C crc = new CRC32C();
    crc.update(payload, 0, payload.length);
    return (int) crc.getValue();
  }

  static WalCorruptedException corrupted(Path file, long offset, String what) {
    return new WalCorruptedException(
        "WAL segment "
            + file
            + " is corrupted at byte offset "
            + offset
            + ": "
            + what
            + ". "
            + WHAT_TO_DO,
        file,
        offset);
  }

  /**
   * Checks the 8 header bytes read from {@code file}; throws when they are not a supported segment
   * header.
   */
  static void checkHeader(Path file, ByteBuffer header) {
    int magic = header.getInt(0);
    int version = header.getInt(4);
    if (magic != MAGIC) {
      throw corrupted(
          file,
          0,
          String.format(
              "wrong magic number 0x%08X (expected 0x%08X: not a Tributary WAL segment)",
              magic, MAGIC));
    }
    if (version != VERSION) {
      throw new WalCorruptedException(
          "WAL segment "
              + file
              + " has format version "
              + version
              + " but this Tributary reads only version "
              + VERSION
              + " (byte offset 4). Run the Tributary version that wrote it, or move the segment aside to accept"
              + " losing its records, then restart.",
          file,
          4);
    }
  }

  /**
   * Outcome of {@link #scan}: where the valid frames end, and why scanning stopped early if it did.
   */
  record ScanResult(long validEnd, long entries, String tornReason) {
    boolean torn() {
      return tornReason != null;
    }
  }

  /**
   * Reads the frames of one segment from {@link #HEADER_BYTES} up to {@code limit}, verifying every
   * checksum. The header must have been checked by the caller.
   *
   * @param tolerateTornTail true for the last segment at recovery: an incomplete last frame, a
   *     final frame with a bad checksum that ends exactly at {@code limit}, or a zero-filled tail
   *     ends the scan with a torn result instead of an exception
   * @param consumer receives every valid entry in order, or null to only validate
   * @throws WalCorruptedException for any damage that is not a torn tail
   */
  static ScanResult scan(
      FileChannel channel,
      Path file,
      long segmentId,
      long limit,
      boolean tolerateTornTail,
      Consumer<WalEntry> consumer)
      throws IOException {
    // The caller passes a channel of its own: reading moves the channel's position.
    channel.position(HEADER_BYTES);
    DataInputStream in =
        new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), 64 * 1024));
    long pos = HEADER_BYTES;
    long entries = 0;
    while (pos < limit) {
      long remaining = limit - pos;
      if (remaining < FRAME_HEADER_BYTES) {
        String what = "incomplete frame header (" + remaining + " bytes left)";
        if (tolerateTornTail) {
          return new ScanResult(pos, entries, what);
        }
        throw corrupted(file, pos, what + " in a segment that is not the last one");
      }
      int length = in.readInt();
      int storedCrc = in.readInt();
      long afterHeader = remaining - FRAME_HEADER_BYTES;
      if (length < 1 || length > MAX_ENTRY_BYTES) {
        if (tolerateTornTail && afterHeader == 0) {
          return new ScanResult(
              pos, entries, "impossible frame length " + length + " at the end of the file");
        }
        if (tolerateTornTail && length == 0 && storedCrc == 0 && restIsZero(in, afterHeader)) {
          return new ScanResult(pos, entries, "zero-filled tail");
        }
        throw corrupted(file, pos, "impossible frame length " + length + " followed by more data");
      }
      if (length > afterHeader) {
        String what =
            "incomplete frame (length " + length + ", only " + afterHeader + " bytes follow)";
        if (tolerateTornTail) {
          return new ScanResult(pos, entries, what);
        }
        throw corrupted(file, pos, what + " in a segment that is not the last one");
      }
      byte[] payload = new byte[length];
      try {
        in.readFully(payload);
      } catch (EOFException e) {
        // The file shrank under us (someone truncated it by hand).
        throw corrupted(file, pos, "file ended while reading a frame of " + length + " bytes");
      }
      int actualCrc = crc(payload);
      if (actualCrc != storedCrc) {
        String what =
            String.format(
                "checksum mismatch (stored 0x%08X, computed 0x%08X)", storedCrc, actualCrc);
        if (tolerateTornTail && length == afterHeader) {
          return new ScanResult(pos, entries, what + " in the final frame");
        }
        throw corrupted(file, pos, what + " in a frame followed by more data");
      }
      if (consumer != null) {
        consumer.accept(new WalEntry(new WalHandle(segmentId, pos, length), payload));
      }
      entries++;
      pos += FRAME_HEADER_BYTES + length;
    }
    return new ScanResult(pos, entries, null);
  }

  private static boolean restIsZero(InputStream in, long bytes) throws IOException {
    byte[] buf = new byte[8192];
    long left = bytes;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        return true;
      }
      for (int i = 0; i < n; i++) {
        if (buf[i] != 0) {
          return false;
        }
      }
      left -= n;
    }
    return true;
  }
}
