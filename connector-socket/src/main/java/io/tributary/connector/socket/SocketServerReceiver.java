package io.tributary.connector.socket;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.tributary.connector.socket.SocketOptions.Framing;
import io.tributary.connector.socket.SocketOptions.Mode;
import io.tributary.connector.socket.internal.ConfigChecks;
import io.tributary.connector.socket.internal.NamedThreadFactory;
import io.tributary.connector.socket.internal.RecordStore;
import io.tributary.connector.socket.internal.ServerChannelInitializer;
import io.tributary.connector.socket.internal.SocketMetrics;
import io.tributary.connector.socket.internal.Tls;
import io.tributary.core.api.Config;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.SupportsPartitionExpiry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens on {@code host:port} (loopback by default) and turns what many concurrent senders write
 * into records: the gateway's ingestion port.
 *
 * <h2>Modes</h2>
 *
 * <ul>
 *   <li><b>Plain</b> ({@code reliable: false}): each line ({@code framing: lines}) or
 *       length-prefixed frame becomes a record with position {@code (source, "host:port", n)}
 *       ({@code host:port} as configured, {@code n} growing across restarts) and a {@code remote}
 *       header with the sender's address. The frames of one read burst are stored as one group with
 *       {@code storeReliablyAsync}, so they reach the write-ahead log, but the sender is told
 *       nothing: at-most-once from the sender's point of view.
 *   <li><b>Reliable</b> ({@code reliable: true}): the TRB1 protocol (README). A frame is
 *       acknowledged only once it is durable; position {@code (source, producerId, seq)}. With a
 *       WAL-backed pipeline and an idempotent or transactional sink every acknowledged frame is
 *       delivered exactly once.
 * </ul>
 *
 * <h2>Threads and backpressure</h2>
 *
 * Netty event loops named {@code tributary-<source>-socket-N} ({@code io-threads} of them) do all
 * I/O; they never block: stores are asynchronous, and while a connection's group is being stored
 * its reads are paused (autoRead off), so a slow runtime slows senders through TCP flow control
 * instead of buffering without bound.
 *
 * <h2>Lifecycle</h2>
 *
 * {@link #onStart()} binds (fails fast if the port is taken) and returns; {@link #onStop()} closes
 * the listening socket and every connection and shuts the event loops down with zero quiet period.
 * Restartable.
 *
 * <p>Thread safety: {@code onStart}/{@code onStop} are called by the supervisor, never
 * concurrently; {@link #boundAddress()} may be called from any thread.
 */
public final class SocketServerReceiver extends Receiver implements SupportsPartitionExpiry {
  private static final Logger LOG = LoggerFactory.getLogger(SocketServerReceiver.class);

  private final Config config;

  /** {@code null}: the runtime's ({@link #meterRegistry()}). */
  private final MeterRegistry registry;

  private final SslContext ssl;
  private final AtomicBoolean restartRequested = new AtomicBoolean();
  private final Set<Channel> children = ConcurrentHashMap.newKeySet();
  private volatile EventLoopGroup group;
  private volatile Channel serverChannel;
  private volatile SocketMetrics metrics;

  /**
   * Registers its meters in the registry of the runtime that runs it (the pipeline's), tagged with
   * {@code pipeline} and {@code source}.
   */
  public SocketServerReceiver(Config config) {
    this(config, null);
  }

  /**
   * @param config parsed with {@link SocketOptions#SPEC}; mode must be {@code server}
   * @param registry where the meters go ({@code null}: the runtime's); they are tagged with the
   *     pipeline id and the source name either way
   * @throws io.tributary.core.api.ConfigException if the options do not fit server mode or TLS
   *     files are unusable
   */
  public SocketServerReceiver(Config config, MeterRegistry registry) {
    ConfigChecks.check(config, Mode.SERVER);
    this.config = config;
    this.registry = registry;
    this.ssl =
        config.get(SocketOptions.TLS_ENABLED)
            ? Tls.server(
                config.get(SocketOptions.TLS_CERT_FILE), config.get(SocketOptions.TLS_KEY_FILE))
            : null;
  }

  /**
   * Reliable mode: {@code reliable.producer-idle-timeout}, after which the runtime forgets an idle
   * producer's stored seq. Plain mode: empty (its one frame counter is kept, so it keeps growing
   * across restarts).
   */
  @Override
  public Optional<Duration> partitionIdleTimeout() {
    return config.get(SocketOptions.RELIABLE)
        ? Optional.of(config.get(SocketOptions.RELIABLE_PRODUCER_IDLE_TIMEOUT))
        : Optional.empty();
  }

  /** The open connections (the status page's "connected clients"). */
  @Override
  public java.util.OptionalInt connectedClients() {
    return java.util.OptionalInt.of(children.size());
  }

  @Override
  public void onStart() throws Exception {
    String source = receiverName();
    if (metrics == null) {
      // kept across restarts: meters register once
      metrics =
          new SocketMetrics(
              registry != null ? registry : meterRegistry(),
              pipelineId(),
              source,
              config.get(SocketOptions.MAX_BUFFERED_BYTES));
    }
    restartRequested.set(false);
    SocketMetrics m = metrics;
    String host = config.get(SocketOptions.HOST);
    int port = config.get(SocketOptions.PORT);
    String partition = host + ":" + port;
    AtomicLong offsets = new AtomicLong(lastStoredOffset(partition).orElse(-1L) + 1);
    RecordStore store =
        new RecordStore() {
          @Override
          public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
            try {
              return SocketServerReceiver.this.storeReliablyAsync(batch);
            } catch (RuntimeException e) {
              return CompletableFuture.failedFuture(e);
            }
          }

          @Override
          public OptionalLong lastStoredOffset(String p) {
            return SocketServerReceiver.this.lastStoredOffset(p);
          }

          @Override
          public void storeFailed(Throwable cause) {
            // The runtime's WAL failures are sticky: retrying on the same start cannot help.
            if (restartRequested.compareAndSet(false, true)) {
              restart(
                  "reliable store failed for source " + source + " (" + m.logContext() + ")",
                  cause);
            }
          }
        };
    ServerChannelInitializer init =
        new ServerChannelInitializer(
            ssl,
            config.get(SocketOptions.RELIABLE),
            config.get(SocketOptions.FRAMING),
            Math.toIntExact(config.get(SocketOptions.MAX_FRAME_BYTES)),
            config.get(SocketOptions.VALIDATE_UTF8),
            config.get(SocketOptions.MAX_CONNECTIONS),
            children,
            store,
            metrics,
            source,
            partition,
            offsets,
            config.get(SocketOptions.RELIABLE_PRODUCER_IDLE_TIMEOUT),
            config.get(SocketOptions.READ_IDLE_TIMEOUT),
            config.get(SocketOptions.SYSLOG_FORMAT));
    EventLoopGroup g =
        new NioEventLoopGroup(
            config.get(SocketOptions.IO_THREADS),
            new NamedThreadFactory("tributary-" + source + "-socket"));
    group = g;
    try {
      serverChannel =
          new ServerBootstrap()
              .group(g)
              .channel(NioServerSocketChannel.class)
              .option(ChannelOption.SO_REUSEADDR, true)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(init)
              .bind(host, port)
              .sync()
              .channel();
    } catch (Exception e) {
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new SocketConnectException(
          "Cannot listen on "
              + host
              + ":"
              + port
              + " for source "
              + source
              + ": "
              + e
              + " (is the port in use? change port or host)",
          e);
    }
    LOG.info(
        "event=listening {} address={} reliable={} framing={} tls={}",
        m.logContext(),
        boundAddress(),
        config.get(SocketOptions.RELIABLE),
        config.get(SocketOptions.FRAMING).name().toLowerCase(),
        ssl != null);
  }

  @Override
  public void onStop() throws Exception {
    Channel sc = serverChannel;
    serverChannel = null;
    if (sc != null) {
      sc.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    List<Channel> open = new ArrayList<>(children);
    if (!open.isEmpty()) {
      // Reliable clients are told shutting_down (the documented error), not just closed.
      for (Channel c : open) {
        ServerChannelInitializer.shutdown(c);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      for (Channel c : open) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !c.closeFuture().awaitUninterruptibly(left, TimeUnit.NANOSECONDS)) {
          c.close();
        }
      }
      LOG.info("event=connections_closed {} connections={}", logContext(), open.size());
    }
    EventLoopGroup g = group;
    group = null;
    if (g != null) {
      if (!g.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS)) {
        LOG.warn(
            "event=stop_slow {} detail=\"event loops did not terminate within 10s\"", logContext());
      }
    }
    children.clear();
    LOG.info("event=stopped {}", logContext());
  }

  private String logContext() {
    SocketMetrics m = metrics;
    return m != null ? m.logContext() : "source=" + receiverName();
  }

  /**
   * The address the server listens on (useful with {@code port: 0}); {@code null} when not started.
   */
  public InetSocketAddress boundAddress() {
    Channel sc = serverChannel;
    return sc == null ? null : (InetSocketAddress) sc.localAddress();
  }

  /**
   * How many inputs were rejected for {@code reason} (the cumulative {@code
   * tributary.socket.errors} counter).
   */
  public double errorCount(SocketErrorReason reason) {
    SocketMetrics m = metrics;
    return m == null ? 0 : m.errorCount(reason);
  }

  /** Framing in plain mode. */
  public Framing framing() {
    return config.get(SocketOptions.FRAMING);
  }
}
