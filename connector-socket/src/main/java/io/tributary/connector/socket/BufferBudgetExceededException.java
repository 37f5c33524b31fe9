package io.tributary.connector.socket;

/**
 * A connection's partial frame would have grown while all connections together already held more
 * than {@code max-buffered-bytes}: the connection is refused (closed; reliable peers get ERROR
 * {@code memory_budget} first) instead of the process running out of direct memory. Reason {@link
 * SocketErrorReason#MEMORY_BUDGET}. Thread safety: immutable.
 */
public class BufferBudgetExceededException extends SocketProtocolException {
  public BufferBudgetExceededException(String message) {
    super(SocketErrorReason.MEMORY_BUDGET, message);
  }
}
