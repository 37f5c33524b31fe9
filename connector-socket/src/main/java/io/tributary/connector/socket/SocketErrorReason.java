package io.tributary.connector.socket;

/**
 * Why the socket connector rejected input or a connection. Each reason is the {@code reason} tag of
 * the {@code tributary.socket.errors} counter and, for reliable connections, maps to the code of
 * the ERROR frame sent before the server closes the connection. The README's bad-input table says
 * what happens for each.
 *
 * <p>Thread safety: immutable.
 */
public enum SocketErrorReason {
  /** A frame (line or payload) larger than {@code max-frame-bytes}. */
  FRAME_TOO_LONG("frame_too_long", 3),
  /** A line that is not valid UTF-8 (lines framing with {@code validate-utf8}). */
  INVALID_UTF8("invalid_utf8", 10),
  /** The connection closed in the middle of a frame; the partial frame is dropped. */
  TRUNCATED_FRAME("truncated_frame", 11),
  /** A reliable connection did not start with the {@code TRB1} magic. */
  BAD_MAGIC("bad_magic", 1),
  /**
   * A reliable connection sent bytes that are not a valid frame of the protocol (unknown type, bad
   * producer id).
   */
  PROTOCOL_ERROR("protocol_error", 2),
  /** A reliable DATA frame skipped sequence numbers. */
  SEQUENCE_GAP("sequence_gap", 4),
  /**
   * The runtime could not store a group of records reliably; nothing of that group was
   * acknowledged.
   */
  STORE_FAILED("store_failed", 5),
  /** The server already had {@code max-connections} connections. */
  TOO_MANY_CONNECTIONS("too_many_connections", 6),
  /** A newer connection with the same producer id replaced this one. */
  REPLACED("replaced", 7),
  /** The receiver is stopping. */
  SHUTTING_DOWN("shutting_down", 8),
  /** The TLS handshake failed. */
  TLS_HANDSHAKE("tls_handshake", 12),
  /** The connection failed with an I/O error (reset by peer, ...). */
  IO_ERROR("io_error", 13),
  /**
   * The peer sent nothing for {@code read-idle-timeout} (before HELLO, between frames, or in the
   * middle of one): the connection is closed so that silent connections cannot hold every slot of
   * {@code max-connections}.
   */
  IDLE_TIMEOUT("idle_timeout", 14),
  /**
   * All connections together held {@code max-buffered-bytes} of partial frames and this one's
   * partial frame grew: the connection is refused instead of the process running out of direct
   * memory.
   */
  MEMORY_BUDGET("memory_budget", 15),
  /** A TLS ClientHello arrived on a port without TLS ({@code tls.enabled: false}). */
  TLS_ON_PLAIN_PORT("tls_on_plain_port", 16),
  /** A syslog octet-counted frame did not start with {@code <digits> <space>}. */
  BAD_OCTET_COUNT("bad_octet_count", 17);

  private final String tag;
  private final int code;

  SocketErrorReason(String tag, int code) {
    this.tag = tag;
    this.code = code;
  }

  /** The metric tag value, for example {@code frame_too_long}. */
  public String tag() {
    return tag;
  }

  /** The 16-bit code of the reliable protocol's ERROR frame. */
  public int code() {
    return code;
  }

  /** The reason with this ERROR frame code, or {@link #PROTOCOL_ERROR} for an unknown code. */
  public static SocketErrorReason ofCode(int code) {
    for (SocketErrorReason r : values()) {
      if (r.code == code) {
        return r;
      }
    }
    return PROTOCOL_ERROR;
  }
}
