package io.tributary.connector.flume.agent;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CancellationException;
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
 * <p>The poller names each batch ({@link PullProtocol}): a poll with the id of a still-open batch
 * answers that batch again (idempotent poll), and the sink remembers the last committed sequence of
 * each poller slot so that a late ack can tell "already committed" from "rolled back".
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
  private final Map<String, Long> committedSeq = new ConcurrentHashMap<>();
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

  /** One batch id's transaction: the batch it served, the poller's verdict, the commit. */
  private static final class OpenBatch {
    final CompletableFuture<PulledBatch> served = new CompletableFuture<>();
    final CompletableFuture<Boolean> outcome = new CompletableFuture<>();
    final CompletableFuture<Boolean> committed = new CompletableFuture<>();
  }

  private final class Handler implements PullProtocol {
    @Override
    public PulledBatch poll(int maxEvents, String batchId) {
      if (maxEvents < 1) {
        return PulledBatch.failed("maxEvents must be at least 1");
      }
      if (batchId == null || batchId.isEmpty() || batchId.length() > 1024) {
        return PulledBatch.failed("batchId must be 1 to 1024 characters");
      }
      OpenBatch ob = new OpenBatch();
      OpenBatch existing = open.putIfAbsent(batchId, ob);
      if (existing != null) {
        return again(batchId, existing);
      }
      Semaphore permits = openPermits;
      try {
        if (!permits.tryAcquire(pollTimeoutMs, TimeUnit.MILLISECONDS)) {
          open.remove(batchId, ob);
          return PulledBatch.failed(
              "busy: all " + threads + " transaction threads hold open batches; retry later");
        }
      } catch (InterruptedException e) {
        open.remove(batchId, ob);
        Thread.currentThread().interrupt();
        return PulledBatch.failed("interrupted");
      }
      try {
        txPool.execute(
            () -> {
              try {
                serve(maxEvents, batchId, ob);
              } finally {
                permits.release();
              }
            });
      } catch (RejectedExecutionException e) {
        permits.release();
        open.remove(batchId, ob);
        return PulledBatch.failed("the sink is stopping");
      }
      try {
        return ob.served.get(pollTimeoutMs, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        ob.served.cancel(false);
        Thread.currentThread().interrupt();
        return PulledBatch.failed("interrupted");
      } catch (ExecutionException | TimeoutException | CancellationException e) {
        ob.served.cancel(false); // the transaction thread then rolls back
        return PulledBatch.failed("could not take from the channel: " + e);
      }
    }

    /** A poll with the id of a transaction already open: the same batch again (idempotent). */
    private PulledBatch again(String batchId, OpenBatch existing) {
      try {
        PulledBatch b = existing.served.get(pollTimeoutMs, TimeUnit.MILLISECONDS);
        if (!b.events.isEmpty() && !existing.outcome.isDone()) {
          LOG.info(
              "event=batch_served_again sink={} batch={} events={}",
              getName(),
              batchId,
              b.events.size());
          return b;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return PulledBatch.failed("interrupted");
      } catch (ExecutionException | TimeoutException | CancellationException e) {
        // fall through
      }
      return PulledBatch.failed("busy: batch " + batchId + " is ending; retry later");
    }

    @Override
    public String ack(String batchId) {
      OpenBatch b = open.get(batchId);
      if (b != null && b.served.isDone() && b.outcome.complete(Boolean.TRUE)) {
        try {
          if (b.committed.get(pollTimeoutMs, TimeUnit.MILLISECONDS)) {
            return ACK_COMMITTED;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
          LOG.warn(
              "event=commit_unconfirmed sink={} batch={} detail=\"{}\"", getName(), batchId, e);
        }
        return ACK_UNKNOWN;
      }
      return alreadyCommitted(batchId) ? ACK_ALREADY_COMMITTED : ACK_UNKNOWN;
    }

    @Override
    public boolean nack(String batchId) {
      OpenBatch b = open.get(batchId);
      return b != null && b.served.isDone() && b.outcome.complete(Boolean.FALSE);
    }
  }

  /** Whether {@code batchId}'s slot committed this sequence (or a later one). */
  private boolean alreadyCommitted(String batchId) {
    int at = batchId.lastIndexOf('@');
    if (at < 0) {
      return false;
    }
    Long last = committedSeq.get(batchId.substring(0, at));
    try {
      return last != null && last >= Long.parseLong(batchId.substring(at + 1));
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private void noteCommitted(String batchId) {
    int at = batchId.lastIndexOf('@');
    if (at < 0) {
      return;
    }
    try {
      long seq = Long.parseLong(batchId.substring(at + 1));
      committedSeq.merge(batchId.substring(0, at), seq, Math::max);
    } catch (NumberFormatException e) {
      // not a sequenced id: nothing to remember
    }
  }

  /** Runs on a transaction thread: takes, hands the batch to the poll, waits for its outcome. */
  private void serve(int maxEvents, String id, OpenBatch ob) {
    Channel channel = getChannel();
    Transaction tx = channel.getTransaction();
    boolean committed = false;
    PulledBatch batch = null;
    try {
      tx.begin();
      batch = new PulledBatch();
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
        open.remove(id, ob); // before answering: the next poll with this id opens a new one
        ob.served.complete(batch);
        return;
      }
      batch.id = id;
      if (!ob.served.complete(batch)) {
        return; // the poll gave up waiting: roll back
      }
      Boolean ok;
      try {
        ok = ob.outcome.get(transactionTimeoutMs, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        ok = !ob.outcome.complete(Boolean.FALSE) && ob.outcome.getNow(Boolean.FALSE);
        if (!ok) {
          LOG.warn(
              "event=batch_timed_out sink={} batch={} events={} outcome=rolled_back",
              getName(),
              id,
              batch.events.size());
        }
      }
      if (ok) {
        tx.commit();
        committed = true;
        noteCommitted(id);
      }
    } catch (Throwable t) {
      ob.served.completeExceptionally(t);
      if (t instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      LOG.warn("event=batch_failed sink={} batch={} detail=\"{}\"", getName(), id, t.toString());
    } finally {
      ob.outcome.complete(Boolean.FALSE);
      open.remove(id, ob);
      if (!committed) {
        try {
          tx.rollback();
        } catch (RuntimeException e) {
          LOG.warn("event=rollback_failed sink={} detail=\"{}\"", getName(), e.toString());
        }
      }
      ob.committed.complete(committed);
      tx.close();
    }
  }
}
