package io.tributary.connector.flume.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.timeout.IdleStateEvent;
import io.tributary.connector.flume.FlumeErrorReason;
import io.tributary.connector.flume.FlumeInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import javax.net.ssl.SSLException;
import org.apache.avro.ipc.Responder;

/**
 * Answers the Avro calls of one push connection, one at a time: a call runs on a caller thread
 * (where the protocol implementation may block until the write-ahead log holds the batch) and its
 * answer is written back on the event loop. While a call runs, the connection is not read (autoRead
 * off), so a slow runtime slows the sender through TCP instead of queueing requests.
 *
 * <p>Every rejected input is counted under its {@link FlumeErrorReason} and closes this connection
 * only.
 *
 * <p>Thread safety: one instance per channel; its fields are touched on the channel's event loop.
 */
public final class PushConnectionHandler extends ChannelInboundHandlerAdapter {
  private final Responder responder;
  private final Executor callers;
  private final FlumeMetrics metrics;
  private final AvroFrameDecoder decoder;
  private final ArrayDeque<AvroRequest> queue = new ArrayDeque<>();
  private ServerTransceiver meta;
  private ChannelHandlerContext ctx;
  private boolean busy;
  private boolean closing;

  public PushConnectionHandler(
      Responder responder, Executor callers, FlumeMetrics metrics, AvroFrameDecoder decoder) {
    this.responder = responder;
    this.callers = callers;
    this.metrics = metrics;
    this.decoder = decoder;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.meta = new ServerTransceiver(String.valueOf(ctx.channel().remoteAddress()));
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    metrics.connections().incrementAndGet();
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    metrics.connections().decrementAndGet();
    if (!closing && decoder.truncatedBytes() > 0) {
      metrics.reject(
          FlumeErrorReason.TRUNCATED_REQUEST,
          ctx.channel().remoteAddress(),
          "partial request dropped (not answered)",
          "the connection closed after " + decoder.truncatedBytes() + " bytes of a request");
    }
    closing = true;
    queue.clear();
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof AvroRequest req)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (closing) {
      return;
    }
    queue.add(req);
    if (!busy) {
      dispatchNext();
    }
  }

  private void dispatchNext() {
    AvroRequest req = queue.poll();
    if (req == null) {
      ctx.channel().config().setAutoRead(true);
      return;
    }
    busy = true;
    ctx.channel().config().setAutoRead(false);
    PushCall call = new PushCall(ctx.channel().remoteAddress());
    try {
      callers.execute(() -> answer(req, call));
    } catch (RejectedExecutionException e) {
      // the receiver is stopping: the sender gets no answer and sends again elsewhere or later
      closing = true;
      ctx.close();
    }
  }

  private void answer(AvroRequest req, PushCall call) {
    List<ByteBuffer> response;
    PushCall.enter(call);
    try {
      response = responder.respond(req.buffers(), meta);
    } catch (IOException | RuntimeException e) {
      call.rejectAndClose(FlumeErrorReason.BAD_REQUEST, "undecodable Avro request: " + e);
      response = null;
    } finally {
      PushCall.exit();
    }
    List<ByteBuffer> r = response;
    try {
      ctx.executor().execute(() -> onAnswered(req.serial(), r, call));
    } catch (RejectedExecutionException e) {
      // the receiver stopped meanwhile: the connection is gone, the sender gets no answer
    }
  }

  private void onAnswered(int serial, List<ByteBuffer> response, PushCall call) {
    busy = false;
    if (!ctx.channel().isActive()) {
      return;
    }
    if (call.reason != null) {
      closing = true;
      metrics.reject(call.reason, call.remote, "answered, connection closed", call.detail);
      if (response != null) {
        ctx.writeAndFlush(encode(serial, response)).addListener(ChannelFutureListener.CLOSE);
      } else {
        ctx.close();
      }
      return;
    }
    if (response != null) {
      ctx.writeAndFlush(encode(serial, response));
    }
    dispatchNext();
  }

  private ByteBuf encode(int serial, List<ByteBuffer> buffers) {
    int size = 8;
    for (ByteBuffer b : buffers) {
      size += 4 + b.remaining();
    }
    ByteBuf out = ctx.alloc().buffer(size);
    out.writeInt(serial);
    out.writeInt(buffers.size());
    for (ByteBuffer b : buffers) {
      out.writeInt(b.remaining());
      out.writeBytes(b.duplicate());
    }
    return out;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      if (!busy && !closing) {
        closing = true;
        boolean partial = decoder.bufferedBytes() > 0;
        metrics.reject(
            partial ? FlumeErrorReason.TRUNCATED_REQUEST : FlumeErrorReason.IDLE_TIMEOUT,
            ctx.channel().remoteAddress(),
            "connection closed",
            partial
                ? "stalled after "
                    + decoder.bufferedBytes()
                    + " bytes of a request for longer than idle-timeout"
                : "nothing received for longer than idle-timeout");
        ctx.close();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (closing) {
      ctx.close();
      return;
    }
    closing = true;
    FlumeErrorReason reason = FlumeErrorReason.IO_ERROR;
    String detail = String.valueOf(cause);
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof FlumeInputException fe) {
        reason = fe.reason();
        detail = fe.getMessage();
        break;
      }
      if (t instanceof DecompressionException) {
        reason = FlumeErrorReason.BAD_DEFLATE;
        detail = "compression-type is deflate but the bytes do not inflate: " + t.getMessage();
        break;
      }
      if (t instanceof SSLException) {
        reason = FlumeErrorReason.TLS_HANDSHAKE;
        detail = t.getMessage();
        break;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    metrics.reject(reason, ctx.channel().remoteAddress(), "connection closed", detail);
    ctx.close();
  }
}
