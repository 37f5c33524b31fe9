package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.tributary.connector.socket.TlsOnPlainPortException;
import java.util.List;

/**
 * First handler of a connection to a port without TLS: if the connection starts with a TLS
 * handshake record ({@code 16 03 xx}, a ClientHello), emits a fatal {@link Frame.Bad} ({@code
 * tls_on_plain_port}) and discards everything, so the handshake is never stored as a record;
 * otherwise removes itself at the first byte and hands the bytes on. No framing of this connector
 * starts with {@code 0x16}: lines are text, a length prefix starting with it exceeds any allowed
 * {@code max-frame-bytes}, octet counts are digits, and the reliable protocol starts with {@code
 * TRB1}.
 *
 * <p>Thread safety: one instance per channel, used on its event loop only.
 */
public final class TlsSniffer extends ByteToMessageDecoder {
  private static final int HANDSHAKE = 0x16;
  private boolean failed;

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    int at = in.readerIndex();
    if ((in.getByte(at) & 0xFF) != HANDSHAKE) {
      ctx.pipeline().remove(this); // hands the bytes read so far to the next handler
      return;
    }
    if (in.readableBytes() < 3) {
      return; // no sender of ours starts with 0x16: waiting for two more bytes costs nothing
    }
    if (in.getByte(at + 1) == 0x03 && (in.getByte(at + 2) & 0xFF) <= 0x04) {
      failed = true;
      int n = in.readableBytes();
      in.skipBytes(n);
      out.add(
          new Frame.Bad(
              new TlsOnPlainPortException(
                  "Connection from "
                      + ctx.channel().remoteAddress()
                      + " started a TLS handshake ("
                      + n
                      + " bytes of a ClientHello) on a port without TLS; closed, nothing stored"
                      + " (set tls.enabled: true with a certificate, or make the sender connect"
                      + " without TLS)"),
              true));
      return;
    }
    ctx.pipeline().remove(this);
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!failed && in.isReadable()) {
      out.add(in.readRetainedSlice(in.readableBytes())); // the framing decoder judges the rest
    }
  }
}
