package io.tributary.connector.socket.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.tributary.connector.socket.SocketErrorReason;
import java.io.IOException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of the ingest handlers: connection gauge, TLS handshake failures and I/O errors (counted,
 * one WARN line, the connection closed).
 *
 * <p>Thread safety: one instance per channel, used on its event loop only.
 */
abstract class ConnectionHandler extends ChannelInboundHandlerAdapter {
  static final Logger LOG = LoggerFactory.getLogger("io.tributary.connector.socket");

  final SocketMetrics metrics;
  private boolean counted;

  ConnectionHandler(SocketMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    counted = true;
    metrics.connections().incrementAndGet();
    LOG.debug(
        "event=connected source={} remote={}", metrics.source(), ctx.channel().remoteAddress());
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (counted) {
      counted = false;
      metrics.connections().decrementAndGet();
    }
    LOG.debug(
        "event=disconnected source={} remote={}", metrics.source(), ctx.channel().remoteAddress());
    super.channelInactive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
      metrics.reject(
          SocketErrorReason.TLS_HANDSHAKE,
          ctx.channel().remoteAddress(),
          "connection closed",
          String.valueOf(e.cause()));
      ctx.close();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable root =
        cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    if (root instanceof SSLException) {
      // Counted by the handshake event (or a TLS record error after it): close without a second
      // line.
      LOG.debug(
          "event=tls_error source={} remote={} detail=\"{}\"",
          metrics.source(),
          ctx.channel().remoteAddress(),
          root.toString());
    } else if (root instanceof IOException) {
      metrics.reject(
          SocketErrorReason.IO_ERROR,
          ctx.channel().remoteAddress(),
          "connection closed",
          root.toString());
    } else {
      metrics.reject(
          SocketErrorReason.PROTOCOL_ERROR,
          ctx.channel().remoteAddress(),
          "connection closed",
          "unexpected " + root);
      LOG.debug("Unexpected exception in socket pipeline", root);
    }
    ctx.close();
  }
}
