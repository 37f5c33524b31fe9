package io.tributary.connector.socket.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.tributary.connector.socket.SocketErrorReason;
import io.tributary.connector.socket.SocketOptions.Framing;
import io.tributary.connector.socket.SocketOptions.SyslogFormat;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Builds each accepted connection's pipeline after checking max-connections: read-idle timer →
 * (TLS, or on a plain port a sniffer that refuses a TLS ClientHello) → decoder (its partial frame
 * counted against the memory budget) → ingest handler.
 *
 * <p>Thread safety: sharable; called on the accepted channel's event loop.
 */
public final class ServerChannelInitializer extends ChannelInitializer<SocketChannel> {
  private final SslContext ssl;
  private final boolean reliable;
  private final Framing framing;
  private final int maxFrameBytes;
  private final boolean validateUtf8;
  private final int maxConnections;
  private final Set<Channel> children;
  private final RecordStore store;
  private final SocketMetrics metrics;
  private final String source;
  private final String partition;
  private final AtomicLong offsets;
  private final ProducerRegistry producers;
  private final Duration readIdleTimeout;
  private final SyslogFormat syslog;

  public ServerChannelInitializer(
      SslContext ssl,
      boolean reliable,
      Framing framing,
      int maxFrameBytes,
      boolean validateUtf8,
      int maxConnections,
      Set<Channel> children,
      RecordStore store,
      SocketMetrics metrics,
      String source,
      String partition,
      AtomicLong offsets,
      Duration producerIdleTimeout,
      Duration readIdleTimeout,
      SyslogFormat syslog) {
    this.ssl = ssl;
    this.reliable = reliable;
    this.framing = framing;
    this.maxFrameBytes = maxFrameBytes;
    this.validateUtf8 = validateUtf8;
    this.maxConnections = maxConnections;
    this.children = children;
    this.store = store;
    this.metrics = metrics;
    this.source = source;
    this.partition = partition;
    this.offsets = offsets;
    this.producers = new ProducerRegistry(producerIdleTimeout, System::currentTimeMillis);
    this.readIdleTimeout = readIdleTimeout;
    this.syslog = syslog;
  }

  /**
   * Tells a connection the receiver stops: reliable peers get ERROR {@code shutting_down}, then
   * every connection is closed. Callable from any thread.
   */
  public static void shutdown(Channel ch) {
    ch.pipeline().fireUserEventTriggered(ConnectionHandler.SHUTDOWN);
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    if (children.size() >= maxConnections) {
      metrics.reject(
          SocketErrorReason.TOO_MANY_CONNECTIONS,
          ch.remoteAddress(),
          "connection closed",
          "already " + children.size() + " connections (max-connections=" + maxConnections + ")");
      if (reliable && ssl == null) {
        ReliableIngestHandler.refuse(
            ch,
            SocketErrorReason.TOO_MANY_CONNECTIONS,
            "Too many connections (max-connections=" + maxConnections + "); retry later");
      } else {
        ch.close();
      }
      return;
    }
    children.add(ch);
    ch.closeFuture().addListener(f -> children.remove(ch));
    ChannelPipeline p = ch.pipeline();
    // First, so that it sees raw bytes: a silent peer is closed before its TLS handshake too.
    p.addLast(
        "idle", new IdleStateHandler(readIdleTimeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS));
    if (ssl != null) {
      p.addLast("tls", ssl.newHandler(ch.alloc()));
    } else {
      p.addLast("tls-sniffer", new TlsSniffer());
    }
    MemoryBudget budget = metrics.budget();
    if (reliable) {
      p.addLast("decoder", new ReliableFrameDecoder(maxFrameBytes, budget));
      p.addLast("ingest", new ReliableIngestHandler(store, metrics, producers, source));
    } else {
      p.addLast(
          "decoder",
          switch (framing) {
            case LINES -> new LineFrameDecoder(maxFrameBytes, validateUtf8, budget);
            case LENGTH_PREFIXED -> new LengthPrefixedFrameDecoder(maxFrameBytes, budget);
            case OCTET_COUNTED -> new OctetCountedFrameDecoder(maxFrameBytes, budget);
          });
      p.addLast(
          "ingest", new PlainIngestHandler(store, metrics, source, partition, offsets, syslog));
    }
  }
}
