package io.tributary.connector.flume.internal;

import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Turns Flume events into records. Thread safety: stateless. */
public final class EventRecords {
  private EventRecords() {}

  /**
   * A record whose value is the body, whose headers are the event's (UTF-8), and whose timestamp is
   * the {@code timestampHeader} header when it holds epoch milliseconds, else {@code now}.
   */
  public static Record toRecord(
      Map<? extends CharSequence, ? extends CharSequence> headers,
      ByteBuffer body,
      String timestampHeader,
      long now,
      SourcePosition position) {
    Map<String, byte[]> h = new LinkedHashMap<>(Math.max(4, headers.size() * 2));
    long ts = now;
    for (Map.Entry<? extends CharSequence, ? extends CharSequence> e : headers.entrySet()) {
      String k = e.getKey().toString();
      String v = e.getValue() == null ? "" : e.getValue().toString();
      h.put(k, v.getBytes(StandardCharsets.UTF_8));
      if (k.equals(timestampHeader)) {
        try {
          ts = Long.parseLong(v.trim());
        } catch (NumberFormatException ignored) {
          // not epoch millis: keep the arrival time
        }
      }
    }
    ByteBuffer b = body.duplicate();
    byte[] value = new byte[b.remaining()];
    b.get(value);
    return new Record(null, value, ts, h, position);
  }
}
