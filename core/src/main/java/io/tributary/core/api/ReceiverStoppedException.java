package io.tributary.core.api;

/**
 * A store was attempted on a receiver that is stopping or stopped; nothing of that call was stored.
 */
public class ReceiverStoppedException extends TributaryException {
  public ReceiverStoppedException(String message) {
    super(message);
  }
}
