package io.tributary.connector.flume.agent;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.ipc.Server;
import org.apache.avro.ipc.netty.NettyServer;
import org.apache.avro.ipc.reflect.ReflectResponder;
import org.apache.flume.Channel;
import org.apache.flume.ChannelException;
import org.apache.flume.Context;
import org.apache.flume.Event;
import org.apache.flume.FlumeException;
import org.apache.flume.Transaction;
import org.apache.flume.conf.Configurable;
import org.apache.flume.sink.AbstractSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Flume sink that Tributary pulls from: it serves {@link PullProtocol} on {@code hostname:port}
 * and keeps each served batch in an open channel transaction until the poller acks it (commit) or
 * nacks it (rollback), or until {@code transaction-timeout} passes (rollback). Nothing leaves the
 * channel before Tributary stored it durably; with a file channel, nothing is lost when either side
 * is killed.
 *
 * <pre>
 * a1.sinks.k1.type = io.tributary.connector.flume.agent.TributarySink
 * a1.sinks.k1.hostname = 0.0.0.0
 * a1.sinks.k1.port = 41415
 * a1.sinks.k1.threads = 8
 * a1.sinks.k1.transaction-timeout = 30000
 * </pre>
 *
 * Flume binds a channel transaction to the thread that opened it, so every open batch holds one
 * thread (named {@code tributary-flume-sink-tx-N}); at most {@code threads} batches are open at
 * once, a poll beyond that waits up to {@code poll-timeout} and then gets a "busy" answer (the
 * poller backs off). Several pollers may poll one sink.
 *
 * <p>Thread safety: Flume calls the lifecycle methods from one thread; the RPC methods run
 * concurrently on the Avro server's threads.
 */
public final class TributarySink extends AbstractSink implements Configurable {
  private static final Logger LOG = LoggerFactory.getLogger(TributarySink.class);

  private String hostname;
  private int port;
  private int threads;
  private long transactionTimeoutMs;
  private long pollTimeoutMs;
  private volatile Server server;
  private volatile ExecutorService txPool;
  private volatile Semaphore openPermits;
  private final Map<String, OpenBatch> open = new ConcurrentHashMap<>();
  private final CountDownLatch stopped = new CountDownLatch(1);

  @Override
  public void configure(Context context) {
    hostname = context.getString("hostname", "127.0.0.1");
    Integer p = context.getInteger("port");
    if (p == null) {
      throw new FlumeException("TributarySink " + getName() + ": port is required");
    }
    port = p;
    threads = context.getInteger("threads", 8);
    transactionTimeoutMs = context.getLong("transaction-timeout", 30_000L);
    pollTimeoutMs = context.getLong("poll-timeout", 10_000L);
  }

  @Override
  public synchronized void start() {
    AtomicInteger n = new AtomicInteger();
    openPermits = new Semaphore(threads);
    txPool =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "tributary-flume-sink-tx-" + n.getAndIncrement());
              t.setDaemon(true);
              return t;
            });
    try {
      server =
          new NettyServer(
              new ReflectResponder(PullProtocol.class, new Handler()),
              new InetSocketAddress(hostname, port));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FlumeException("TributarySink " + getName() + ": interrupted while binding", e);
    }
    server.start();
    LOG.info(
        "event=tributary_sink_started sink={} address={}:{} threads={} transaction_timeout_ms={}",
        getName(),
        hostname,
        server.getPort(),
        threads,
        transactionTimeoutMs);
    super.start();
  }

  @Override
  public synchronized void stop() {
    stopped.countDown();
    for (OpenBatch b : open.values()) {
      b.outcome.complete(Boolean.FALSE); // roll back: the events stay in the channel
    }
    Server s = server;
    server = null;
    if (s != null) {
      s.close();
    }
    ExecutorService pool = txPool;
    if (pool != null) {
      pool.shutdown();
      try {
        pool.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    super.stop();
  }

  /** The port the sink serves on (useful with {@code port = 0}). */
  public int boundPort() {
    Server s = server;
    return s == null ? -1 : s.getPort();
  }

  /**
   * Nothing to do on the sink runner's thread: the pollers drive the channel through {@link
   * PullProtocol}. Waits a little so the runner does not spin.
   */
  @Override
  public Status process() {
    try {
      stopped.await(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return Status.BACKOFF;
  }

  private static final class OpenBatch {
    final CompletableFuture<Boolean> outcome = new CompletableFuture<>();
  }

  private final class Handler implements PullProtocol {
    @Override
    public PulledBatch poll(int maxEvents) {
      if (maxEvents < 1) {
        return PulledBatch.failed("maxEvents must be at least 1");
      }
      CompletableFuture<PulledBatch> served = new CompletableFuture<>();
      Semaphore permits = openPermits;
      try {
        if (!permits.tryAcquire(pollTimeoutMs, TimeUnit.MILLISECONDS)) {
          return PulledBatch.failed(
              "busy: all " + threads + " transaction threads hold open batches; retry later");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return PulledBatch.failed("interrupted");
      }
      try {
        txPool.execute(
            () -> {
              try {
                serve(maxEvents, served);
              } finally {
                permits.release();
              }
            });
      } catch (RejectedExecutionException e) {
        permits.release();
        return PulledBatch.failed("the sink is stopping");
      }
      try {
        return served.get(pollTimeoutMs, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return PulledBatch.failed("interrupted");
      } catch (ExecutionException | TimeoutException e) {
        return PulledBatch.failed("could not take from the channel: " + e);
      }
    }

    @Override
    public boolean ack(String batchId) {
      OpenBatch b = open.get(batchId);
      return b != null && b.outcome.complete(Boolean.TRUE);
    }

    @Override
    public boolean nack(String batchId) {
      OpenBatch b = open.get(batchId);
      return b != null && b.outcome.complete(Boolean.FALSE);
    }
  }

  /** Runs on a transaction thread: takes, hands the batch to the poll, waits for its outcome. */
  private void serve(int maxEvents, CompletableFuture<PulledBatch> served) {
    Channel channel = getChannel();
    Transaction tx = channel.getTransaction();
    boolean committed = false;
    String id = null;
    try {
      tx.begin();
      PulledBatch batch = new PulledBatch();
      for (int i = 0; i < maxEvents; i++) {
        Event e;
        try {
          e = channel.take();
        } catch (ChannelException full) {
          break; // transaction capacity reached: serve what we have
        }
        if (e == null) {
          break;
        }
        batch.events.add(new PulledEvent(e.getHeaders(), e.getBody()));
      }
      if (batch.events.isEmpty()) {
        tx.commit();
        committed = true;
        served.complete(batch);
        return;
      }
      id = UUID.randomUUID().toString();
      batch.id = id;
      OpenBatch ob = new OpenBatch();
      open.put(id, ob);
      if (!served.complete(batch)) {
        return; // the poll gave up waiting: roll back
      }
      Boolean ok;
      try {
        ok = ob.outcome.get(transactionTimeoutMs, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        ob.outcome.complete(Boolean.FALSE);
        LOG.warn(
            "event=batch_timed_out sink={} batch={} events={} outcome=rolled_back",
            getName(),
            id,
            batch.events.size());
        ok = Boolean.FALSE;
      }
      if (ok) {
        tx.commit();
        committed = true;
      }
    } catch (Throwable t) {
      served.completeExceptionally(t);
      if (t instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      LOG.warn("event=batch_failed sink={} batch={} detail=\"{}\"", getName(), id, t.toString());
    } finally {
      if (id != null) {
        open.remove(id);
      }
      if (!committed) {
        try {
          tx.rollback();
        } catch (RuntimeException e) {
          LOG.warn("event=rollback_failed sink={} detail=\"{}\"", getName(), e.toString());
        }
      }
      tx.close();
    }
  }
}
