package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.tributary.connector.socket.FrameTooLongException;
import io.tributary.connector.socket.InvalidUtf8Exception;
import io.tributary.connector.socket.TruncatedFrameException;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a byte stream into lines ending in {@code \n} (a trailing {@code \r} is removed) and emits
 * them as {@link Frame.Lines}: one message with every line of a read (a {@link Frame.Bad} in
 * between ends one and starts another, so the order holds). A line longer than the maximum is
 * reported once ({@link Frame.Bad}, not fatal) and discarded up to its newline, so the connection
 * stays usable. Invalid UTF-8 (when validated) is reported and dropped. An unterminated line at end
 * of stream is reported as truncated and dropped.
 *
 * <p>Thread safety: one instance per channel, used on its event loop only.
 */
public final class LineFrameDecoder extends ByteToMessageDecoder {
  private final int maxFrameBytes;
  private final boolean validateUtf8;
  private boolean discarding;

  /**
   * Bytes per line (with its newline) in the last read that had lines; sizes the next read's list.
   */
  private int averageLineBytes = 64;

  private static final int MAX_PRESIZE = 1 << 16;

  public LineFrameDecoder(int maxFrameBytes, boolean validateUtf8) {
    this.maxFrameBytes = maxFrameBytes;
    this.validateUtf8 = validateUtf8;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int readable = in.readableBytes();
    // Sized from the line length seen so far: growing a list of ~600 lines per 64 KB read from the
    // default capacity
    // was ~14% of the event loop's samples.
    List<byte[]> lines = new ArrayList<>(Math.min(readable / averageLineBytes + 1, MAX_PRESIZE));
    decodeLines(ctx, in, out, lines);
    if (!lines.isEmpty()) {
      averageLineBytes = Math.max(1, (readable - in.readableBytes()) / lines.size());
      out.add(new Frame.Lines(lines));
    }
  }

  /**
   * Decodes into {@code lines}; a bad frame first moves the lines before it to {@code out}, then is
   * added.
   */
  private void decodeLines(
      ChannelHandlerContext ctx, ByteBuf in, List<Object> out, List<byte[]> lines) {
    while (in.isReadable()) {
      int start = in.readerIndex();
      int readable = in.readableBytes();
      if (discarding) {
        int eol = in.indexOf(start, start + readable, (byte) '\n');
        if (eol < 0) {
          in.skipBytes(readable);
          return;
        }
        in.readerIndex(eol + 1);
        discarding = false;
        continue;
      }
      // A valid line has at most maxFrameBytes bytes plus "\r\n".
      long scan = Math.min((long) readable, (long) maxFrameBytes + 2);
      int eol = in.indexOf(start, start + (int) scan, (byte) '\n');
      if (eol < 0) {
        if (readable >= (long) maxFrameBytes + 2) {
          discarding = true;
          flushLines(out, lines);
          out.add(
              new Frame.Bad(
                  new FrameTooLongException(
                      "Line from "
                          + ctx.channel().remoteAddress()
                          + " is longer than max-frame-bytes="
                          + maxFrameBytes
                          + "; dropped up to its newline (raise max-frame-bytes if such lines are"
                          + " legitimate)"),
                  false));
          continue; // the discarding branch skips to the newline, which may be further in this
          // buffer
        }
        return;
      }
      int len = eol - start;
      if (len > 0 && in.getByte(eol - 1) == '\r') {
        len--;
      }
      if (len > maxFrameBytes) {
        in.readerIndex(eol + 1);
        flushLines(out, lines);
        out.add(
            new Frame.Bad(
                new FrameTooLongException(
                    "Line of "
                        + len
                        + " bytes from "
                        + ctx.channel().remoteAddress()
                        + " exceeds max-frame-bytes="
                        + maxFrameBytes
                        + "; dropped"),
                false));
        continue;
      }
      // Copy first, then validate the array: the record needs the copy anyway, and an array is
      // checked 8 ASCII
      // bytes at a time instead of byte by byte through the buffer's bounds and liveness checks.
      byte[] bytes = new byte[len];
      in.getBytes(start, bytes);
      in.readerIndex(eol + 1);
      if (validateUtf8 && !Utf8.isValid(bytes)) {
        flushLines(out, lines);
        out.add(
            new Frame.Bad(
                new InvalidUtf8Exception(
                    "Line of "
                        + len
                        + " bytes from "
                        + ctx.channel().remoteAddress()
                        + " is not valid UTF-8;"
                        + " dropped (send UTF-8 or set validate-utf8: false)"),
                false));
        continue;
      }
      lines.add(bytes);
    }
  }

  private static void flushLines(List<Object> out, List<byte[]> lines) {
    if (!lines.isEmpty()) {
      out.add(new Frame.Lines(new ArrayList<>(lines)));
      lines.clear();
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    decode(ctx, in, out);
    if (in.isReadable()) {
      int n = in.readableBytes();
      in.skipBytes(n);
      out.add(
          new Frame.Bad(
              new TruncatedFrameException(
                  "Connection from "
                      + ctx.channel().remoteAddress()
                      + " closed after "
                      + n
                      + " bytes of an unterminated line; dropped (end every line with \\n)"),
              false));
    }
  }
}
