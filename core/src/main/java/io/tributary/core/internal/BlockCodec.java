package io.tributary.core.internal;

import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binary form of a receiver block as stored in the write-ahead log: {@code [int format][long seq][int n]} then per
 * record key, value, timestamp, headers and position. Integrity is the WAL's job (CRC32C per entry).
 *
 * <p>Thread safety: stateless.
 */
public final class BlockCodec {
  static final int FORMAT = 1;

  /** A decoded block. */
  public record Block(long seq, List<Record> records) {}

  private BlockCodec() {}

  public static byte[] encode(long seq, List<Record> records) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + records.size() * 64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(FORMAT);
      out.writeLong(seq);
      out.writeInt(records.size());
      for (Record r : records) {
        writeBytes(out, r.key());
        writeBytes(out, r.value());
        out.writeLong(r.timestamp());
        out.writeInt(r.headers().size());
        for (Map.Entry<String, byte[]> h : r.headers().entrySet()) {
          out.writeUTF(h.getKey());
          writeBytes(out, h.getValue());
        }
        SourcePosition p = r.position();
        out.writeUTF(p.source());
        out.writeUTF(p.partition());
        out.writeLong(p.offset());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * @throws IllegalArgumentException when the bytes are not a block of a known format
   */
  public static Block decode(byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      int format = in.readInt();
      if (format != FORMAT) {
        throw new IllegalArgumentException("Unknown block format " + format + " (expected " + FORMAT + ")");
      }
      long seq = in.readLong();
      int n = in.readInt();
      List<Record> records = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        byte[] key = readBytes(in);
        byte[] value = readBytes(in);
        long ts = in.readLong();
        int nh = in.readInt();
        Map<String, byte[]> headers = nh == 0 ? Map.of() : new LinkedHashMap<>();
        for (int h = 0; h < nh; h++) {
          headers.put(in.readUTF(), readBytes(in));
        }
        SourcePosition pos = new SourcePosition(in.readUTF(), in.readUTF(), in.readLong());
        records.add(new Record(key, value, ts, headers, pos));
      }
      return new Block(seq, records);
    } catch (IOException e) {
      throw new IllegalArgumentException("Truncated or malformed block: " + e, e);
    }
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    if (b == null) {
      out.writeInt(-1);
    } else {
      out.writeInt(b.length);
      out.write(b);
    }
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int len = in.readInt();
    if (len < 0) {
      return null;
    }
    byte[] b = new byte[len];
    in.readFully(b);
    return b;
  }
}
