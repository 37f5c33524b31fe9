package io.tributary.connector.socket;

/**
 * A reliable connection broke the TRB1 protocol: bad magic, unknown frame type, invalid producer id
 * or a sequence gap ({@link #reason()} says which). Thread safety: immutable.
 */
public class ProtocolViolationException extends SocketProtocolException {
  public ProtocolViolationException(SocketErrorReason reason, String message) {
    super(reason, message);
  }
}
