package io.tributary.connector.socket;

/** A line was not valid UTF-8. Thread safety: immutable. */
public class InvalidUtf8Exception extends SocketProtocolException {
  public InvalidUtf8Exception(String message) {
    super(SocketErrorReason.INVALID_UTF8, message);
  }
}
