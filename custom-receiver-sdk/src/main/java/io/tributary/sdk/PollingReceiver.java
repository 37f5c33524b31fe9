package io.tributary.sdk;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base class for receivers that pull from their source: a queue, a directory, an HTTP endpoint, a database table. You
 * write four methods; the SDK owns the thread, the loop, the reliable store and the order "store, then acknowledge".
 *
 * <h2>What you implement</h2>
 *
 * <ul>
 *   <li>{@link #open()}: connect to the source. Runs on the poll thread, so it may block.
 *   <li>{@link #poll(Duration)}: return the next records, waiting at most the given timeout; an empty list when there
 *       is nothing yet. Give each record a {@link io.tributary.core.api.SourcePosition} (see {@link Receiver}).
 *   <li>{@link #acknowledge(List)}: commit the batch to the source (delete the message, move the file, commit the
 *       offset). Called only after the batch is durable.
 *   <li>{@link #close()}: release the source. Runs on the poll thread, after the loop ends, for every {@code open()}
 *       call (also a failed one).
 *   <li>Optionally {@link #wakeup()}: make a blocked (or the next) {@code poll} return early. Called from another
 *       thread when the receiver stops.
 * </ul>
 *
 * <h2>Lifecycle</h2>
 *
 * {@link #onStart()} starts one daemon thread named {@code tributary-<pipelineId>-<receiverName>-poll-0} and returns.
 * That thread runs {@code open()}, then loops {@code poll -> storeReliably -> acknowledge} until the receiver stops,
 * then runs {@code close()}. On any exception from your methods, or a failed store, the loop ends (without
 * acknowledging the batch in hand), {@code close()} runs, and the SDK asks the runtime to {@link #restart(String,
 * Throwable) restart} the receiver: the runtime's supervisor waits (exponential backoff) and calls {@code onStart}
 * again, which calls {@code open()} again. {@link #onStop()} signals the loop, calls {@code wakeup()}, and waits up to
 * the stop timeout for the thread to finish (then interrupts it). A batch returned by a {@code poll} that was running
 * when the stop came is neither stored nor acknowledged: your source delivers it again next time.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li>{@code acknowledge(batch)} runs strictly after {@code storeReliably(batch)} returned, on the same thread, so
 *       what your source counts as acknowledged is durable in the write-ahead log. A batch whose store failed is never
 *       acknowledged.
 *   <li>Backpressure: when the runtime's buffer is full, {@code storeReliably} blocks, so {@code poll} is not called:
 *       the receiver holds at most one batch in memory.
 *   <li>At-least-once from the source's point of view: a crash after the store and before the acknowledgement makes the
 *       source deliver the batch again. To get exactly-once, skip records whose offset is at most {@link
 *       #lastStoredOffset(String)} (the example {@code SpoolDirectoryReceiver} does).
 * </ul>
 *
 * <h2>Thread safety</h2>
 *
 * {@code open}, {@code poll}, {@code acknowledge} and {@code close} are called only from the poll thread, one at a
 * time, so your source client needs no locking. {@code wakeup} is called from another thread, possibly while {@code
 * poll} runs, possibly before it starts: it must be thread-safe and <em>sticky</em> (a wakeup that arrives before the
 * poll blocks must still make it return), like Kafka's {@code KafkaConsumer.wakeup()}.
 *
 * <h2>Pitfalls</h2>
 *
 * <pre>{@code
 * // Bad: blocks forever, ignores the timeout; stop() has to interrupt the thread after the stop timeout.
 * protected List<Record> poll(Duration timeout) { return List.of(toRecord(queue.take())); }
 *
 * // Good: bounded wait, and wakeup() puts a marker into the queue so a stop returns at once.
 * protected List<Record> poll(Duration timeout) throws InterruptedException {
 *   Message m = queue.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
 *   return m == null || m == WAKEUP ? List.of() : List.of(toRecord(m));
 * }
 *
 * // Bad: acknowledging inside poll() loses the batch if the process dies before it is stored.
 * // Good: acknowledge only in acknowledge(batch); the SDK calls it after the reliable store.
 *
 * // Bad: returning a whole 10 GB file from one poll(). Good: return bounded chunks (a few thousand records).
 * }</pre>
 */
public abstract class PollingReceiver extends Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(PollingReceiver.class);

  /** Default longest wait of one {@link #poll(Duration)}. */
  public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofSeconds(1);

  /** Default time {@link #onStop()} waits for the poll thread before interrupting it. */
  public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(10);

  private final Duration pollTimeout;
  private final Duration stopTimeout;
  private final AtomicLong polls = new AtomicLong();
  private volatile Worker worker;

  /** Uses {@link #DEFAULT_POLL_TIMEOUT} and {@link #DEFAULT_STOP_TIMEOUT}. */
  protected PollingReceiver() {
    this(DEFAULT_POLL_TIMEOUT, DEFAULT_STOP_TIMEOUT);
  }

  /**
   * @param pollTimeout the longest time one {@code poll} may wait for data
   * @param stopTimeout how long {@code onStop} waits for the poll thread before interrupting it
   */
  protected PollingReceiver(Duration pollTimeout, Duration stopTimeout) {
    this.pollTimeout = requirePositive(pollTimeout, "pollTimeout");
    this.stopTimeout = requirePositive(stopTimeout, "stopTimeout");
  }

  private static Duration requirePositive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("Invalid value " + d + " for " + what + ": must be positive");
    }
    return d;
  }

  /** Connects to the source. Runs on the poll thread; may block. An exception makes the receiver restart. */
  protected abstract void open() throws Exception;

  /**
   * Returns the next records, waiting at most {@code timeout}; an empty list (or {@code null}) when none arrived.
   * Must return early after {@link #wakeup()}. An exception makes the receiver restart; nothing of that call is
   * stored or acknowledged.
   */
  protected abstract List<Record> poll(Duration timeout) throws Exception;

  /**
   * Commits {@code batch} to the source. Called once per stored batch, in poll order, only after the batch is durable.
   * An exception makes the receiver restart; the batch is then durable but unacknowledged, so the source may deliver
   * it again (skip it using {@link #lastStoredOffset(String)}).
   */
  protected abstract void acknowledge(List<Record> batch) throws Exception;

  /** Releases the source. Runs on the poll thread once per {@link #open()} call, even a failed one. */
  protected abstract void close() throws Exception;

  /**
   * Makes a blocked {@link #poll(Duration)} return early, or the next one if none is running. Called from another
   * thread; must be thread-safe and not block. The default does nothing, so a stop waits for the poll timeout.
   */
  protected void wakeup() {}

  /** How many {@code poll} calls have started since construction (for tests and metrics). */
  public final long pollCount() {
    return polls.get();
  }

  /** Starts the poll thread and returns. */
  @Override
  public final void onStart() {
    Worker w = new Worker();
    worker = w;
    Thread t = new Thread(w::run, "tributary-" + pipelineId() + "-" + receiverName() + "-poll-0");
    t.setDaemon(true);
    w.thread = t;
    t.start();
  }

  /** Signals the poll thread, wakes it up and waits for it (then interrupts it) up to the stop timeout. */
  @Override
  public final void onStop() throws InterruptedException {
    Worker w = worker;
    if (w == null) {
      return;
    }
    w.running = false;
    try {
      wakeup();
    } catch (RuntimeException e) {
      LOG.warn("event=wakeup_failed receiver={} error=\"{}\"", w.name(), e.toString());
    }
    Thread t = w.thread;
    if (t == Thread.currentThread()) {
      return; // stop requested from inside the loop: it ends on its own
    }
    t.join(stopTimeout.toMillis());
    if (t.isAlive()) {
      LOG.warn(
          "event=poll_thread_slow_to_stop thread={} timeout_ms={} action=interrupt hint=\"make wakeup() unblock"
              + " poll()\"",
          t.getName(), stopTimeout.toMillis());
      t.interrupt();
      t.join(stopTimeout.toMillis());
      if (t.isAlive()) {
        LOG.error("event=poll_thread_did_not_stop thread={}", t.getName());
      }
    }
  }

  /** One run of the loop, from one {@code onStart} to its {@code onStop} or failure. */
  private final class Worker {
    volatile boolean running = true;
    volatile Thread thread;

    String name() {
      Thread t = thread;
      return t == null ? "?" : t.getName();
    }

    void run() {
      Throwable failure = null;
      String failedStep = null;
      boolean opened = false;
      try {
        failedStep = "open";
        opened = true;
        open();
        while (running && !isStopped()) {
          failedStep = "poll";
          polls.incrementAndGet();
          List<Record> batch = poll(pollTimeout);
          if (!running || isStopped()) {
            break; // not stored, not acknowledged: the source delivers it again
          }
          if (batch == null || batch.isEmpty()) {
            continue;
          }
          failedStep = "storeReliably";
          storeReliably(batch);
          failedStep = "acknowledge";
          acknowledge(batch);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure = running ? e : null;
      } catch (Throwable t) {
        failure = t;
      } finally {
        if (opened) {
          try {
            close();
          } catch (Throwable t) {
            LOG.warn("event=close_failed thread={} error=\"{}\"", name(), t.toString());
            if (failure == null && running) {
              failure = t;
              failedStep = "close";
            }
          }
        }
      }
      if (failure == null) {
        return;
      }
      if (!running || isStopped() || failure instanceof ReceiverStoppedException
          || failure.getCause() instanceof ReceiverStoppedException) {
        LOG.debug("event=poll_loop_ended_by_stop thread={} step={}", name(), failedStep);
        return;
      }
      LOG.warn("event=poll_loop_failed thread={} step={} error=\"{}\"", name(), failedStep, failure.toString());
      restart(failedStep + " failed: " + failure, failure);
    }
  }
}
