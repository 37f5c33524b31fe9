package io.tributary.connector.flume;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.tributary.connector.flume.internal.EventRecords;
import io.tributary.connector.flume.internal.FlumeMetrics;
import io.tributary.connector.flume.internal.IpFilterRules;
import io.tributary.connector.flume.internal.NamedThreadFactory;
import io.tributary.connector.flume.internal.PushCall;
import io.tributary.connector.flume.internal.PushChannelInitializer;
import io.tributary.connector.flume.internal.Tls;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.avro.ipc.RPCContext;
import org.apache.avro.ipc.RPCPlugin;
import org.apache.avro.ipc.specific.SpecificResponder;
import org.apache.flume.source.avro.AvroFlumeEvent;
import org.apache.flume.source.avro.AvroSourceProtocol;
import org.apache.flume.source.avro.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flume push mode: an Avro RPC server speaking Flume's {@code AvroSourceProtocol}, so an unchanged
 * agent with an {@code avro} sink, or any {@code flume-ng-sdk} {@code RpcClient} (default,
 * load-balancing, failover), sends to Tributary as it would to another agent's Avro source.
 *
 * <h2>Acknowledged only once durable</h2>
 *
 * A batch ({@code append} or {@code appendBatch}) is answered {@code OK} only after {@link
 * #storeReliably} completed: the write-ahead log holds it. Any failure answers {@code FAILED}, so
 * the agent rolls its channel transaction back and sends again: nothing the agent removed from its
 * channel is lost. (Spark's Flume receiver answered before storing.) A crash after the log write
 * and before the agent read {@code OK} makes the agent send the batch again: at-least-once, with
 * duplicates only in that window.
 *
 * <p>Each event becomes a record: the body is the value, the headers are record headers (UTF-8),
 * the {@code timestamp-header} header (Flume's {@code timestamp}) is the event time. Position:
 * partition {@code host:port} as configured, offset growing across restarts.
 *
 * <h2>Threads and backpressure</h2>
 *
 * Netty event loops ({@code tributary-<source>-flume-io-N}) do I/O and never block; calls run on
 * {@code max-threads} caller threads ({@code tributary-<source>-flume-call-N}) that wait for the
 * log. A connection is not read while its call runs, so a slow runtime slows senders through TCP.
 *
 * <h2>Lifecycle</h2>
 *
 * {@link #onStart()} binds (fails if the port is taken) and returns; {@link #onStop()} closes every
 * connection, interrupts the callers (their batches are answered {@code FAILED} or not at all) and
 * shuts the event loops down. Restartable.
 *
 * <p>Thread safety: {@code onStart}/{@code onStop} are called by the supervisor, never
 * concurrently; {@link #boundAddress()} and {@link #errorCount} from any thread.
 */
public final class FlumePushReceiver extends Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(FlumePushReceiver.class);

  private final Config config;
  private final MeterRegistry registry;
  private final SslContext ssl;
  private final IpFilterRules ipFilter;
  private final String partition;
  private final String timestampHeader;
  private final int maxBatchEvents;
  private final Set<Channel> children = ConcurrentHashMap.newKeySet();
  private final Object offsetLock = new Object();
  private long nextOffset;
  private volatile EventLoopGroup bossGroup;
  private volatile EventLoopGroup ioGroup;
  private volatile ThreadPoolExecutor callers;
  private volatile Channel serverChannel;
  private volatile FlumeMetrics metrics;

  /** Uses {@link Metrics#globalRegistry}. */
  public FlumePushReceiver(Config config) {
    this(config, Metrics.globalRegistry);
  }

  /**
   * @param config parsed with {@link FlumeOptions#SPEC}; mode must be {@code push}
   * @throws ConfigException listing every problem of options that do not fit push mode
   */
  public FlumePushReceiver(Config config, MeterRegistry registry) {
    List<String> problems = new ArrayList<>();
    if (config.get(FlumeOptions.MODE) != FlumeOptions.Mode.PUSH) {
      problems.add("Invalid value pull for mode: this receiver needs push (expected: push)");
    }
    if (!config.get(FlumeOptions.PULL_HOSTS).isEmpty()) {
      problems.add(
          "Invalid value "
              + config.get(FlumeOptions.PULL_HOSTS)
              + " for pull.hosts: applies to mode pull only (expected: unset with mode push)");
    }
    boolean tls = config.get(FlumeOptions.TLS_ENABLED);
    if (tls && config.get(FlumeOptions.TLS_KEYSTORE) == null) {
      problems.add(
          "Missing required key tls.keystore (expected: a key store file when tls.enabled is true)");
    }
    IpFilterRules rules = null;
    try {
      rules = IpFilterRules.parse(config.get(FlumeOptions.IP_FILTER_RULES));
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    this.config = config;
    this.registry = registry;
    this.ipFilter = rules;
    this.ssl =
        tls
            ? Tls.server(
                config.get(FlumeOptions.TLS_KEYSTORE),
                config.get(FlumeOptions.TLS_KEYSTORE_PASSWORD),
                config.get(FlumeOptions.TLS_KEYSTORE_TYPE),
                config.get(FlumeOptions.TLS_PROTOCOLS))
            : null;
    this.partition = config.get(FlumeOptions.HOST) + ":" + config.get(FlumeOptions.PORT);
    this.timestampHeader = config.get(FlumeOptions.TIMESTAMP_HEADER);
    this.maxBatchEvents = config.get(FlumeOptions.MAX_BATCH_EVENTS);
  }

  @Override
  public void onStart() throws Exception {
    String source = receiverName();
    if (metrics == null) {
      metrics = new FlumeMetrics(registry, source); // kept across restarts: meters register once
    }
    synchronized (offsetLock) {
      nextOffset = lastStoredOffset(partition).orElse(-1L) + 1;
    }
    int threads = config.get(FlumeOptions.MAX_THREADS);
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            new NamedThreadFactory("tributary-" + source + "-flume-call"));
    pool.allowCoreThreadTimeOut(true);
    callers = pool;
    SpecificResponder responder = new SpecificResponder(AvroSourceProtocol.class, new Protocol());
    responder.addRPCPlugin(new BadRequestPlugin());
    PushChannelInitializer init =
        new PushChannelInitializer(
            ssl,
            config.get(FlumeOptions.COMPRESSION_TYPE) == FlumeOptions.Compression.DEFLATE,
            ipFilter,
            config.get(FlumeOptions.MAX_CONNECTIONS),
            config.get(FlumeOptions.MAX_REQUEST_BYTES),
            config.get(FlumeOptions.IDLE_TIMEOUT),
            children,
            responder,
            pool,
            metrics);
    EventLoopGroup boss =
        new NioEventLoopGroup(1, new NamedThreadFactory("tributary-" + source + "-flume-accept"));
    EventLoopGroup io =
        new NioEventLoopGroup(
            config.get(FlumeOptions.IO_THREADS),
            new NamedThreadFactory("tributary-" + source + "-flume-io"));
    bossGroup = boss;
    ioGroup = io;
    String host = config.get(FlumeOptions.HOST);
    int port = config.get(FlumeOptions.PORT);
    try {
      serverChannel =
          new ServerBootstrap()
              .group(boss, io)
              .channel(NioServerSocketChannel.class)
              .option(ChannelOption.SO_REUSEADDR, true)
              .option(ChannelOption.SO_BACKLOG, 1024)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childOption(ChannelOption.SO_KEEPALIVE, true)
              .childHandler(init)
              .bind(host, port)
              .sync()
              .channel();
    } catch (Exception e) {
      shutdown();
      throw new FlumeConnectException(
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
        "event=listening source={} address={} compression={} tls={} max_threads={}",
        source,
        boundAddress(),
        config.get(FlumeOptions.COMPRESSION_TYPE).name().toLowerCase(),
        ssl != null,
        threads);
  }

  @Override
  public void onStop() throws Exception {
    Channel sc = serverChannel;
    serverChannel = null;
    if (sc != null) {
      sc.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    for (Channel c : new ArrayList<>(children)) {
      c.close();
    }
    shutdown();
    children.clear();
    LOG.info("event=stopped source={}", receiverName());
  }

  private void shutdown() throws InterruptedException {
    ThreadPoolExecutor pool = callers;
    callers = null;
    if (pool != null) {
      pool.shutdownNow();
    }
    for (EventLoopGroup g : new EventLoopGroup[] {bossGroup, ioGroup}) {
      if (g != null && !g.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS)) {
        LOG.warn("event=stop_slow detail=\"event loops did not terminate within 10s\"");
      }
    }
    bossGroup = null;
    ioGroup = null;
    if (pool != null && !pool.awaitTermination(10, TimeUnit.SECONDS)) {
      LOG.warn("event=stop_slow detail=\"caller threads did not terminate within 10s\"");
    }
  }

  /** The open Avro RPC connections (Flume agents' sinks). */
  @Override
  public java.util.OptionalInt connectedClients() {
    return java.util.OptionalInt.of(children.size());
  }

  /** The address the server listens on (useful with {@code port: 0}); {@code null} when stopped. */
  public InetSocketAddress boundAddress() {
    Channel sc = serverChannel;
    return sc == null ? null : (InetSocketAddress) sc.localAddress();
  }

  /** How many inputs were rejected for {@code reason} (cumulative). */
  public double errorCount(FlumeErrorReason reason) {
    FlumeMetrics m = metrics;
    return m == null ? 0 : m.errorCount(reason);
  }

  /** Stores one batch reliably; answers OK only once it is durable. Runs on a caller thread. */
  private Status storeBatch(List<AvroFlumeEvent> events) {
    PushCall call = PushCall.current();
    Object remote = call == null ? null : call.remote();
    if (events.size() > maxBatchEvents) {
      String detail =
          "appendBatch of "
              + events.size()
              + " events exceeds max-batch-events="
              + maxBatchEvents
              + " (lower the sender's batch-size)";
      if (call != null) {
        call.rejectAndClose(FlumeErrorReason.BATCH_TOO_LARGE, detail);
      } else {
        metrics.reject(FlumeErrorReason.BATCH_TOO_LARGE, remote, "answered FAILED", detail);
      }
      return Status.FAILED;
    }
    if (events.isEmpty()) {
      return Status.OK;
    }
    long now = System.currentTimeMillis();
    String source = metrics.source();
    List<Record> records = new ArrayList<>(events.size());
    CompletableFuture<Void> stored;
    try {
      synchronized (offsetLock) {
        // offsets are handed out in the order batches enter the runtime
        long offset = nextOffset;
        for (AvroFlumeEvent e : events) {
          records.add(
              EventRecords.toRecord(
                  e.getHeaders(),
                  e.getBody(),
                  timestampHeader,
                  now,
                  new SourcePosition(source, partition, offset++)));
        }
        nextOffset = offset;
        stored = storeReliablyAsync(records);
      }
      stored.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Status.FAILED;
    } catch (ExecutionException | RuntimeException e) {
      Throwable cause =
          (e instanceof ExecutionException || e instanceof CompletionException)
                  && e.getCause() != null
              ? e.getCause()
              : e;
      if (cause instanceof ReceiverStoppedException || isStopped()) {
        return Status.FAILED; // not an error of the input: the sender sends again after the restart
      }
      metrics.reject(
          FlumeErrorReason.STORE_FAILED,
          remote,
          "answered FAILED; the sender retries",
          events.size() + " events not stored: " + cause);
      restart("the write-ahead log could not store a batch", cause);
      return Status.FAILED;
    }
    metrics.events(events.size());
    return Status.OK;
  }

  private final class Protocol implements AvroSourceProtocol {
    @Override
    public Status append(AvroFlumeEvent event) {
      return storeBatch(List.of(event));
    }

    @Override
    public Status appendBatch(List<AvroFlumeEvent> events) {
      return storeBatch(events);
    }
  }

  /** Flags a call Avro could not decode (a system error before any message was known). */
  private static final class BadRequestPlugin extends RPCPlugin {
    @Override
    public void serverSendResponse(RPCContext context) {
      if (context.isError()) {
        PushCall call = PushCall.current();
        if (call != null) {
          call.rejectAndClose(
              FlumeErrorReason.BAD_REQUEST,
              "undecodable Avro request"
                  + (context.getMessage() == null ? "" : " " + context.getMessage().getName())
                  + ": "
                  + context.error());
        }
      }
    }
  }
}
