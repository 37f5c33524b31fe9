package io.tributary.connector.flume.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.tributary.connector.flume.FlumeErrorReason;
import io.tributary.connector.flume.FlumeInputException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes Avro's Netty transport framing ({@code serial:int32, count:int32, count × (length:int32,
 * bytes)}), bounded: Avro's own decoder trusts the lengths a client sends (a few garbage bytes can
 * make it allocate gigabytes). A frame is emitted only when complete, so a request is never read in
 * part.
 *
 * <ul>
 *   <li>{@code count} above {@link #MAX_BUFFERS} or a negative length: {@link
 *       FlumeErrorReason#BAD_FRAME} (a non-Avro client);
 *   <li>the first bytes of a connection look like a TLS ClientHello: {@link
 *       FlumeErrorReason#TLS_ON_PLAIN_PORT} (only when this port has no TLS);
 *   <li>the frame's bytes exceed {@code maxRequestBytes}: {@link
 *       FlumeErrorReason#REQUEST_TOO_LARGE}.
 * </ul>
 *
 * <p>Thread safety: one instance per channel, used on its event loop.
 */
public final class AvroFrameDecoder extends ByteToMessageDecoder {
  /** Avro's Netty client sends a handful of buffers (8 KiB each) per call; this is generous. */
  static final int MAX_BUFFERS = 1 << 20;

  private final long maxRequestBytes;
  private final boolean detectTls;
  private boolean first = true;
  private int truncated;

  public AvroFrameDecoder(long maxRequestBytes, boolean detectTls) {
    this.maxRequestBytes = maxRequestBytes;
    this.detectTls = detectTls;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (first && detectTls && in.readableBytes() >= 3) {
      // TLS record: content type 22 (handshake), version 3.x
      if (in.getByte(in.readerIndex()) == 0x16 && in.getByte(in.readerIndex() + 1) == 0x03) {
        throw new FlumeInputException(
            FlumeErrorReason.TLS_ON_PLAIN_PORT,
            "the client started a TLS handshake, but this port has no TLS (set tls.enabled: true,"
                + " or ssl = false on the sender)");
      }
    }
    if (in.readableBytes() < 8) {
      return;
    }
    first = false;
    int start = in.readerIndex();
    int serial = in.getInt(start);
    int count = in.getInt(start + 4);
    if (count < 0 || count > MAX_BUFFERS) {
      throw new FlumeInputException(
          FlumeErrorReason.BAD_FRAME,
          "not Avro RPC framing: buffer count "
              + count
              + " (expected: 0 to "
              + MAX_BUFFERS
              + "); is the sender speaking Flume's Avro protocol?");
    }
    long total = 8;
    int pos = start + 8;
    for (int i = 0; i < count; i++) {
      if (in.writerIndex() - pos < 4) {
        checkSize(total);
        return;
      }
      int len = in.getInt(pos);
      if (len < 0) {
        throw new FlumeInputException(
            FlumeErrorReason.BAD_FRAME,
            "not Avro RPC framing: buffer length " + len + " (expected: 0 or more)");
      }
      total += 4L + len;
      checkSize(total);
      pos += 4;
      if (in.writerIndex() - pos < len) {
        return;
      }
      pos += len;
    }
    List<ByteBuffer> buffers = new ArrayList<>(count);
    in.skipBytes(8);
    for (int i = 0; i < count; i++) {
      int len = in.readInt();
      ByteBuffer bb = ByteBuffer.allocate(len);
      in.readBytes(bb);
      bb.flip();
      buffers.add(bb);
    }
    out.add(new AvroRequest(serial, buffers, (int) Math.min(Integer.MAX_VALUE, total)));
  }

  private void checkSize(long total) {
    if (total > maxRequestBytes) {
      throw new FlumeInputException(
          FlumeErrorReason.REQUEST_TOO_LARGE,
          "request of at least "
              + total
              + " bytes exceeds max-request-bytes="
              + maxRequestBytes
              + " (lower the sender's batch-size or raise max-request-bytes)");
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (in.isReadable()) {
      decode(ctx, in, out);
    }
    if (in.isReadable()) {
      truncated = in.readableBytes();
      in.skipBytes(in.readableBytes());
    }
  }

  /** Bytes of a request that was never completed when the connection closed; 0 if none. */
  int truncatedBytes() {
    return truncated;
  }

  /** Bytes received of a request not yet complete. */
  int bufferedBytes() {
    return actualReadableBytes();
  }
}
