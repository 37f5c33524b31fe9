package io.tributary.connector.flume.agent;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * One Flume event as the pull protocol carries it: its headers and its body. Plain fields because
 * Avro's reflect encoding maps them.
 *
 * <p>Thread safety: not thread-safe.
 */
public final class PulledEvent {
  public Map<String, String> headers = new HashMap<>();
  public ByteBuffer body = ByteBuffer.allocate(0);

  public PulledEvent() {}

  public PulledEvent(Map<String, String> headers, byte[] body) {
    this.headers = headers;
    this.body = ByteBuffer.wrap(body);
  }
}
