package io.tributary.core.api;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One record: a value, an optional key, an event timestamp, headers and the {@link SourcePosition}
 * it came from.
 *
 * <p>Payloads are bytes so that records cross the write-ahead log, the checkpoint and every sink
 * without a codec of the user's. Use {@link #valueAsString()} for text.
 *
 * <p>Thread safety: immutable as long as callers do not modify the arrays they pass in or get back;
 * the class does not copy them, for speed. Treat every {@code byte[]} as read-only.
 */
public final class Record {
  private static final Class<?> IMMUTABLE_MAP_1 = Map.of("k", new byte[0]).getClass();
  private static final Class<?> IMMUTABLE_MAP_N =
      Map.of("k", new byte[0], "l", new byte[0]).getClass();

  private final int size;
  private final byte[] key;
  private final byte[] value;
  private final long timestamp;
  private final Map<String, byte[]> headers;
  private final SourcePosition position;

  /**
   * @param key may be {@code null}
   * @param value never {@code null}
   * @param timestamp event time in epoch milliseconds, or {@code -1} when unknown
   * @param headers header name to value; copied into an unmodifiable ordered map, unless it is
   *     already an immutable {@code Map.of(...)} map, which is kept as is (share one such map
   *     across records to save the copy)
   * @param position where the record came from, {@link SourcePosition#NONE} when unknown
   */
  public Record(
      byte[] key,
      byte[] value,
      long timestamp,
      Map<String, byte[]> headers,
      SourcePosition position) {
    this.key = key;
    this.value = Objects.requireNonNull(value, "value");
    this.timestamp = timestamp;
    if (headers == null || headers.isEmpty()) {
      this.headers = Map.of();
    } else if (headers.getClass() == IMMUTABLE_MAP_1 || headers.getClass() == IMMUTABLE_MAP_N) {
      this.headers = headers;
    } else {
      this.headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }
    this.position = Objects.requireNonNull(position, "position");
    int sz = value.length + (key == null ? 0 : key.length);
    if (!this.headers.isEmpty()) {
      for (Map.Entry<String, byte[]> h : this.headers.entrySet()) {
        sz += h.getKey().length() + (h.getValue() == null ? 0 : h.getValue().length);
      }
    }
    this.size = sz;
  }

  /** A record with only a value. */
  public static Record of(byte[] value) {
    return new Record(null, value, -1L, Map.of(), SourcePosition.NONE);
  }

  /** A record whose value is the UTF-8 encoding of {@code value}. */
  public static Record ofString(String value) {
    return of(value.getBytes(StandardCharsets.UTF_8));
  }

  public byte[] key() {
    return key;
  }

  public byte[] value() {
    return value;
  }

  /** The value decoded as UTF-8. */
  public String valueAsString() {
    return new String(value, StandardCharsets.UTF_8);
  }

  public long timestamp() {
    return timestamp;
  }

  public Map<String, byte[]> headers() {
    return headers;
  }

  public SourcePosition position() {
    return position;
  }

  public Record withValue(byte[] newValue) {
    return new Record(key, newValue, timestamp, headers, position);
  }

  public Record withKey(byte[] newKey) {
    return new Record(newKey, value, timestamp, headers, position);
  }

  public Record withPosition(SourcePosition newPosition) {
    return new Record(key, value, timestamp, headers, newPosition);
  }

  public Record withTimestamp(long newTimestamp) {
    return new Record(key, value, newTimestamp, headers, position);
  }

  /** Approximate size in bytes (key + value + headers), used for byte metrics and memory bounds. */
  public int sizeInBytes() {
    return size;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Record r)) {
      return false;
    }
    if (timestamp != r.timestamp
        || !Arrays.equals(key, r.key)
        || !Arrays.equals(value, r.value)
        || !position.equals(r.position)
        || headers.size() != r.headers.size()) {
      return false;
    }
    for (Map.Entry<String, byte[]> h : headers.entrySet()) {
      if (!r.headers.containsKey(h.getKey())
          || !Arrays.equals(h.getValue(), r.headers.get(h.getKey()))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(value) + position.hashCode();
  }

  @Override
  public String toString() {
    String v = valueAsString();
    return "Record{"
        + position
        + ", value="
        + (v.length() > 80 ? v.substring(0, 80) + "..." : v)
        + "}";
  }
}
