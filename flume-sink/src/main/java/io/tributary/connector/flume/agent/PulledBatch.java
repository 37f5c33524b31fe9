package io.tributary.connector.flume.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * A batch served by {@link PullProtocol#poll(int, String)}: its id (to ack or nack), its events, or
 * an error message when the sink could not serve one (then {@code events} is empty). Plain fields
 * because Avro's reflect encoding maps them.
 *
 * <p>Thread safety: not thread-safe; built by one thread, then serialized.
 */
public final class PulledBatch {
  /** Batch id; empty when {@link #events} is empty. */
  public String id = "";

  /** Empty when the sink served the batch; otherwise why it could not. */
  public String error = "";

  /** The events, in channel order. */
  public List<PulledEvent> events = new ArrayList<>();

  public PulledBatch() {}

  static PulledBatch failed(String message) {
    PulledBatch b = new PulledBatch();
    b.error = message;
    return b;
  }
}
