package io.tributary.spark;

import io.tributary.core.api.Record;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One record of a Tributary DStream ({@link TributaryStreams}): the fields of a Tributary {@link
 * Record} in a form Spark can serialize, shuffle and keep in its write-ahead log.
 *
 * <p>Thread safety: immutable as long as callers do not modify the arrays they get (not copied, for
 * speed).
 */
public final class TributaryRecord implements Serializable {
  private static final long serialVersionUID = 1L;

  private final byte[] key;
  private final byte[] value;
  private final long timestamp;
  private final Map<String, byte[]> headers;
  private final String partition;
  private final String position;

  /**
   * @param key may be null
   * @param value never null
   * @param timestamp epoch milliseconds, -1 when unknown
   * @param headers header name to value
   * @param partition the source partition (a Kafka {@code topic-N}, a path, a receiver's stream)
   * @param position the position's text form, empty when the record carries none
   */
  public TributaryRecord(
      byte[] key,
      byte[] value,
      long timestamp,
      Map<String, byte[]> headers,
      String partition,
      String position) {
    this.key = key;
    this.value = value;
    this.timestamp = timestamp;
    this.headers =
        headers.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    this.partition = partition;
    this.position = position;
  }

  /** Copies a Tributary record; {@code partition} is used when the record names none. */
  public static TributaryRecord of(Record r, String partition) {
    boolean none = r.position().isNone();
    return new TributaryRecord(
        r.key(),
        r.value(),
        r.timestamp(),
        r.headers(),
        none || r.position().partition().isEmpty() ? partition : r.position().partition(),
        none ? "" : r.position().position().toString());
  }

  public byte[] key() {
    return key;
  }

  public byte[] value() {
    return value;
  }

  /** The value as UTF-8 text. */
  public String valueAsString() {
    return new String(value, StandardCharsets.UTF_8);
  }

  /** Event time in epoch milliseconds, -1 when unknown. */
  public long timestamp() {
    return timestamp;
  }

  public Map<String, byte[]> headers() {
    return headers;
  }

  public String partition() {
    return partition;
  }

  /** The position's text form (see {@link io.tributary.core.api.Position#toString()}). */
  public String position() {
    return position;
  }

  @Override
  public String toString() {
    return "TributaryRecord{" + partition + "@" + position + "}";
  }
}
