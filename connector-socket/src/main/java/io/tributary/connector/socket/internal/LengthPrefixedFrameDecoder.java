package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.tributary.connector.socket.FrameTooLongException;
import io.tributary.connector.socket.TruncatedFrameException;
import java.util.List;

/**
 * Cuts a byte stream into frames preceded by a 4-byte big-endian signed length and emits {@link
 * Frame.Payload}s. A length above the maximum (or negative) is fatal: such a prefix usually means
 * the sender lost framing, so the decoder discards everything after it and the handler closes the
 * connection. An incomplete frame at end of stream is reported as truncated.
 *
 * <p>Thread safety: one instance per channel, used on its event loop only.
 */
public final class LengthPrefixedFrameDecoder extends BudgetedDecoder {
  private final int maxFrameBytes;
  private boolean failed;

  public LengthPrefixedFrameDecoder(int maxFrameBytes) {
    this(maxFrameBytes, null);
  }

  /**
   * @param budget shared by the server's connections; {@code null} for none
   */
  public LengthPrefixedFrameDecoder(int maxFrameBytes, MemoryBudget budget) {
    super(budget);
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    while (in.readableBytes() >= 4) {
      int len = in.getInt(in.readerIndex());
      if (len < 0 || len > maxFrameBytes) {
        failed = true;
        in.skipBytes(in.readableBytes());
        out.add(
            new Frame.Bad(
                new FrameTooLongException(
                    "Length prefix "
                        + (len & 0xFFFFFFFFL)
                        + " from "
                        + ctx.channel().remoteAddress()
                        + " exceeds max-frame-bytes="
                        + maxFrameBytes
                        + "; closing the connection (framing cannot"
                        + " be trusted after this)"),
                true));
        return;
      }
      if (in.readableBytes() < 4 + len) {
        return;
      }
      in.skipBytes(4);
      byte[] bytes = new byte[len];
      in.readBytes(bytes);
      out.add(new Frame.Payload(bytes));
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    decode(ctx, in, out);
    if (in.isReadable() && !failed) {
      int n = in.readableBytes();
      in.skipBytes(n);
      out.add(
          new Frame.Bad(
              new TruncatedFrameException(
                  "Connection from "
                      + ctx.channel().remoteAddress()
                      + " closed with "
                      + n
                      + " bytes of an incomplete frame; dropped"),
              false));
    }
  }
}
