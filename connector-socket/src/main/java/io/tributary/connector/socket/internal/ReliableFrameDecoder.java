package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.tributary.connector.socket.FrameTooLongException;
import io.tributary.connector.socket.ProtocolViolationException;
import io.tributary.connector.socket.SocketErrorReason;
import io.tributary.connector.socket.SocketProtocolException;
import io.tributary.connector.socket.TruncatedFrameException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Decodes the client side of the TRB1 protocol: one HELLO, then DATA frames. Any violation is
 * fatal: the decoder emits one {@link Frame.Bad} and discards the rest of the stream; the handler
 * sends ERROR and closes.
 *
 * <p>Thread safety: one instance per channel, used on its event loop only.
 */
public final class ReliableFrameDecoder extends BudgetedDecoder {
  private enum State {
    HELLO,
    DATA,
    FAILED
  }

  private final int maxFrameBytes;
  private State state = State.HELLO;

  public ReliableFrameDecoder(int maxFrameBytes) {
    this(maxFrameBytes, null);
  }

  /**
   * @param budget shared by the server's connections; {@code null} for none
   */
  public ReliableFrameDecoder(int maxFrameBytes, MemoryBudget budget) {
    super(budget);
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      int at = in.readerIndex();
      switch (state) {
        case FAILED -> {
          in.skipBytes(in.readableBytes());
          return;
        }
        case HELLO -> {
          if (in.readableBytes() < 6) {
            return;
          }
          if (in.getInt(at) != Protocol.MAGIC) {
            fail(
                ctx,
                in,
                out,
                new ProtocolViolationException(
                    SocketErrorReason.BAD_MAGIC,
                    "Connection from "
                        + ctx.channel().remoteAddress()
                        + " did not start with the TRB1 magic (got "
                        + Printable.describe(in, at, in.readableBytes())
                        + "); is the sender speaking the reliable protocol?"));
            return;
          }
          int idLen = in.getUnsignedShort(at + 4);
          if (idLen == 0 || idLen > Protocol.MAX_PRODUCER_ID_BYTES) {
            fail(
                ctx,
                in,
                out,
                new ProtocolViolationException(
                    SocketErrorReason.PROTOCOL_ERROR,
                    "HELLO from "
                        + ctx.channel().remoteAddress()
                        + " has a producer id of "
                        + idLen
                        + " bytes (expected: 1 to "
                        + Protocol.MAX_PRODUCER_ID_BYTES
                        + ")"));
            return;
          }
          if (in.readableBytes() < 6 + idLen) {
            return;
          }
          if (!ByteBufUtil.isText(in, at + 6, idLen, StandardCharsets.UTF_8)) {
            fail(
                ctx,
                in,
                out,
                new ProtocolViolationException(
                    SocketErrorReason.PROTOCOL_ERROR,
                    "HELLO from "
                        + ctx.channel().remoteAddress()
                        + " has a producer id that is not valid UTF-8"));
            return;
          }
          String id = in.toString(at + 6, idLen, StandardCharsets.UTF_8);
          in.skipBytes(6 + idLen);
          state = State.DATA;
          out.add(new Frame.Hello(id));
        }
        case DATA -> {
          byte type = in.getByte(at);
          if (type != Protocol.DATA) {
            fail(
                ctx,
                in,
                out,
                new ProtocolViolationException(
                    SocketErrorReason.PROTOCOL_ERROR,
                    "Unknown frame type 0x"
                        + Integer.toHexString(type & 0xFF)
                        + " from "
                        + ctx.channel().remoteAddress()
                        + " (expected: DATA 0x01)"));
            return;
          }
          if (in.readableBytes() < Protocol.DATA_HEADER_BYTES) {
            return;
          }
          long seq = in.getLong(at + 1);
          int len = in.getInt(at + 9);
          if (len < 0 || len > maxFrameBytes) {
            fail(
                ctx,
                in,
                out,
                new FrameTooLongException(
                    "DATA seq="
                        + seq
                        + " from "
                        + ctx.channel().remoteAddress()
                        + " declares "
                        + (len & 0xFFFFFFFFL)
                        + " bytes, above max-frame-bytes="
                        + maxFrameBytes));
            return;
          }
          if (in.readableBytes() < Protocol.DATA_HEADER_BYTES + len) {
            return;
          }
          in.skipBytes(Protocol.DATA_HEADER_BYTES);
          byte[] payload = new byte[len];
          in.readBytes(payload);
          out.add(new Frame.Data(seq, payload));
        }
        default -> throw new IllegalStateException(state.toString());
      }
    }
  }

  private void fail(
      ChannelHandlerContext ctx, ByteBuf in, List<Object> out, SocketProtocolException error) {
    state = State.FAILED;
    in.skipBytes(in.readableBytes());
    out.add(new Frame.Bad(error, true));
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    decode(ctx, in, out);
    if (in.isReadable() && state != State.FAILED) {
      int n = in.readableBytes();
      in.skipBytes(n);
      out.add(
          new Frame.Bad(
              new TruncatedFrameException(
                  "Connection from "
                      + ctx.channel().remoteAddress()
                      + " closed with "
                      + n
                      + " bytes of an incomplete frame; dropped (never acknowledged, the sender resends)"),
              false));
    }
  }
}
