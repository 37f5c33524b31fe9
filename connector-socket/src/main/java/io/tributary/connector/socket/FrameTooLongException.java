package io.tributary.connector.socket;

/** A frame was larger than {@code max-frame-bytes}. Thread safety: immutable. */
public class FrameTooLongException extends SocketProtocolException {
  public FrameTooLongException(String message) {
    super(SocketErrorReason.FRAME_TOO_LONG, message);
  }
}
