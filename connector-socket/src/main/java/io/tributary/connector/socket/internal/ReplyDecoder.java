package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.tributary.connector.socket.ProtocolViolationException;
import io.tributary.connector.socket.SocketErrorReason;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Decodes the server side of the TRB1 protocol (WELCOME, ACK, ERROR) for {@code
 * ReliableSocketClient}.
 *
 * <p>Thread safety: one instance per channel, used on its event loop only.
 */
public final class ReplyDecoder extends ByteToMessageDecoder {
  private boolean failed;

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      if (failed) {
        in.skipBytes(in.readableBytes());
        return;
      }
      int at = in.readerIndex();
      byte type = in.getByte(at);
      if (type == Protocol.WELCOME || type == Protocol.ACK) {
        if (in.readableBytes() < 9) {
          return;
        }
        long v = in.getLong(at + 1);
        in.skipBytes(9);
        out.add(type == Protocol.WELCOME ? new Frame.Welcome(v) : new Frame.Ack(v));
      } else if (type == Protocol.ERROR) {
        if (in.readableBytes() < 5) {
          return;
        }
        int code = in.getUnsignedShort(at + 1);
        int len = in.getUnsignedShort(at + 3);
        if (in.readableBytes() < 5 + len) {
          return;
        }
        String msg = in.toString(at + 5, len, StandardCharsets.UTF_8);
        in.skipBytes(5 + len);
        out.add(new Frame.ErrorReply(code, msg));
      } else {
        failed = true;
        in.skipBytes(in.readableBytes());
        out.add(
            new Frame.Bad(
                new ProtocolViolationException(
                    SocketErrorReason.PROTOCOL_ERROR,
                    "Unknown reply type 0x"
                        + Integer.toHexString(type & 0xFF)
                        + " from "
                        + ctx.channel().remoteAddress()
                        + "; is the peer a Tributary socket server in reliable mode?"),
                true));
      }
    }
  }
}
