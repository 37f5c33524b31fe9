package io.tributary.connector.socket;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.tributary.connector.socket.SocketOptions.Framing;
import io.tributary.connector.socket.SocketOptions.Mode;
import io.tributary.connector.socket.internal.Backoff;
import io.tributary.connector.socket.internal.ConfigChecks;
import io.tributary.connector.socket.internal.LengthPrefixedFrameDecoder;
import io.tributary.connector.socket.internal.LineFrameDecoder;
import io.tributary.connector.socket.internal.NamedThreadFactory;
import io.tributary.connector.socket.internal.OctetCountedFrameDecoder;
import io.tributary.connector.socket.internal.PlainIngestHandler;
import io.tributary.connector.socket.internal.RecordStore;
import io.tributary.connector.socket.internal.SocketMetrics;
import io.tributary.connector.socket.internal.Tls;
import io.tributary.core.api.Config;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects to {@code host:port} and turns what the peer writes into records, like Spark's {@code
 * socketTextStream(host, port)}: one record per line (or per length-prefixed frame).
 *
 * <p>Records carry the position {@code (source, "host:port", n)}: {@code n} counts frames and
 * continues after the highest offset stored before (across reconnects and restarts). The frames of
 * one read burst are stored as one group with {@code storeReliablyAsync}; while a group is being
 * stored, reading pauses (backpressure through TCP).
 *
 * <p>Guarantee: <b>at-most-once</b>. A plain socket cannot replay: what the peer sent before a
 * crash and the runtime had not stored yet is lost, and nothing tells the peer what arrived. Stored
 * records are durable in the pipeline's write-ahead log.
 *
 * <p>When the peer closes the connection or cannot be reached, the receiver reconnects after {@code
 * reconnect.initial-backoff}, doubling up to {@code reconnect.max-backoff}; the delay resets once
 * connected.
 *
 * <p>Lifecycle: {@link #onStart()} starts connecting and returns at once; {@link #onStop()} closes
 * the connection and shuts the event loop down with zero quiet period. Restartable.
 *
 * <p>Thread safety: {@code onStart}/{@code onStop} are called by the supervisor, never
 * concurrently; {@link #connectionCount()} from any thread. One event-loop thread, {@code
 * tributary-<source>-socket-0}, does all I/O.
 */
public final class SocketClientReceiver extends Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(SocketClientReceiver.class);

  private final Config config;
  private final MeterRegistry registry;
  private final SslContext ssl;
  private final AtomicInteger connections = new AtomicInteger();
  private volatile EventLoopGroup group;
  private volatile Channel channel;
  private volatile boolean stopping;
  private volatile SocketMetrics metrics;

  /**
   * Registers its meters in the registry of the runtime that runs it (the pipeline's), tagged with
   * {@code pipeline} and {@code source}.
   */
  public SocketClientReceiver(Config config) {
    this(config, null);
  }

  /**
   * @param config parsed with {@link SocketOptions#SPEC}; mode must be {@code client}
   * @param registry where the meters go ({@code null}: the runtime's)
   * @throws io.tributary.core.api.ConfigException if the options do not fit client mode
   */
  public SocketClientReceiver(Config config, MeterRegistry registry) {
    ConfigChecks.check(config, Mode.CLIENT);
    this.config = config;
    this.registry = registry;
    this.ssl =
        config.get(SocketOptions.TLS_ENABLED)
            ? Tls.client(config.get(SocketOptions.TLS_TRUST_CERT_FILE))
            : null;
  }

  @Override
  public void onStart() {
    stopping = false;
    String source = receiverName();
    String host = config.get(SocketOptions.HOST);
    int port = config.get(SocketOptions.PORT);
    String partition = host + ":" + port;
    if (metrics == null) {
      // kept across restarts: meters register once
      metrics =
          new SocketMetrics(
              registry != null ? registry : meterRegistry(), pipelineId(), source, Long.MAX_VALUE);
    }
    SocketMetrics metrics = this.metrics;
    AtomicLong offsets = new AtomicLong(lastStoredOffset(partition).orElse(-1L) + 1);
    Backoff backoff =
        new Backoff(
            config.get(SocketOptions.RECONNECT_INITIAL_BACKOFF),
            config.get(SocketOptions.RECONNECT_MAX_BACKOFF));
    RecordStore store =
        new RecordStore() {
          @Override
          public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
            try {
              return SocketClientReceiver.this.storeReliablyAsync(batch);
            } catch (RuntimeException e) {
              return CompletableFuture.failedFuture(e);
            }
          }

          @Override
          public OptionalLong lastStoredOffset(String p) {
            return SocketClientReceiver.this.lastStoredOffset(p);
          }
        };
    int maxFrame = Math.toIntExact(config.get(SocketOptions.MAX_FRAME_BYTES));
    Framing framing = config.get(SocketOptions.FRAMING);
    boolean utf8 = config.get(SocketOptions.VALIDATE_UTF8);
    EventLoopGroup g =
        new NioEventLoopGroup(1, new NamedThreadFactory("tributary-" + source + "-socket"));
    group = g;
    Bootstrap bootstrap =
        new Bootstrap()
            .group(g)
            .channel(NioSocketChannel.class)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int)
                    Math.min(
                        Integer.MAX_VALUE, config.get(SocketOptions.CONNECT_TIMEOUT).toMillis()))
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (ssl != null) {
                      ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc(), host, port));
                    }
                    ch.pipeline()
                        .addLast(
                            "decoder",
                            switch (framing) {
                              case LINES -> new LineFrameDecoder(maxFrame, utf8);
                              case LENGTH_PREFIXED -> new LengthPrefixedFrameDecoder(maxFrame);
                              case OCTET_COUNTED -> new OctetCountedFrameDecoder(maxFrame, null);
                            });
                    ch.pipeline()
                        .addLast(
                            "ingest",
                            new PlainIngestHandler(store, metrics, source, partition, offsets));
                  }
                });
    connect(bootstrap, backoff, source, host, port);
  }

  private void connect(Bootstrap bootstrap, Backoff backoff, String source, String host, int port) {
    if (stopping) {
      return;
    }
    ChannelFuture cf;
    try {
      cf = bootstrap.connect(host, port);
    } catch (RejectedExecutionException e) {
      return; // stopping
    }
    cf.addListener(
        f -> {
          if (f.isSuccess()) {
            backoff.reset();
            Channel ch = cf.channel();
            channel = ch;
            connections.incrementAndGet();
            LOG.info(
                "event=connected pipeline={} source={} peer={}:{}",
                pipelineId(),
                source,
                host,
                port);
            ch.closeFuture()
                .addListener(
                    c -> {
                      if (!stopping) {
                        long delay = backoff.nextDelayMillis();
                        LOG.info(
                            "event=peer_closed pipeline={} source={} peer={}:{} reconnect_in_ms={}",
                            pipelineId(),
                            source,
                            host,
                            port,
                            delay);
                        schedule(bootstrap, backoff, source, host, port, delay);
                      }
                    });
            if (stopping) {
              ch.close();
            }
          } else if (!stopping) {
            long delay = backoff.nextDelayMillis();
            LOG.warn(
                "event=connect_failed pipeline={} source={} peer={}:{} reconnect_in_ms={}"
                    + " detail=\"{}\"",
                pipelineId(),
                source,
                host,
                port,
                delay,
                f.cause());
            schedule(bootstrap, backoff, source, host, port, delay);
          }
        });
  }

  private void schedule(
      Bootstrap bootstrap, Backoff backoff, String source, String host, int port, long delayMs) {
    EventLoopGroup g = group;
    if (g == null || stopping) {
      return;
    }
    try {
      g.schedule(
          () -> connect(bootstrap, backoff, source, host, port), delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // Shutting down.
    }
  }

  @Override
  public void onStop() throws Exception {
    stopping = true;
    Channel ch = channel;
    channel = null;
    if (ch != null) {
      ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    EventLoopGroup g = group;
    group = null;
    if (g != null && !g.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS)) {
      LOG.warn(
          "event=stop_slow pipeline={} source={} detail=\"event loop did not terminate within"
              + " 10s\"",
          pipelineId(),
          receiverName());
    }
  }

  /** 1 while the connection to the peer is up, else 0. */
  @Override
  public java.util.OptionalInt connectedClients() {
    Channel ch = channel;
    return java.util.OptionalInt.of(ch != null && ch.isActive() ? 1 : 0);
  }

  /** How many connections were established since construction (a reconnect counts again). */
  public int connectionCount() {
    return connections.get();
  }
}
