package io.tributary.sdk;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base class for receivers whose source calls you: a message listener, a webhook, a client library's callback. You
 * register a listener in {@link #open(Delivery)}; the listener hands batches to {@link Delivery#deliver(List,
 * Runnable)} with the action that acknowledges them; the SDK stores each batch reliably and runs its acknowledgement
 * only once the batch is durable.
 *
 * <h2>Lifecycle</h2>
 *
 * {@link #onStart()} creates a fresh {@link Delivery} and calls {@code open(delivery)} on the supervisor's thread:
 * register your listener and return, do not block. {@link #onStop()} closes the delivery (later {@code deliver} calls
 * return {@code false} and store nothing; pending acknowledgements are dropped) and then calls {@link #close()}. After
 * a restart you get a new {@code Delivery}; an old one stays closed, so a listener left over from the previous run
 * cannot store into the new one.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li>An acknowledgement runs only after its batch is durable (via {@code storeReliablyAsync}), and acknowledgements
 *       run in delivery order: the ack of batch 2 never runs before the ack of batch 1, even if batch 2 became durable
 *       first. This suits cumulative acknowledgements (offsets, sequence numbers).
 *   <li>If a store fails, that batch and every later one of the same delivery are never acknowledged, the delivery
 *       closes and the SDK asks the runtime to {@link #restart(String, Throwable) restart} the receiver.
 *   <li>Bounded memory: {@code deliver} blocks its caller while more than {@code maxInFlightRecords} delivered records
 *       wait for durability; that is the backpressure your source sees.
 *   <li>At-least-once from the source's point of view: a batch stored but not yet acknowledged at a crash or stop is
 *       delivered again by a source that redelivers. Skip records at or below {@link #lastStoredOffset(String)} to
 *       avoid duplicates.
 * </ul>
 *
 * <h2>Thread safety</h2>
 *
 * {@code deliver} may be called from any thread, concurrently; delivery order is the order in which calls enter
 * {@code deliver}. Acknowledgement actions run on a Tributary thread (the thread that completes the store, in the
 * runtime the write-ahead log's completion thread), one at a time, never concurrently with each other: keep them
 * short and non-blocking. If your client library requires acknowledgements on its own thread, make the action hand
 * the work to that thread. {@code open} and {@code close} are called from the supervisor's thread, never concurrently.
 *
 * <h2>Pitfalls</h2>
 *
 * <pre>{@code
 * // Bad: acknowledges before the data is durable; a crash loses the message (Spark's Flume push receiver did this).
 * consumer.onMessage(m -> { m.ack(); delivery.deliver(List.of(toRecord(m)), () -> {}); });
 *
 * // Good: the SDK runs the ack after the reliable store.
 * consumer.onMessage(m -> delivery.deliver(List.of(toRecord(m)), m::ack));
 *
 * // Bad: a slow or blocking ack (a synchronous network round trip per message) stalls every later ack.
 * // Good: acks that are asynchronous or batched (ack the highest sequence number).
 *
 * // Bad: deliver() from a Netty event loop: it blocks when too much is in flight. Good: stop reading
 * // (channel.config().setAutoRead(false)) while delivery.inFlightRecords() is high, or deliver from another thread.
 * }</pre>
 */
public abstract class PushReceiver extends Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(PushReceiver.class);

  /** Default bound on records delivered and not yet durable. */
  public static final int DEFAULT_MAX_IN_FLIGHT_RECORDS = 10_000;

  private final int maxInFlightRecords;
  private volatile Delivery delivery;

  /** Uses {@link #DEFAULT_MAX_IN_FLIGHT_RECORDS}. */
  protected PushReceiver() {
    this(DEFAULT_MAX_IN_FLIGHT_RECORDS);
  }

  /** @param maxInFlightRecords how many delivered records may wait for durability before {@code deliver} blocks */
  protected PushReceiver(int maxInFlightRecords) {
    if (maxInFlightRecords < 1) {
      throw new IllegalArgumentException(
          "Invalid value " + maxInFlightRecords + " for maxInFlightRecords: must be at least 1");
    }
    this.maxInFlightRecords = maxInFlightRecords;
  }

  /**
   * Connects to the source and registers a listener that calls {@link Delivery#deliver(List, Runnable)}. Runs on the
   * supervisor's thread and must not block for long. An exception makes the receiver restart ({@link #close()} is
   * still called).
   */
  protected abstract void open(Delivery delivery) throws Exception;

  /** Unregisters the listener and releases the source. Called once per {@link #open(Delivery)}, even a failed one. */
  protected abstract void close() throws Exception;

  @Override
  public final void onStart() throws Exception {
    Delivery d = new Delivery();
    delivery = d;
    open(d);
  }

  @Override
  public final void onStop() throws Exception {
    Delivery d = delivery;
    if (d != null) {
      d.shut();
    }
    close();
  }

  /**
   * The handle a {@link PushReceiver}'s listener delivers batches to; one per start of the receiver.
   *
   * <p>Thread safety: thread-safe; see {@link PushReceiver} for which thread runs acknowledgements.
   */
  public final class Delivery {
    private final Object lock = new Object();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private long inFlight;
    private boolean open = true;
    private boolean draining;
    private boolean drainAgain;

    private Delivery() {}

    /**
     * Stores {@code batch} reliably and runs {@code ack} once it is durable, after the acks of every earlier delivery.
     * Blocks while too many delivered records wait for durability.
     *
     * @return {@code false} if this delivery is closed (the receiver stopped, failed or restarted): nothing was stored
     *     and {@code ack} will never run; leave the data unacknowledged in your source
     * @throws InterruptedException if interrupted while waiting for room; nothing was stored
     */
    public boolean deliver(List<Record> batch, Runnable ack) throws InterruptedException {
      Objects.requireNonNull(batch, "batch");
      Objects.requireNonNull(ack, "ack");
      Pending p;
      synchronized (lock) {
        while (open && inFlight > 0 && inFlight + batch.size() > maxInFlightRecords) {
          lock.wait();
        }
        if (!open) {
          return false;
        }
        inFlight += batch.size();
        p = new Pending(batch.size(), ack);
        queue.add(p);
        // Enqueue and call storeReliablyAsync under the lock so that store order equals delivery order.
        p.future = storeReliablyAsync(batch);
      }
      p.future.whenComplete((v, e) -> drain());
      return true;
    }

    /** Whether this delivery still accepts batches. */
    public boolean isOpen() {
      synchronized (lock) {
        return open;
      }
    }

    /** Records delivered and not yet durable and acknowledged. */
    public long inFlightRecords() {
      synchronized (lock) {
        return inFlight;
      }
    }

    /**
     * Reports a failure of the source (a lost connection the client library will not recover): closes this delivery
     * and asks the runtime to restart the receiver.
     */
    public void fail(String reason, Throwable error) {
      if (shut() && !isStopped()) {
        LOG.warn("event=push_receiver_failed reason=\"{}\" error=\"{}\"", reason, String.valueOf(error));
        restart(reason, error);
      }
    }

    /** Closes the delivery; returns whether it was open. */
    private boolean shut() {
      synchronized (lock) {
        boolean was = open;
        open = false;
        lock.notifyAll();
        return was;
      }
    }

    /** Runs the acks of completed batches at the head of the queue, one drainer at a time. */
    private void drain() {
      synchronized (lock) {
        if (draining) {
          drainAgain = true;
          return;
        }
        draining = true;
      }
      while (true) {
        Pending head;
        synchronized (lock) {
          head = queue.peek();
          if (head == null || head.future == null || !head.future.isDone()) {
            if (drainAgain) {
              drainAgain = false;
              continue;
            }
            draining = false;
            return;
          }
          queue.poll();
          inFlight -= head.size;
          lock.notifyAll();
        }
        settle(head);
      }
    }

    private void settle(Pending p) {
      Throwable error = null;
      try {
        p.future.join();
      } catch (RuntimeException e) {
        error = e.getCause() != null ? e.getCause() : e;
      }
      if (error != null) {
        fail("reliable store failed: " + error, error);
        return;
      }
      if (!isOpen()) {
        return; // stopped or failed earlier: a later ack would break order or hit a closed source
      }
      try {
        p.ack.run();
      } catch (RuntimeException e) {
        fail("acknowledgement failed: " + e, e);
      }
    }
  }

  private static final class Pending {
    final int size;
    final Runnable ack;
    volatile CompletableFuture<Void> future;

    Pending(int size, Runnable ack) {
      this.size = size;
      this.ack = ack;
    }
  }
}
