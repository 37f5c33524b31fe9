package io.tributary.connector.socket;

import io.tributary.core.api.TributaryException;

/**
 * A peer sent input the socket connector cannot accept, or a reliable peer answered with an ERROR
 * frame. The {@link #reason()} says which rule was broken; subclasses name the common cases.
 *
 * <p>Thread safety: immutable.
 */
public class SocketProtocolException extends TributaryException {
  private final SocketErrorReason reason;

  public SocketProtocolException(SocketErrorReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public SocketErrorReason reason() {
    return reason;
  }
}
