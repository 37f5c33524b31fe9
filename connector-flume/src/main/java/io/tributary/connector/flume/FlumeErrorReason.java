package io.tributary.connector.flume;

/**
 * Why the Flume connector rejected input or a connection: the {@code reason} tag of the {@code
 * tributary.flume.errors} counter. The README's bad-input table says what happens for each.
 *
 * <p>Thread safety: immutable.
 */
public enum FlumeErrorReason {
  /**
   * Bytes that are not Avro RPC framing (a non-Avro client): impossible buffer counts or lengths.
   */
  BAD_FRAME("bad_frame"),
  /** A well-framed request whose Avro handshake or call could not be decoded. */
  BAD_REQUEST("bad_request"),
  /** A request larger than {@code max-request-bytes}. */
  REQUEST_TOO_LARGE("request_too_large"),
  /** An {@code appendBatch} with more than {@code max-batch-events} events; answered FAILED. */
  BATCH_TOO_LARGE("batch_too_large"),
  /** The connection closed (or went idle) in the middle of a request. */
  TRUNCATED_REQUEST("truncated_request"),
  /** With {@code compression-type: deflate}: bytes that do not inflate. */
  BAD_DEFLATE("bad_deflate"),
  /** A TLS handshake arrived on a port without TLS. */
  TLS_ON_PLAIN_PORT("tls_on_plain_port"),
  /** The TLS handshake failed (or plain bytes arrived on a TLS port). */
  TLS_HANDSHAKE("tls_handshake"),
  /** The sender's address is denied by {@code ip-filter-rules}. */
  IP_REJECTED("ip_rejected"),
  /** The server already had {@code max-connections} connections. */
  TOO_MANY_CONNECTIONS("too_many_connections"),
  /** A connection sent nothing for {@code idle-timeout}. */
  IDLE_TIMEOUT("idle_timeout"),
  /** The runtime could not store a batch reliably; it was answered FAILED (or not acked). */
  STORE_FAILED("store_failed"),
  /** An I/O error on the connection (reset by peer, ...). */
  IO_ERROR("io_error"),
  /** Pull: a sink could not be reached or answered with an error. */
  SINK_UNAVAILABLE("sink_unavailable"),
  /**
   * Pull: the sink no longer knew a stored batch when acked (it timed out and rolled back): its
   * events will be served again (duplicates).
   */
  ACK_REJECTED("ack_rejected"),
  /**
   * Pull: a batch stored before a restart was no longer open in the sink at the recovery ack (the
   * gateway was down longer than the sink's {@code transaction-timeout}, or the agent restarted):
   * its events will be served again (duplicates).
   */
  RECOVERED_BATCH_ROLLED_BACK("recovered_batch_rolled_back");

  private final String tag;

  FlumeErrorReason(String tag) {
    this.tag = tag;
  }

  /** The metric tag value, for example {@code bad_frame}. */
  public String tag() {
    return tag;
  }
}
