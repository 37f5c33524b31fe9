package io.tributary.core.internal;

import io.tributary.core.api.PackedRecords;
import io.tributary.core.api.Position;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
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

  private BlockCodec() {}

  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  public static byte[] encode(long seq, List<Record> records) {
    if (records instanceof PackedRecords packed
        && !packed.isEmpty()
        && !(packed.source().isEmpty() && packed.partition().isEmpty())) {
      return encodePacked(seq, packed);
    }
    // First pass: a table of the distinct strings (sources, partitions, header names) and the exact
    // size, so the block is written into one array without growing it and without repeating
    // strings per record.
    StringTable strings = new StringTable();
    long size = 4 + 8 + 4 + 4;
    for (int i = 0, n = records.size(); i < n; i++) {
      Record r = records.get(i);
      SourcePosition p = r.position();
      size += 4 + (r.key() == null ? 0 : r.key().length) + 4 + r.value().length + 8 + 4 + 4 + 4 + 8;
      strings.index(p.source());
      strings.index(p.partition());
      if (!p.isNone() && !p.position().isLong()) {
        size += 4;
        strings.index(p.position().toString());
      }
      Map<String, byte[]> headers = r.headers();
      if (!headers.isEmpty()) {
        for (Map.Entry<String, byte[]> h : headers.entrySet()) {
          size += 4 + 4 + (h.getValue() == null ? 0 : h.getValue().length);
          strings.index(h.getKey());
        }
      }
    }
    size += strings.bytes;
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(
          "Block of " + records.size() + " records is too large: " + size + " bytes");
    }
    ByteBuffer out = ByteBuffer.allocate((int) size);
    out.putInt(FORMAT).putLong(seq).putInt(strings.utf8.size());
    for (byte[] b : strings.utf8) {
      out.putInt(b.length).put(b);
    }
    out.putInt(records.size());
    for (int i = 0, n = records.size(); i < n; i++) {
      Record r = records.get(i);
      putBytes(out, r.key());
      putBytes(out, r.value());
      out.putLong(r.timestamp());
      Map<String, byte[]> headers = r.headers();
      out.putInt(headers.size());
      if (!headers.isEmpty()) {
        for (Map.Entry<String, byte[]> h : headers.entrySet()) {
          out.putInt(strings.index(h.getKey()));
          putBytes(out, h.getValue());
        }
      }
      SourcePosition p = r.position();
      out.putInt(strings.index(p.source())).putInt(strings.index(p.partition()));
      if (p.isNone()) {
        out.putLong(NO_POSITION);
      } else if (p.position().isLong()) {
        out.putLong(p.position().toLong());
      } else {
        out.putLong(TEXT_POSITION).putInt(strings.index(p.position().toString()));
      }
    }
    return out.array();
  }

  /**
   * The same bytes as the general path, from the columns: the strings (source, partition, header
   * names) and the header section are the same for every record, so they are encoded once, and the
   * values are copied straight from the packed arrays (no {@link Record} per line).
   */
  private static byte[] encodePacked(long seq, PackedRecords records) {
    StringTable strings = new StringTable();
    int sourceIndex = strings.index(records.source());
    int partitionIndex = strings.index(records.partition());
    Map<String, byte[]> headers = records.headers();
    // The header section of every record: [int count] then [int name][int length][bytes] each.
    int headerSection = 4;
    for (Map.Entry<String, byte[]> h : headers.entrySet()) {
      headerSection += 4 + 4 + (h.getValue() == null ? 0 : h.getValue().length);
    }
    byte[] headerBytes = new byte[headerSection];
    int hp = 0;
    INT.set(headerBytes, hp, headers.size());
    hp += 4;
    for (Map.Entry<String, byte[]> h : headers.entrySet()) {
      INT.set(headerBytes, hp, strings.index(h.getKey()));
      hp += 4;
      byte[] v = h.getValue();
      if (v == null) {
        INT.set(headerBytes, hp, -1);
        hp += 4;
      } else {
        INT.set(headerBytes, hp, v.length);
        System.arraycopy(v, 0, headerBytes, hp + 4, v.length);
        hp += 4 + v.length;
      }
    }
    int n = records.size();
    long valueBytes = records.valueBytes();
    long size =
        4
            + 8
            + 4
            + strings.bytes
            + 4
            + valueBytes
            + (long) n * (4 + 4 + 8 + headerSection + 4 + 4 + 8);
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(
          "Block of " + n + " records is too large: " + size + " bytes");
    }
    byte[] out = new byte[(int) size];
    int[] pos = {0};
    int p = 0;
    INT.set(out, p, FORMAT);
    LONG.set(out, p + 4, seq);
    INT.set(out, p + 12, strings.utf8.size());
    p += 16;
    for (byte[] b : strings.utf8) {
      INT.set(out, p, b.length);
      System.arraycopy(b, 0, out, p + 4, b.length);
      p += 4 + b.length;
    }
    INT.set(out, p, n);
    pos[0] = p + 4;
    records.forEachValue(
        (array, start, end, offset, ts) -> {
          int q = pos[0];
          int len = end - start;
          INT.set(out, q, -1); // no key
          INT.set(out, q + 4, len);
          System.arraycopy(array, start, out, q + 8, len);
          q += 8 + len;
          LONG.set(out, q, ts);
          System.arraycopy(headerBytes, 0, out, q + 8, headerBytes.length);
          q += 8 + headerBytes.length;
          INT.set(out, q, sourceIndex);
          INT.set(out, q + 4, partitionIndex);
          LONG.set(out, q + 8, offset);
          pos[0] = q + 16;
        });
    if (pos[0] != out.length) {
      throw new IllegalStateException(
          "Block " + seq + ": encoded " + pos[0] + " bytes, sized " + out.length);
    }
    return out;
  }

  /**
   * The block's string table: index by first appearance. Records of a block mostly carry the same
   * {@code String} instances (one source, one partition, the same header names), so a small cache
   * of the last strings seen, compared by identity, answers most look-ups without hashing.
   */
  private static final class StringTable {
    private static final int RECENT = 4;
    private final Map<String, Integer> indexes = new HashMap<>();
    private final List<byte[]> utf8 = new ArrayList<>();
    private final String[] recent = new String[RECENT];
    private final int[] recentIndex = new int[RECENT];
    private int nextRecent;

    /** Size of the table's entries ({@code [int length][bytes]} each). */
    private long bytes;

    int index(String s) {
      for (int i = 0; i < RECENT; i++) {
        if (recent[i] == s && s != null) {
          return recentIndex[i];
        }
      }
      Integer known = indexes.get(s);
      int index;
      if (known != null) {
        index = known;
      } else {
        index = utf8.size();
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        indexes.put(s, index);
        utf8.add(b);
        bytes += 4 + b.length;
      }
      recent[nextRecent] = s;
      recentIndex[nextRecent] = index;
      nextRecent = (nextRecent + 1) % RECENT;
      return index;
    }
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
