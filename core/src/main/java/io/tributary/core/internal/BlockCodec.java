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
 * (positions beyond 64 bits or with a sub-sequence). That is format 2; a block stored as {@link
 * PackedRecords} is written in format 3 ({@link #encodePacked}), which holds what its records share
 * once. Both are read back. Integrity is the WAL's job (CRC32C per entry).
 *
 * <p>Thread safety: stateless.
 */
public final class BlockCodec {
  static final int FORMAT = 2;

  /** A block written from {@link PackedRecords}; see {@link #encodePacked}. */
  static final int PACKED_FORMAT = 3;

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
    if (records instanceof PackedRecords packed && !packed.isEmpty()) {
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
   * Format 3, a packed block: what every record shares once, then runs of records with consecutive
   * offsets and one timestamp, then each value as {@code [int length][bytes]}:
   *
   * <pre>
   * [int 3][long seq][int strings]([int length][UTF-8])* [int header count]([int name][int length
   * or -1][bytes])* [int source][int partition][int runs]([long first offset][long timestamp][int
   * count])* [int n]([int length][bytes])*
   * </pre>
   *
   * About 4 bytes per record beyond its value instead of ~60 in format 2 (key, timestamp, headers,
   * source, partition and offset per record), so the WAL writer encodes, checksums, copies, writes
   * and fsyncs a third less; it decodes back into a {@link PackedRecords} over the entry's bytes.
   */
  private static byte[] encodePacked(long seq, PackedRecords records) {
    StringTable strings = new StringTable();
    int sourceIndex = strings.index(records.source());
    int partitionIndex = strings.index(records.partition());
    Map<String, byte[]> headers = records.headers();
    int headerSection = 4;
    for (Map.Entry<String, byte[]> h : headers.entrySet()) {
      strings.index(h.getKey());
      headerSection += 4 + 4 + (h.getValue() == null ? 0 : h.getValue().length);
    }
    int[] runs = {0};
    long[] last = {Long.MIN_VALUE, Long.MIN_VALUE}; // offset, timestamp of the previous record
    records.forEachValue(
        (array, start, end, offset, ts) -> {
          if (offset != last[0] + 1 || ts != last[1] || last[0] == Long.MIN_VALUE) {
            runs[0]++;
          }
          last[0] = offset;
          last[1] = ts;
        });
    int n = records.size();
    long size =
        4
            + 8
            + 4
            + strings.bytes
            + headerSection
            + 4
            + 4
            + 4
            + (long) runs[0] * (8 + 8 + 4)
            + 4
            + 4L * n
            + records.valueBytes();
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(
          "Block of " + n + " records is too large: " + size + " bytes");
    }
    byte[] out = new byte[(int) size];
    int p = 0;
    INT.set(out, p, PACKED_FORMAT);
    LONG.set(out, p + 4, seq);
    INT.set(out, p + 12, strings.utf8.size());
    p += 16;
    for (byte[] b : strings.utf8) {
      INT.set(out, p, b.length);
      System.arraycopy(b, 0, out, p + 4, b.length);
      p += 4 + b.length;
    }
    INT.set(out, p, headers.size());
    p += 4;
    for (Map.Entry<String, byte[]> h : headers.entrySet()) {
      INT.set(out, p, strings.index(h.getKey()));
      byte[] v = h.getValue();
      if (v == null) {
        INT.set(out, p + 4, -1);
        p += 8;
      } else {
        INT.set(out, p + 4, v.length);
        System.arraycopy(v, 0, out, p + 8, v.length);
        p += 8 + v.length;
      }
    }
    INT.set(out, p, sourceIndex);
    INT.set(out, p + 4, partitionIndex);
    INT.set(out, p + 8, runs[0]);
    p += 12;
    // Run table, then the values: both written in one pass (the run's count is patched when it
    // ends).
    int[] at = {p, p + runs[0] * (8 + 8 + 4) + 4, -1}; // run cursor, value cursor, open run
    INT.set(out, at[1] - 4, n);
    last[0] = Long.MIN_VALUE;
    last[1] = Long.MIN_VALUE;
    records.forEachValue(
        (array, start, end, offset, ts) -> {
          if (offset != last[0] + 1 || ts != last[1] || last[0] == Long.MIN_VALUE) {
            int r = at[0];
            LONG.set(out, r, offset);
            LONG.set(out, r + 8, ts);
            INT.set(out, r + 16, 0);
            at[2] = r + 16;
            at[0] = r + 20;
          }
          INT.set(out, at[2], (int) INT.get(out, at[2]) + 1);
          last[0] = offset;
          last[1] = ts;
          int q = at[1];
          int len = end - start;
          INT.set(out, q, len);
          System.arraycopy(array, start, out, q + 4, len);
          at[1] = q + 4 + len;
        });
    if (at[1] != out.length) {
      throw new IllegalStateException(
          "Block " + seq + ": encoded " + at[1] + " bytes, sized " + out.length);
    }
    return out;
  }

  private static Block decodePacked(byte[] data) {
    ByteBuffer in = ByteBuffer.wrap(data);
    in.getInt(); // the format, checked by the caller
    long seq = in.getLong();
    String[] strings = new String[in.getInt()];
    for (int i = 0; i < strings.length; i++) {
      byte[] b = new byte[in.getInt()];
      in.get(b);
      strings[i] = new String(b, StandardCharsets.UTF_8);
    }
    int headerCount = in.getInt();
    @SuppressWarnings("unchecked")
    Map.Entry<String, byte[]>[] entries = new Map.Entry[headerCount];
    for (int h = 0; h < headerCount; h++) {
      String name = strings[in.getInt()];
      byte[] value = getBytes(in);
      entries[h] = Map.entry(name, value == null ? new byte[0] : value);
    }
    Map<String, byte[]> headers = Map.ofEntries(entries);
    String source = strings[in.getInt()];
    String partition = strings[in.getInt()];
    int runCount = in.getInt();
    long[] runOffset = new long[runCount];
    long[] runTimestamp = new long[runCount];
    int[] runLength = new int[runCount];
    for (int r = 0; r < runCount; r++) {
      runOffset[r] = in.getLong();
      runTimestamp[r] = in.getLong();
      runLength[r] = in.getInt();
    }
    int n = in.getInt();
    PackedRecords.Builder records = new PackedRecords.Builder(source, partition, headers, n);
    int total = 0;
    for (int r = 0; r < runCount; r++) {
      int k = runLength[r];
      int[] starts = new int[k];
      int[] ends = new int[k];
      for (int i = 0; i < k; i++) {
        int len = in.getInt();
        if (len < 0 || len > in.remaining()) {
          throw new IllegalArgumentException(
              "Truncated or malformed packed block " + seq + ": value of " + len + " bytes");
        }
        int start = in.position();
        in.position(start + len); // the values stay in the entry's array
        starts[i] = start;
        ends[i] = start + len;
      }
      records.add(data, starts, ends, k, runOffset[r], runTimestamp[r]);
      total += k;
    }
    if (total != n || in.hasRemaining()) {
      throw new IllegalArgumentException(
          "Malformed packed block " + seq + ": " + total + " records in runs, " + n + " declared");
    }
    return new Block(seq, records.build());
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
      if (format == PACKED_FORMAT) {
        return decodePacked(data);
      }
      if (format != FORMAT) {
        throw new IllegalArgumentException(
            "Unknown block format "
                + format
                + " (expected "
                + FORMAT
                + " or "
                + PACKED_FORMAT
                + ")");
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
