package io.tributary.connector.socket.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.tributary.connector.socket.FrameTooLongException;
import io.tributary.connector.socket.InvalidUtf8Exception;
import io.tributary.connector.socket.SocketProtocolException;
import io.tributary.connector.socket.TruncatedFrameException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
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
public final class LineFrameDecoder extends BudgetedDecoder {
  private final int maxFrameBytes;
  private final boolean validateUtf8;
  private boolean discarding;

  /**
   * Bytes per line (with its newline) in the last read that had lines; sizes the next read's list.
   */
  private int averageLineBytes = 64;

  private static final int MAX_PRESIZE = 1 << 16;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long NEWLINES = 0x0A0A0A0A0A0A0A0AL;
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGH_BITS = 0x8080808080808080L;
  private static final long LOW_BITS = 0x7F7F7F7F7F7F7F7FL;

  public LineFrameDecoder(int maxFrameBytes, boolean validateUtf8) {
    this(maxFrameBytes, validateUtf8, null);
  }

  /**
   * @param budget shared by the server's connections; {@code null} for none
   */
  public LineFrameDecoder(int maxFrameBytes, boolean validateUtf8, MemoryBudget budget) {
    super(budget);
    this.maxFrameBytes = maxFrameBytes;
    this.validateUtf8 = validateUtf8;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
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
      // The complete lines of the read are copied in one piece, then cut in the array: one copy
      // and one array per read instead of one per line (the records keep the array, see
      // PackedRecords), and the newline search and UTF-8 check run on the array, 8 bytes per step.
      int last = in.indexOf(start + readable, start, (byte) '\n'); // backwards
      if (last < 0) {
        if (readable >= (long) maxFrameBytes + 2) {
          discarding = true;
          out.add(tooLong(ctx));
          continue; // the discarding branch skips to the newline
        }
        return;
      }
      byte[] data = new byte[last + 1 - start];
      in.getBytes(start, data);
      in.readerIndex(last + 1);
      if (!splitClean(data, out)) {
        split(ctx, data, out);
      }
    }
  }

  /**
   * The common case in one pass over {@code data} (complete lines, the last one ending in a
   * newline): 8 bytes per step, every newline of a word found at once, the ASCII check on the same
   * words. Emits one {@link Frame.Lines} and returns true; returns false, emitting nothing, when a
   * line is too long or (when validated) the read has non-ASCII bytes: {@link #split} then cuts it,
   * reporting each bad line.
   */
  private boolean splitClean(byte[] a, List<Object> out) {
    int capacity = Math.min(a.length / averageLineBytes + 1, MAX_PRESIZE);
    int[] starts = new int[capacity];
    int[] ends = new int[capacity];
    int n = 0;
    int pos = 0;
    long any = 0;
    int i = 0;
    int length = a.length;
    for (; i + 8 <= length; i += 8) {
      long w = (long) LONGS.get(a, i);
      any |= w;
      long x = w ^ NEWLINES;
      long found = ~(((x & LOW_BITS) + LOW_BITS) | x | LOW_BITS); // 0x80 where a byte is '\n'
      while (found != 0) {
        int eol = i + (Long.numberOfTrailingZeros(found) >>> 3);
        found &= found - 1;
        int end = eol > pos && a[eol - 1] == '\r' ? eol - 1 : eol;
        if (end - pos > maxFrameBytes) {
          return false;
        }
        if (n == starts.length) {
          starts = Arrays.copyOf(starts, n * 2);
          ends = Arrays.copyOf(ends, n * 2);
        }
        starts[n] = pos;
        ends[n] = end;
        n++;
        pos = eol + 1;
      }
    }
    for (; i < length; i++) {
      byte b = a[i];
      any |= b;
      if (b == '\n') {
        int end = i > pos && a[i - 1] == '\r' ? i - 1 : i;
        if (end - pos > maxFrameBytes) {
          return false;
        }
        if (n == starts.length) {
          starts = Arrays.copyOf(starts, n * 2);
          ends = Arrays.copyOf(ends, n * 2);
        }
        starts[n] = pos;
        ends[n] = end;
        n++;
        pos = i + 1;
      }
    }
    if (validateUtf8 && (any & HIGH_BITS) != 0) {
      return false;
    }
    out.add(new Frame.Lines(a, starts, ends, n));
    averageLineBytes = Math.max(1, length / n);
    return true;
  }

  /**
   * Cuts {@code data} (complete lines, the last one ending in a newline) into frames, a bad line
   * reported between them.
   */
  private void split(ChannelHandlerContext ctx, byte[] data, List<Object> out) {
    int capacity = Math.min(data.length / averageLineBytes + 1, MAX_PRESIZE);
    int[] starts = new int[capacity];
    int[] ends = new int[capacity];
    int n = 0;
    int lines = 0;
    boolean ascii = !validateUtf8 || Utf8.isAscii(data, 0, data.length);
    int pos = 0;
    while (pos < data.length) {
      int eol = indexOfNewline(data, pos);
      int end = eol > pos && data[eol - 1] == '\r' ? eol - 1 : eol;
      int len = end - pos;
      SocketProtocolException bad = null;
      if (eol - pos >= (long) maxFrameBytes + 2) {
        bad = tooLong(ctx).error(); // as when it was found without its newline
      } else if (len > maxFrameBytes) {
        bad =
            new FrameTooLongException(
                "Line of "
                    + len
                    + " bytes from "
                    + ctx.channel().remoteAddress()
                    + " exceeds max-frame-bytes="
                    + maxFrameBytes
                    + "; dropped");
      } else if (!ascii && !Utf8.isValid(data, pos, end)) {
        bad =
            new InvalidUtf8Exception(
                "Line of "
                    + len
                    + " bytes from "
                    + ctx.channel().remoteAddress()
                    + " is not valid UTF-8;"
                    + " dropped (send UTF-8 or set validate-utf8: false)");
      }
      if (bad != null) {
        if (n > 0) {
          out.add(new Frame.Lines(data, starts, ends, n));
          starts = new int[capacity];
          ends = new int[capacity];
          n = 0;
        }
        out.add(new Frame.Bad(bad, false));
      } else {
        if (n == starts.length) {
          starts = Arrays.copyOf(starts, n * 2);
          ends = Arrays.copyOf(ends, n * 2);
        }
        starts[n] = pos;
        ends[n] = end;
        n++;
        lines++;
      }
      pos = eol + 1;
    }
    if (n > 0) {
      out.add(new Frame.Lines(data, starts, ends, n));
    }
    if (lines > 0) {
      averageLineBytes = Math.max(1, data.length / lines);
    }
  }

  private Frame.Bad tooLong(ChannelHandlerContext ctx) {
    return new Frame.Bad(
        new FrameTooLongException(
            "Line from "
                + ctx.channel().remoteAddress()
                + " is longer than max-frame-bytes="
                + maxFrameBytes
                + "; dropped up to its newline (raise max-frame-bytes if such lines are"
                + " legitimate)"),
        false);
  }

  /** The index of the first {@code \n} at or after {@code from}, 8 bytes per step; -1 if none. */
  static int indexOfNewline(byte[] a, int from) {
    int i = from;
    int n = a.length;
    for (; i + 8 <= n; i += 8) {
      long x = (long) LONGS.get(a, i) ^ NEWLINES;
      long found = (x - ONES) & ~x & HIGH_BITS; // the lowest set bit marks the first zero byte
      if (found != 0) {
        return i + (Long.numberOfTrailingZeros(found) >>> 3);
      }
    }
    for (; i < n; i++) {
      if (a[i] == '\n') {
        return i;
      }
    }
    return -1;
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
