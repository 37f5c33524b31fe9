package io.tributary.connector.socket.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.tributary.connector.socket.SocketErrorReason;
import java.io.IOException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of the ingest handlers: connection gauge, TLS handshake failures and I/O errors (counted,
 * one WARN line, the connection closed), the read-idle timeout, the peer's TLS {@code close_notify}
 * and the receiver's shutdown.
 *
 * <p>Thread safety: one instance per channel, used on its event loop only.
 */
abstract class ConnectionHandler extends ChannelInboundHandlerAdapter {
  static final Logger LOG = LoggerFactory.getLogger("io.tributary.connector.socket");

  /** Fired into every connection's pipeline when the receiver stops. */
  static final Object SHUTDOWN = new Object();

  final SocketMetrics metrics;
  private boolean counted;

  ConnectionHandler(SocketMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    counted = true;
    metrics.connections().incrementAndGet();
    LOG.debug("event=connected {} remote={}", metrics.logContext(), ctx.channel().remoteAddress());
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (counted) {
      counted = false;
      metrics.connections().decrementAndGet();
    }
    LOG.debug(
        "event=disconnected {} remote={}", metrics.logContext(), ctx.channel().remoteAddress());
    super.channelInactive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
      metrics.reject(
          SocketErrorReason.TLS_HANDSHAKE,
          ctx.channel().remoteAddress(),
          "connection closed",
          Printable.describe(e.cause()));
      ctx.close();
      return;
    }
    if (evt instanceof SslCloseCompletionEvent e) {
      if (!e.isSuccess()) {
        return; // the connection ended without close_notify: channelInactive handles it
      }
      // The peer sent close_notify: it sends nothing more. Answer with ours and close (SslHandler
      // writes close_notify on close) once what it sent is handled; waiting for the peer to close
      // first would hang clients such as socat and openssl s_client, which wait for our answer.
      LOG.debug(
          "event=tls_close_notify {} remote={}",
          metrics.logContext(),
          ctx.channel().remoteAddress());
      onPeerClosed(ctx);
      return;
    }
    if (evt instanceof IdleStateEvent e && e.state() == IdleState.READER_IDLE) {
      if (!ctx.channel().config().isAutoRead()) {
        return; // reads are paused by us (backpressure): the peer is not idle, we are
      }
      onIdle(ctx);
      return;
    }
    if (evt == SHUTDOWN) {
      onShutdown(ctx);
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  /** The peer sent nothing for read-idle-timeout: counted, logged (rate-limited), closed. */
  void onIdle(ChannelHandlerContext ctx) {
    metrics.reject(
        SocketErrorReason.IDLE_TIMEOUT,
        ctx.channel().remoteAddress(),
        "connection closed",
        "sent nothing within read-idle-timeout");
    ctx.close();
  }

  /** The peer ended TLS with close_notify. Default: close now (stores in flight still finish). */
  void onPeerClosed(ChannelHandlerContext ctx) {
    ctx.close();
  }

  /** The receiver stops. Default: close (what was read completely is still stored). */
  void onShutdown(ChannelHandlerContext ctx) {
    ctx.close();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable root =
        cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    if (root instanceof SSLException) {
      // Counted by the handshake event (or a TLS record error after it): close without a second
      // line.
      LOG.debug(
          "event=tls_error {} remote={} detail=\"{}\"",
          metrics.logContext(),
          ctx.channel().remoteAddress(),
          Printable.describe(root));
    } else if (root instanceof IOException) {
      metrics.reject(
          SocketErrorReason.IO_ERROR,
          ctx.channel().remoteAddress(),
          "connection closed",
          Printable.describe(root));
    } else if (root instanceof OutOfMemoryError) {
      metrics.reject(
          SocketErrorReason.MEMORY_BUDGET,
          ctx.channel().remoteAddress(),
          "connection closed",
          root.toString() + " (lower max-buffered-bytes or raise -XX:MaxDirectMemorySize)");
    } else {
      metrics.reject(
          SocketErrorReason.PROTOCOL_ERROR,
          ctx.channel().remoteAddress(),
          "connection closed",
          "unexpected " + Printable.describe(root));
      LOG.debug("Unexpected exception in socket pipeline", root);
    }
    ctx.close();
  }
}
