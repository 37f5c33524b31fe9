package io.tributary.connector.socket;

import io.tributary.core.api.RetriableException;

/**
 * Could not connect (and complete the handshake) within the allowed time. Retriable. Thread safety:
 * immutable.
 */
public class SocketConnectException extends RetriableException {
  public SocketConnectException(String message, Throwable cause) {
    super(message, cause);
  }
}
