package io.tributary.connector.socket;

/** The connection closed in the middle of a frame. Thread safety: immutable. */
public class TruncatedFrameException extends SocketProtocolException {
  public TruncatedFrameException(String message) {
    super(SocketErrorReason.TRUNCATED_FRAME, message);
  }
}
