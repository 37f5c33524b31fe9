package io.tributary.core.internal;

import io.tributary.core.api.Position;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binary form of a receiver block as stored in the write-ahead log: {@code [int format][long seq]},
 * a table of the distinct strings (sources, partitions, header names), {@code [int n]}, then per
 * record key, value, timestamp, headers and position, strings referenced by index. A position is a
 * {@code long} offset, {@code -1} for none, or {@code -2} followed by the index of its text form
 * (positions beyond 64 bits or with a sub-sequence). Integrity is the WAL's job (CRC32C per entry).
 *
 * <p>Thread safety: stateless.
 */
public final class BlockCodec {
  static final int FORMAT = 2;

  /** Offset field of a record without a position. */
  private static final long NO_POSITION = -1L;

  /**
   * Offset field of a position that is not a plain {@code long}: an index into the string table
   * follows.
   */
  private static final long TEXT_POSITION = -2L;

  /** A decoded block. */
  public record Block(long seq, List<Record> records) {}

  /**
   * A block encoded before its sequence number is known. Encoding is the expensive part and runs
   * outside the supervisor's lock; numbering (which must follow WAL order) runs under it and only
   * writes the 8 bytes of the seq.
   *
   * <p>Thread safety: not thread-safe; {@link #numbered} is called once, by the thread that appends
   * the block.
   */
  public static final class Unnumbered {
    private final byte[] bytes;

    private Unnumbered(byte[] bytes) {
      this.bytes = bytes;
    }

    /**
     * The block's bytes with {@code seq} written into its header (the array is reused, not copied).
     */
    public byte[] numbered(long seq) {
      ByteBuffer.wrap(bytes).putLong(SEQ_OFFSET, seq);
      return bytes;
    }
  }

  private static final int SEQ_OFFSET = 4;

  private BlockCodec() {}

  /**
   * Encodes {@code records} now; the sequence number is set later with {@link
   * Unnumbered#numbered(long)}.
   */
  public static Unnumbered encodeUnnumbered(List<Record> records) {
    return new Unnumbered(encode(0, records));
  }

  public static byte[] encode(long seq, List<Record> records) {
    // First pass: a table of the distinct strings (sources, partitions, header names) and the exact
    // size, so the
    // block is written into one array without growing it and without repeating strings per record.
    Map<String, Integer> strings = new LinkedHashMap<>();
    long size = 4 + 8 + 4 + 4;
    for (Record r : records) {
      SourcePosition p = r.position();
      size += 4 + (r.key() == null ? 0 : r.key().length) + 4 + r.value().length + 8 + 4 + 4 + 4 + 8;
      size += stringSize(strings, p.source()) + stringSize(strings, p.partition());
      if (!p.isNone() && !p.position().isLong()) {
        size += 4 + stringSize(strings, p.position().toString());
      }
      for (Map.Entry<String, byte[]> h : r.headers().entrySet()) {
        size +=
            4
                + 4
                + (h.getValue() == null ? 0 : h.getValue().length)
                + stringSize(strings, h.getKey());
      }
    }
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(
          "Block of " + records.size() + " records is too large: " + size + " bytes");
    }
    ByteBuffer out = ByteBuffer.allocate((int) size);
    out.putInt(FORMAT).putLong(seq).putInt(strings.size());
    for (String str : strings.keySet()) {
      byte[] b = str.getBytes(StandardCharsets.UTF_8);
      out.putInt(b.length).put(b);
    }
    out.putInt(records.size());
    for (Record r : records) {
      putBytes(out, r.key());
      putBytes(out, r.value());
      out.putLong(r.timestamp());
      out.putInt(r.headers().size());
      for (Map.Entry<String, byte[]> h : r.headers().entrySet()) {
        out.putInt(strings.get(h.getKey()));
        putBytes(out, h.getValue());
      }
      SourcePosition p = r.position();
      out.putInt(strings.get(p.source())).putInt(strings.get(p.partition()));
      if (p.isNone()) {
        out.putLong(NO_POSITION);
      } else if (p.position().isLong()) {
        out.putLong(p.position().toLong());
      } else {
        out.putLong(TEXT_POSITION).putInt(strings.get(p.position().toString()));
      }
    }
    return out.array();
  }

  private static int stringSize(Map<String, Integer> strings, String s) {
    if (strings.containsKey(s)) {
      return 0;
    }
    strings.put(s, strings.size());
    return 4 + s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static void putBytes(ByteBuffer out, byte[] b) {
    if (b == null) {
      out.putInt(-1);
    } else {
      out.putInt(b.length).put(b);
    }
  }

  /**
   * @throws IllegalArgumentException when the bytes are not a block of a known format
   */
  public static Block decode(byte[] data) {
    try {
      ByteBuffer in = ByteBuffer.wrap(data);
      int format = in.getInt();
      if (format != FORMAT) {
        throw new IllegalArgumentException(
            "Unknown block format " + format + " (expected " + FORMAT + ")");
      }
      long seq = in.getLong();
      String[] strings = new String[in.getInt()];
      for (int i = 0; i < strings.length; i++) {
        byte[] b = new byte[in.getInt()];
        in.get(b);
        strings[i] = new String(b, StandardCharsets.UTF_8);
      }
      int n = in.getInt();
      List<Record> records = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        byte[] key = getBytes(in);
        byte[] value = getBytes(in);
        long ts = in.getLong();
        int nh = in.getInt();
        Map<String, byte[]> headers = nh == 0 ? Map.of() : new LinkedHashMap<>();
        for (int h = 0; h < nh; h++) {
          String name = strings[in.getInt()];
          headers.put(name, getBytes(in));
        }
        String source = strings[in.getInt()];
        String partition = strings[in.getInt()];
        long offset = in.getLong();
        SourcePosition pos;
        if (offset == NO_POSITION) {
          pos =
              source.isEmpty() && partition.isEmpty()
                  ? SourcePosition.NONE
                  : new SourcePosition(source, partition, 0);
        } else if (offset == TEXT_POSITION) {
          pos = new SourcePosition(source, partition, Position.parse(strings[in.getInt()]));
        } else {
          pos = new SourcePosition(source, partition, offset);
        }
        records.add(new Record(key, value, ts, headers, pos));
      }
      return new Block(seq, records);
    } catch (java.nio.BufferUnderflowException
        | IndexOutOfBoundsException
        | NegativeArraySizeException e) {
      throw new IllegalArgumentException("Truncated or malformed block: " + e, e);
    }
  }

  private static byte[] getBytes(ByteBuffer in) {
    int len = in.getInt();
    if (len < 0) {
      return null;
    }
    byte[] b = new byte[len];
    in.get(b);
    return b;
  }
}
