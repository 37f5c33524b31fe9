package io.tributary.connector.socket;

/**
 * A connection to a port without TLS began with a TLS handshake record (a ClientHello): the sender
 * speaks TLS but {@code tls.enabled} is false. Closed at once; nothing of it is stored. Reason
 * {@link SocketErrorReason#TLS_ON_PLAIN_PORT}. Thread safety: immutable.
 */
public class TlsOnPlainPortException extends SocketProtocolException {
  public TlsOnPlainPortException(String message) {
    super(SocketErrorReason.TLS_ON_PLAIN_PORT, message);
  }
}
