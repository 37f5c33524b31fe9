package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.handler.ssl.NotSslRecordException;
import java.util.regex.Pattern;

/**
 * What log lines may show of a client's bytes: never a dump of the payload, only its length and a
 * short printable prefix (non-printable bytes as {@code .}), so logs hold no data and no binary.
 *
 * <p>Thread safety: stateless.
 */
public final class Printable {
  /** The most bytes of client data a log line shows. */
  public static final int MAX_PREFIX = 16;

  /**
   * Runs of hex digits long enough to be a dump of client bytes (Netty puts such dumps in
   * messages).
   */
  private static final Pattern HEX_RUN = Pattern.compile("(?i)(0x)?[0-9a-f]{32,}");

  private static final int MAX_DETAIL = 300;

  private Printable() {}

  /**
   * An exception as a log detail without client data: Netty's {@link NotSslRecordException} (plain
   * bytes on a TLS port) carries a hex dump of the whole record in its message; other messages get
   * any long hex run elided and are cut at 300 characters.
   */
  public static String describe(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof NotSslRecordException) {
        return "not a TLS record: the client sent plain bytes to a TLS port (use TLS, or a port"
            + " without tls.enabled)";
      }
    }
    String s = HEX_RUN.matcher(String.valueOf(t)).replaceAll("<hex elided>");
    return s.length() <= MAX_DETAIL ? s : s.substring(0, MAX_DETAIL) + "...";
  }

  /** {@code "N bytes starting \"abc..\""}, at most {@link #MAX_PREFIX} bytes shown. */
  public static String describe(ByteBuf buf, int index, int length) {
    int n = Math.min(length, MAX_PREFIX);
    StringBuilder b = new StringBuilder(n + 32);
    b.append(length).append(" bytes starting '");
    for (int i = 0; i < n; i++) {
      int c = buf.getByte(index + i) & 0xFF;
      b.append(c >= 0x20 && c < 0x7F && c != '\'' && c != '"' && c != '\\' ? (char) c : '.');
    }
    return b.append('\'').toString();
  }
}
