package io.tributary.core.api;

/**
 * A failure that may go away when the operation is retried (a broker restarting, a connection
 * reset).
 */
public class RetriableException extends TributaryException {
  public RetriableException(String message) {
    super(message);
  }

  public RetriableException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isRetriable() {
    return true;
  }
}
