package io.tributary.connector.flume;

import io.tributary.core.api.TributaryException;

/**
 * The push server could not bind its port. The supervisor restarts the receiver with backoff.
 *
 * <p>Thread safety: immutable.
 */
public final class FlumeConnectException extends TributaryException {
  private static final long serialVersionUID = 1L;

  public FlumeConnectException(String message, Throwable cause) {
    super(message, cause);
  }
}
