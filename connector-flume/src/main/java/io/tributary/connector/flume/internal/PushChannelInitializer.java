package io.tributary.connector.flume.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.compression.JZlibDecoder;
import io.netty.handler.codec.compression.JZlibEncoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.tributary.connector.flume.FlumeErrorReason;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.avro.ipc.Responder;

/**
 * The push server's pipeline, in the order Flume's Avro source and {@code NettyAvroRpcClient} use
 * (so deflate and TLS interoperate with them): inflate/deflate outermost, then TLS, then Avro
 * framing.
 *
 * <p>Thread safety: shared by all connections; its fields are immutable or concurrent.
 */
public final class PushChannelInitializer extends ChannelInitializer<SocketChannel> {
  private final SslContext ssl;
  private final boolean deflate;
  private final IpFilterRules ipFilter;
  private final int maxConnections;
  private final long maxRequestBytes;
  private final Duration idleTimeout;
  private final Set<Channel> children;
  private final Responder responder;
  private final Executor callers;
  private final FlumeMetrics metrics;

  public PushChannelInitializer(
      SslContext ssl,
      boolean deflate,
      IpFilterRules ipFilter,
      int maxConnections,
      long maxRequestBytes,
      Duration idleTimeout,
      Set<Channel> children,
      Responder responder,
      Executor callers,
      FlumeMetrics metrics) {
    this.ssl = ssl;
    this.deflate = deflate;
    this.ipFilter = ipFilter;
    this.maxConnections = maxConnections;
    this.maxRequestBytes = maxRequestBytes;
    this.idleTimeout = idleTimeout;
    this.children = children;
    this.responder = responder;
    this.callers = callers;
    this.metrics = metrics;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    if (!ipFilter.isEmpty()) {
      String rule = ipFilter.denyingRule(ch.remoteAddress());
      if (rule != null) {
        metrics.reject(
            FlumeErrorReason.IP_REJECTED,
            ch.remoteAddress(),
            "connection closed",
            "denied by ip-filter-rules entry " + rule);
        ch.close();
        return;
      }
    }
    if (children.size() >= maxConnections) {
      metrics.reject(
          FlumeErrorReason.TOO_MANY_CONNECTIONS,
          ch.remoteAddress(),
          "connection closed",
          "already " + children.size() + " connections (max-connections=" + maxConnections + ")");
      ch.close();
      return;
    }
    children.add(ch);
    ch.closeFuture().addListener(f -> children.remove(ch));
    ChannelPipeline p = ch.pipeline();
    if (deflate) {
      p.addLast("inflater", new JZlibDecoder());
      p.addLast("deflater", new JZlibEncoder(6));
    }
    if (ssl != null) {
      p.addLast("tls", ssl.newHandler(ch.alloc()));
    }
    p.addLast("idle", new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
    AvroFrameDecoder decoder = new AvroFrameDecoder(maxRequestBytes, ssl == null && !deflate);
    p.addLast("frames", decoder);
    p.addLast("calls", new PushConnectionHandler(responder, callers, metrics, decoder));
  }
}
