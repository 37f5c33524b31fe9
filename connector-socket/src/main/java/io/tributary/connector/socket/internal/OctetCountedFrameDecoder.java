package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.tributary.connector.socket.FrameTooLongException;
import io.tributary.connector.socket.SocketErrorReason;
import io.tributary.connector.socket.SocketProtocolException;
import io.tributary.connector.socket.TruncatedFrameException;
import java.util.List;

/**
 * RFC 6587 octet counting, the framing of syslog over TCP (rsyslog's {@code
 * TCP_Framing="octet-counted"}, syslog-ng's {@code syslog()} driver): each message is {@code
 * MSG-LEN SP MSG}, {@code MSG-LEN} being the message's length in bytes as ASCII digits (no leading
 * zero). Emits {@link Frame.Payload}s.
 *
 * <ul>
 *   <li>A length above {@code max-frame-bytes}: the message is skipped (its length is known, so
 *       framing holds) and reported, not fatal.
 *   <li>Anything else than {@code 1-9 digits, SP}: fatal ({@code bad_octet_count}); framing cannot
 *       be trusted after it, the connection is closed.
 *   <li>An incomplete message at end of stream: reported as truncated and dropped.
 * </ul>
 *
 * <p>Thread safety: one instance per channel, used on its event loop only.
 */
public final class OctetCountedFrameDecoder extends BudgetedDecoder {
  /** RFC 6587 allows any length; 9 digits (below 1 GB) exceed every allowed max-frame-bytes. */
  private static final int MAX_DIGITS = 9;

  private final int maxFrameBytes;
  private boolean failed;
  private long skipping;

  public OctetCountedFrameDecoder(int maxFrameBytes, MemoryBudget budget) {
    super(budget);
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      if (failed) {
        in.skipBytes(in.readableBytes());
        return;
      }
      if (skipping > 0) {
        int n = (int) Math.min(skipping, in.readableBytes());
        in.skipBytes(n);
        skipping -= n;
        continue;
      }
      int at = in.readerIndex();
      int readable = in.readableBytes();
      long len = 0;
      int i = 0;
      for (; i < readable && i <= MAX_DIGITS; i++) {
        int b = in.getByte(at + i);
        if (b == ' ' && i > 0) {
          break;
        }
        if (b < '0' || b > '9' || (i == 0 && b == '0')) {
          fail(ctx, in, out, i);
          return;
        }
        len = len * 10 + (b - '0');
      }
      if (i > MAX_DIGITS) {
        fail(ctx, in, out, i);
        return;
      }
      if (i == readable) {
        return; // the count is not complete yet
      }
      int header = i + 1;
      if (len > maxFrameBytes) {
        in.skipBytes(header);
        skipping = len;
        out.add(
            new Frame.Bad(
                new FrameTooLongException(
                    "Octet-counted message of "
                        + len
                        + " bytes from "
                        + ctx.channel().remoteAddress()
                        + " exceeds max-frame-bytes="
                        + maxFrameBytes
                        + "; skipped (raise max-frame-bytes if such messages are legitimate)"),
                false));
        continue;
      }
      if (readable < header + len) {
        return;
      }
      in.skipBytes(header);
      byte[] bytes = new byte[(int) len];
      in.readBytes(bytes);
      out.add(new Frame.Payload(bytes));
    }
  }

  private void fail(ChannelHandlerContext ctx, ByteBuf in, List<Object> out, int upTo) {
    failed = true;
    String seen = Printable.describe(in, in.readerIndex(), in.readableBytes());
    in.skipBytes(in.readableBytes());
    out.add(
        new Frame.Bad(
            new SocketProtocolException(
                SocketErrorReason.BAD_OCTET_COUNT,
                "Connection from "
                    + ctx.channel().remoteAddress()
                    + " sent a frame not starting with '<length> ' (RFC 6587 octet counting), got "
                    + seen
                    + "; closing the connection (is the sender using framing: lines, i.e."
                    + " rsyslog's default TCP_Framing=\"traditional\"?)"),
            true));
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
                      + " bytes of an incomplete octet-counted message; dropped"),
              false));
    }
  }
}
