package io.tributary.sdk;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base class for receivers whose source calls you: message listeners, subscription callbacks,
 * server handlers. You register your listener in {@link #open(Delivery)} and hand each message to
 * {@link Delivery#storeThenAcknowledge}; the SDK stores it reliably and runs your acknowledgement
 * only after the batch is durable, in delivery order.
 *
 * <pre>{@code
 * public final class BrokerReceiver extends PushReceiver {
 *   private Subscription subscription;
 *
 *   protected void open(Delivery delivery) {
 *     subscription = broker.subscribe(topic, message ->
 *         delivery.storeThenAcknowledge(
 *             List.of(Record.ofString(message.body())),
 *             message::ack));                   // runs only once the record is durable
 *   }
 *
 *   protected void close() { if (subscription != null) subscription.cancel(); }
 * }
 * }</pre>
 *
 * <h2>Lifecycle</h2>
 *
 * {@link #onStart()} creates a fresh {@link Delivery} and calls {@link #open(Delivery)} on the
 * runtime's supervisor thread: register listeners and return, do not block (connect asynchronously,
 * or throw to get a restart with backoff). {@link #onStop()} closes the delivery (later deliveries
 * fail with {@link ReceiverStoppedException} without storing anything), waits at most {@link
 * Settings#stopTimeout()} for deliveries in flight to be stored and acknowledged, stops the
 * acknowledgement thread, then calls {@link #close()}. {@code close()} is called once per {@code
 * open()}, also when {@code open()} threw. After a restart, {@code open} is called again with a new
 * delivery.
 *
 * <h2>Guarantees of a delivery</h2>
 *
 * <ul>
 *   <li>The acknowledgement of a batch runs only after that batch is durable, and after the
 *       acknowledgement of every batch delivered before it (delivery order is the order of the
 *       {@code storeThenAcknowledge} calls; calls from several threads are ordered by when they
 *       enter).
 *   <li>If a store or an acknowledgement fails, that batch and <b>every later one</b> of this
 *       delivery are not acknowledged (a source with cumulative acknowledgements would otherwise
 *       confirm the failed batch too), and the receiver asks the runtime to restart it. Your source
 *       must resend what was not acknowledged; skip what was stored already with {@link
 *       #lastStoredOffset(String)}.
 *   <li>Backpressure: at most {@link Settings#maxInFlight()} deliveries are pending; {@link
 *       Delivery#storeThenAcknowledge} then blocks the calling thread. From a thread that must
 *       never block (an event loop) use {@link Delivery#storeThenAcknowledgeAsync}, which never
 *       blocks, and pause reading while {@link Delivery#inFlight()} is high, resuming when the
 *       returned futures complete.
 * </ul>
 *
 * <h2>Thread safety</h2>
 *
 * {@code open} and {@code close} are called on the supervisor thread, never concurrently. {@link
 * Delivery} methods may be called from any thread, concurrently. Acknowledgements run on one SDK
 * thread named {@code tributary-<receiverName>-ack-0}, one at a time, never on your callback thread
 * and never on the runtime's WAL thread; they may run concurrently with your callbacks, and never
 * after {@code close()} started. Keep them short: they hold up the acknowledgements behind them.
 *
 * <h2>Pitfalls</h2>
 *
 * Bad: acknowledging in the callback after an unreliable store (a crash loses the message, which
 * the source already forgot; this is the bug Spark's Flume push receiver had):
 *
 * <pre>{@code
 * listener = message -> { store(toRecord(message)); message.ack(); };
 * }</pre>
 *
 * Good: {@code delivery.storeThenAcknowledge(List.of(toRecord(message)), message::ack)}.
 *
 * <p>Bad: waiting on the returned future inside an event-loop callback (it completes on another
 * thread that may need the event loop: deadlock). Good: chain on it, or ignore it and rely on the
 * acknowledgement.
 */
public abstract class PushReceiver extends Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(PushReceiver.class);

  /**
   * Backpressure and stop settings.
   *
   * <p>Thread safety: immutable.
   *
   * @param maxInFlight deliveries stored or acknowledged concurrently before {@link
   *     Delivery#storeThenAcknowledge} blocks
   * @param stopTimeout how long {@link #onStop()} waits for deliveries in flight before giving up
   *     on their acknowledgements (the source then resends them)
   */
  public record Settings(int maxInFlight, Duration stopTimeout) {
    public Settings {
      if (maxInFlight < 1) {
        throw new IllegalArgumentException(
            "Invalid value " + maxInFlight + " for maxInFlight: (expected: >= 1)");
      }
      Objects.requireNonNull(stopTimeout, "stopTimeout");
      if (stopTimeout.isNegative() || stopTimeout.isZero()) {
        throw new IllegalArgumentException(
            "Invalid value " + stopTimeout + " for stopTimeout: (expected: a duration > 0)");
      }
    }

    /** 64 deliveries in flight, stop timeout 10 s. */
    public static Settings defaults() {
      return new Settings(64, Duration.ofSeconds(10));
    }

    public Settings withMaxInFlight(int n) {
      return new Settings(n, stopTimeout);
    }

    public Settings withStopTimeout(Duration d) {
      return new Settings(maxInFlight, d);
    }
  }

  private final Settings settings;
  private volatile Delivery current;

  /** A push receiver with {@link Settings#defaults()}. */
  protected PushReceiver() {
    this(Settings.defaults());
  }

  protected PushReceiver(Settings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  public final Settings settings() {
    return settings;
  }

  /**
   * Registers listeners that hand data to {@code delivery}. Called on the supervisor thread; must
   * not block. Throwing makes the receiver restart with backoff ({@link #close()} is called first).
   */
  protected abstract void open(Delivery delivery) throws Exception;

  /**
   * Unregisters listeners and releases what {@link #open(Delivery)} acquired. Called once per
   * {@code open}.
   */
  protected abstract void close() throws Exception;

  @Override
  public final void onStart() throws Exception {
    Delivery d = new Delivery("tributary-" + receiverName() + "-ack-0");
    current = d;
    open(d);
  }

  @Override
  public final void onStop() {
    Delivery d = current;
    current = null;
    if (d == null) {
      return;
    }
    d.closeAndDrain(settings.stopTimeout());
    try {
      close();
    } catch (Exception e) {
      LOG.warn(
          "event=receiver_close_failed receiver={} error=\"{}\"", receiverName(), e.toString());
    }
  }

  /**
   * The handle a {@link PushReceiver} hands its source's callbacks: {@link #storeThenAcknowledge}
   * stores a batch reliably and only then runs its acknowledgement. One per start of the receiver;
   * refuses work after the receiver stopped.
   *
   * <p>Thread safety: thread-safe; see {@link PushReceiver} for the ordering guarantees.
   */
  public final class Delivery {
    private final ExecutorService acks;
    private final Semaphore window = new Semaphore(settings.maxInFlight());
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicBoolean failed = new AtomicBoolean();
    private final Object order = new Object();
    private CompletableFuture<Void> tail =
        CompletableFuture.completedFuture(null); // guarded by order
    private volatile boolean open = true;

    private Delivery(String ackThreadName) {
      this.acks =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, ackThreadName);
                t.setDaemon(true);
                return t;
              });
    }

    /**
     * Stores {@code batch} reliably, then runs {@code acknowledge} on the acknowledgement thread
     * once the batch is durable and every earlier batch was acknowledged. Blocks while {@link
     * Settings#maxInFlight()} deliveries are pending (backpressure).
     *
     * @return completes after {@code acknowledge} ran; exceptionally (without running it) if the
     *     store or an earlier delivery failed, or the receiver stopped
     * @throws InterruptedException if interrupted while waiting for room; nothing was stored
     */
    public CompletableFuture<Void> storeThenAcknowledge(List<Record> batch, Runnable acknowledge)
        throws InterruptedException {
      window.acquire();
      return submit(batch, acknowledge, true);
    }

    /**
     * Like {@link #storeThenAcknowledge} but never blocks: for event loops. Use {@link #inFlight()}
     * or the returned future to stop reading from the source while the runtime is behind.
     */
    public CompletableFuture<Void> storeThenAcknowledgeAsync(
        List<Record> batch, Runnable acknowledge) {
      return submit(batch, acknowledge, false);
    }

    /** Deliveries stored or acknowledged right now. */
    public int inFlight() {
      return inFlight.get();
    }

    /** Whether this delivery still accepts batches (the receiver runs and no delivery failed). */
    public boolean isOpen() {
      return open && !failed.get();
    }

    private CompletableFuture<Void> submit(
        List<Record> batch, Runnable acknowledge, boolean holdsPermit) {
      Objects.requireNonNull(acknowledge, "acknowledge");
      List<Record> records = List.copyOf(batch);
      CompletableFuture<Void> done;
      synchronized (order) {
        if (!open || failed.get()) {
          if (holdsPermit) {
            window.release();
          }
          return CompletableFuture.failedFuture(
              new ReceiverStoppedException(
                  "Receiver "
                      + receiverName()
                      + " is "
                      + (open ? "restarting after a failed delivery" : "stopped")
                      + "; nothing of this batch was stored and it must not be acknowledged"));
        }
        inFlight.incrementAndGet();
        CompletableFuture<Void> stored;
        try {
          stored = storeReliablyAsync(records);
        } catch (RuntimeException e) {
          stored = CompletableFuture.failedFuture(e);
        }
        // Each acknowledgement waits for its own store and for the previous acknowledgement:
        // delivery order.
        done =
            tail.thenCombine(stored, (a, b) -> (Void) null)
                .thenRunAsync(
                    () -> {
                      if (failed.get()) {
                        throw new CompletionException(
                            new ReceiverStoppedException(
                                "an earlier delivery failed; not acknowledging"));
                      }
                      acknowledge.run();
                    },
                    acks);
        tail = done;
      }
      done.whenComplete(
          (v, t) -> {
            inFlight.decrementAndGet();
            if (holdsPermit) {
              window.release();
            }
            if (t != null) {
              failedDelivery(t);
            }
          });
      return done;
    }

    private void failedDelivery(Throwable t) {
      Throwable cause = t;
      while (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (!failed.compareAndSet(false, true)) {
        return;
      }
      if (!open || isStopped() || cause instanceof ReceiverStoppedException) {
        LOG.debug(
            "event=delivery_abandoned receiver={} reason=\"{}\"", receiverName(), cause.toString());
        return;
      }
      LOG.warn(
          "event=receiver_restart_requested receiver={} reason=\"delivery failed; later batches are not"
              + " acknowledged\" error=\"{}\"",
          receiverName(),
          cause.toString());
      restart(
          "delivery failed; this and later batches were not acknowledged and the source resends them",
          cause);
    }

    private void closeAndDrain(Duration timeout) {
      CompletableFuture<Void> last;
      synchronized (order) {
        open = false;
        last = tail;
      }
      // Wake callers blocked on the window: they see open == false and return a failed future.
      window.release(Integer.MAX_VALUE / 2);
      try {
        last.handle((v, t) -> null).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        LOG.warn(
            "event=deliveries_abandoned_on_stop receiver={} in_flight={} waited_ms={} (not acknowledged; the"
                + " source resends them)",
            receiverName(),
            inFlight.get(),
            timeout.toMillis());
      } catch (ExecutionException e) {
        throw new IllegalStateException(e); // handle(...) never fails
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      acks.shutdownNow();
      try {
        if (!acks.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          LOG.error(
              "event=ack_thread_leaked receiver={} (an acknowledgement ignores interrupts)",
              receiverName());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
