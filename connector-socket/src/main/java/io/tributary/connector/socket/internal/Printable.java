package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;

/**
 * What log lines may show of a client's bytes: never a dump of the payload, only its length and a
 * short printable prefix (non-printable bytes as {@code .}), so logs hold no data and no binary.
 *
 * <p>Thread safety: stateless.
 */
public final class Printable {
  /** The most bytes of client data a log line shows. */
  public static final int MAX_PREFIX = 16;

  private Printable() {}

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
