package io.tributary.connector.kinesis.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Kinesis Producer Library's aggregated-record format, written from its published description:
 * a Kinesis record's data is the 4 magic bytes {@code F3 89 9A C2}, then a protocol-buffers message
 * {@code AggregatedRecord}, then the 16-byte MD5 of that message.
 *
 * <pre>
 * message AggregatedRecord {
 *   repeated string partition_key_table = 1;
 *   repeated string explicit_hash_key_table = 2;
 *   repeated Record records = 3;
 * }
 * message Record {
 *   required uint64 partition_key_index = 1;
 *   optional uint64 explicit_hash_key_index = 2;
 *   required bytes data = 3;
 *   repeated Tag tags = 4;
 * }
 * message Tag { required string key = 1; optional string value = 2; }
 * </pre>
 *
 * <p>Data without the magic bytes, too short, or whose MD5 does not match is not an aggregate (as
 * in the KPL's own de-aggregation): {@link #decode} returns {@code null} and the caller treats the
 * data as one plain record. The Kinesis sink uses {@link #encode} to write one-record aggregates
 * whose tags carry a dedup id and the record's headers, which KPL-aware readers (KCL, the KPL
 * de-aggregation libraries) ignore.
 *
 * <p>Thread safety: stateless.
 */
public final class KplAggregation {
  static final byte[] MAGIC = {(byte) 0xF3, (byte) 0x89, (byte) 0x9A, (byte) 0xC2};
  private static final int MD5_LEN = 16;

  private KplAggregation() {}

  /** One user record of an aggregate. */
  public record UserRecord(
      String partitionKey, String explicitHashKey, byte[] data, Map<String, String> tags) {}

  /** Whether {@code data} starts with the aggregate magic bytes. */
  public static boolean hasMagic(byte[] data) {
    return data.length >= MAGIC.length + MD5_LEN
        && data[0] == MAGIC[0]
        && data[1] == MAGIC[1]
        && data[2] == MAGIC[2]
        && data[3] == MAGIC[3];
  }

  /**
   * The user records of an aggregated record, in order (index = sub-sequence number), or {@code
   * null} when {@code data} is not a valid aggregate.
   */
  public static List<UserRecord> decode(byte[] data) {
    if (!hasMagic(data)) {
      return null;
    }
    int end = data.length - MD5_LEN;
    byte[] digest = md5(data, MAGIC.length, end - MAGIC.length);
    if (!Arrays.equals(digest, 0, MD5_LEN, data, end, data.length)) {
      return null;
    }
    try {
      return parse(data, MAGIC.length, end);
    } catch (RuntimeException e) {
      return null; // malformed message: not an aggregate after all
    }
  }

  private static List<UserRecord> parse(byte[] buf, int pos, int end) {
    List<String> keys = new ArrayList<>();
    List<String> hashKeys = new ArrayList<>();
    List<long[]> recordBounds = new ArrayList<>();
    Reader r = new Reader(buf, pos, end);
    while (r.pos < end) {
      long tag = r.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (wire != 2) {
        r.skip(wire);
        continue;
      }
      int len = r.length();
      switch (field) {
        case 1 -> keys.add(new String(buf, r.pos, len, StandardCharsets.UTF_8));
        case 2 -> hashKeys.add(new String(buf, r.pos, len, StandardCharsets.UTF_8));
        case 3 -> recordBounds.add(new long[] {r.pos, r.pos + len});
        default -> {}
      }
      r.pos += len;
    }
    List<UserRecord> out = new ArrayList<>(recordBounds.size());
    for (long[] b : recordBounds) {
      out.add(parseRecord(buf, (int) b[0], (int) b[1], keys, hashKeys));
    }
    return out;
  }

  private static UserRecord parseRecord(
      byte[] buf, int pos, int end, List<String> keys, List<String> hashKeys) {
    Reader r = new Reader(buf, pos, end);
    long pkIndex = -1;
    long ehkIndex = -1;
    byte[] data = null;
    Map<String, String> tags = Map.of();
    while (r.pos < end) {
      long tag = r.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if (field == 1 && wire == 0) {
        pkIndex = r.varint();
      } else if (field == 2 && wire == 0) {
        ehkIndex = r.varint();
      } else if (field == 3 && wire == 2) {
        int len = r.length();
        data = Arrays.copyOfRange(buf, r.pos, r.pos + len);
        r.pos += len;
      } else if (field == 4 && wire == 2) {
        int len = r.length();
        if (tags.isEmpty()) {
          tags = new LinkedHashMap<>();
        }
        parseTag(buf, r.pos, r.pos + len, tags);
        r.pos += len;
      } else {
        r.skip(wire);
      }
    }
    if (pkIndex < 0 || pkIndex >= keys.size() || data == null) {
      throw new IllegalArgumentException("record without partition key index or data");
    }
    String ehk = ehkIndex >= 0 && ehkIndex < hashKeys.size() ? hashKeys.get((int) ehkIndex) : null;
    return new UserRecord(keys.get((int) pkIndex), ehk, data, tags);
  }

  private static void parseTag(byte[] buf, int pos, int end, Map<String, String> into) {
    Reader r = new Reader(buf, pos, end);
    String key = null;
    String value = null;
    while (r.pos < end) {
      long tag = r.varint();
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      if ((field == 1 || field == 2) && wire == 2) {
        int len = r.length();
        String s = new String(buf, r.pos, len, StandardCharsets.UTF_8);
        r.pos += len;
        if (field == 1) {
          key = s;
        } else {
          value = s;
        }
      } else {
        r.skip(wire);
      }
    }
    if (key != null) {
      into.put(key, value);
    }
  }

  /** Encodes {@code records} as one aggregated record's data. */
  public static byte[] encode(List<UserRecord> records) {
    List<String> keys = new ArrayList<>();
    Map<String, Integer> keyIndex = new LinkedHashMap<>();
    List<String> hashKeys = new ArrayList<>();
    Map<String, Integer> hashIndex = new LinkedHashMap<>();
    for (UserRecord u : records) {
      keyIndex.computeIfAbsent(
          u.partitionKey(),
          k -> {
            keys.add(k);
            return keys.size() - 1;
          });
      if (u.explicitHashKey() != null) {
        hashIndex.computeIfAbsent(
            u.explicitHashKey(),
            k -> {
              hashKeys.add(k);
              return hashKeys.size() - 1;
            });
      }
    }
    ByteArrayOutputStream msg = new ByteArrayOutputStream();
    for (String k : keys) {
      writeBytes(msg, 1, k.getBytes(StandardCharsets.UTF_8));
    }
    for (String k : hashKeys) {
      writeBytes(msg, 2, k.getBytes(StandardCharsets.UTF_8));
    }
    for (UserRecord u : records) {
      ByteArrayOutputStream rec = new ByteArrayOutputStream();
      writeVarint(rec, (1 << 3));
      writeVarint(rec, keyIndex.get(u.partitionKey()));
      if (u.explicitHashKey() != null) {
        writeVarint(rec, (2 << 3));
        writeVarint(rec, hashIndex.get(u.explicitHashKey()));
      }
      writeBytes(rec, 3, u.data());
      for (Map.Entry<String, String> t : u.tags().entrySet()) {
        ByteArrayOutputStream tag = new ByteArrayOutputStream();
        writeBytes(tag, 1, t.getKey().getBytes(StandardCharsets.UTF_8));
        if (t.getValue() != null) {
          writeBytes(tag, 2, t.getValue().getBytes(StandardCharsets.UTF_8));
        }
        writeBytes(rec, 4, tag.toByteArray());
      }
      writeBytes(msg, 3, rec.toByteArray());
    }
    byte[] body = msg.toByteArray();
    byte[] out = new byte[MAGIC.length + body.length + MD5_LEN];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    System.arraycopy(body, 0, out, MAGIC.length, body.length);
    System.arraycopy(md5(body, 0, body.length), 0, out, MAGIC.length + body.length, MD5_LEN);
    return out;
  }

  private static void writeBytes(ByteArrayOutputStream out, int field, byte[] bytes) {
    writeVarint(out, ((long) field << 3) | 2);
    writeVarint(out, bytes.length);
    out.write(bytes, 0, bytes.length);
  }

  private static void writeVarint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  static byte[] md5(byte[] buf, int off, int len) {
    try {
      MessageDigest md = MessageDigest.getInstance("MD5");
      md.update(buf, off, len);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is part of every JDK", e);
    }
  }

  private static final class Reader {
    final byte[] buf;
    int pos;
    final int end;

    Reader(byte[] buf, int pos, int end) {
      this.buf = buf;
      this.pos = pos;
      this.end = end;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          throw new IllegalArgumentException("truncated varint");
        }
        byte b = buf[pos++];
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw new IllegalArgumentException("varint too long");
    }

    int length() {
      long len = varint();
      if (len < 0 || len > end - pos) {
        throw new IllegalArgumentException("length past the end");
      }
      return (int) len;
    }

    void skip(int wire) {
      switch (wire) {
        case 0 -> varint();
        case 1 -> pos += 8;
        case 2 -> pos += length();
        case 5 -> pos += 4;
        default -> throw new IllegalArgumentException("wire type " + wire);
      }
      if (pos > end) {
        throw new IllegalArgumentException("field past the end");
      }
    }
  }
}
