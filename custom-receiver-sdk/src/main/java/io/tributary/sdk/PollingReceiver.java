package io.tributary.sdk;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import io.tributary.core.api.TributaryException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base class for receivers that pull from their source: the SDK owns the thread and the loop, you
 * write four small methods. The loop is {@code poll -> storeReliably -> acknowledge}, and the
 * acknowledgement happens strictly after the reliable store returned, so nothing the source forgets
 * is lost.
 *
 * <pre>{@code
 * public final class QueueReceiver extends PollingReceiver {
 *   private QueueClient client;
 *
 *   protected void open() throws IOException { client = QueueClient.connect(url); }
 *
 *   protected List<Record> poll(Duration timeout) throws IOException, InterruptedException {
 *     return client.fetch(100, timeout).stream().map(m -> Record.ofString(m.body())).toList();
 *   }
 *
 *   protected void acknowledge(List<Record> batch) throws IOException { client.commit(); }
 *
 *   protected void wakeup() { client.wakeup(); }   // optional: unblocks a fetch from another thread
 *
 *   protected void close() throws IOException { if (client != null) client.close(); }
 * }
 * }</pre>
 *
 * <h2>Lifecycle</h2>
 *
 * Each {@link #onStart()} starts one thread named {@code tributary-<receiverName>-poll-0}, which
 * calls {@link #open()}, then loops {@link #poll(Duration)} → reliable store → {@link
 * #acknowledge(List)} until the receiver stops, then calls {@link #close()}. {@link #close()} is
 * called once per {@link #open()} attempt, also when {@code open()} threw, so it must cope with a
 * half-opened state. After a restart the same instance is opened again: reset in {@code open()}
 * whatever a previous run left behind.
 *
 * <p>{@link #onStop()} completes the run's stop signal, calls {@link #wakeup()}, and joins the
 * thread for at most {@link Settings#stopTimeout()}; if the thread is still alive it is interrupted
 * and joined once more (a thread that survives even that is logged as leaked). A blocked reliable
 * store (the runtime's buffer is full) does not delay a stop: the loop stops waiting for it at once
 * and does not acknowledge the batch.
 *
 * <h2>Errors</h2>
 *
 * <ul>
 *   <li>{@code poll} or {@code acknowledge} throwing a retriable error ({@link
 *       #isRetriable(Exception)}: a {@link TributaryException} that says so, or an {@link
 *       IOException}) is retried on the poll thread after an exponential backoff ({@link
 *       Settings#initialBackoff()} doubling up to {@link Settings#maxBackoff()}), at most {@link
 *       Settings#maxRetries()} times in a row; then, or for any other error (also from {@code
 *       open}), the loop asks the runtime to {@code restart(...)} the receiver (the supervisor then
 *       waits its own, growing, restart delay) and ends.
 *   <li>A failed reliable store ends the loop with a restart request and <b>never</b> acknowledges
 *       the batch: the source keeps it and sends it again after the restart.
 *   <li>A failed acknowledgement leaves the batch durable but not acknowledged; after the restart
 *       the source resends it. Skip such records with {@link #lastStoredOffset(String)} in {@code
 *       poll} to avoid storing them twice.
 * </ul>
 *
 * <h2>Thread safety</h2>
 *
 * {@code open}, {@code poll}, {@code acknowledge} and {@code close} are always called on the poll
 * thread, one at a time, so the state they share needs no locking (a non-thread-safe client such as
 * Kafka's consumer is fine). Only {@link #wakeup()} is called from another thread (the one calling
 * {@code onStop}), possibly while {@code poll} runs: it must be thread-safe and must not block.
 *
 * <h2>Pitfalls</h2>
 *
 * Bad: acknowledging inside {@code poll} (the batch is not stored yet; a crash loses it):
 *
 * <pre>{@code
 * protected List<Record> poll(Duration timeout) {
 *   List<Message> msgs = client.fetch(timeout);
 *   client.commit();                        // too early
 *   return toRecords(msgs);
 * }
 * }</pre>
 *
 * Good: return the batch and commit in {@link #acknowledge(List)}, which runs only after the store
 * is durable.
 *
 * <p>Bad: {@code poll} blocking without bound ({@code queue.take()}): a stop then waits {@link
 * Settings#stopTimeout()} and interrupts the thread. Good: honour the timeout ({@code
 * queue.poll(timeout)}) or implement {@link #wakeup()}.
 *
 * <p>Bad: returning a whole 2 GB file from one {@code poll}. Good: return bounded chunks; the
 * runtime's memory is bounded and a reliable store of a huge batch holds all of it.
 */
public abstract class PollingReceiver extends Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(PollingReceiver.class);

  /**
   * How the poll loop waits, retries and stops.
   *
   * <p>Thread safety: immutable.
   *
   * @param pollTimeout the timeout passed to {@link #poll(Duration)}; also bounds how long a stop
   *     waits for a poll that ignores {@link #wakeup()}
   * @param initialBackoff the wait before the first retry of a retriable failure
   * @param maxBackoff the longest wait between retries
   * @param maxRetries retriable failures in a row before the receiver asks for a restart; 0
   *     restarts at once
   * @param stopTimeout how long {@link #onStop()} waits for the poll thread before interrupting it
   */
  public record Settings(
      Duration pollTimeout,
      Duration initialBackoff,
      Duration maxBackoff,
      int maxRetries,
      Duration stopTimeout) {
    public Settings {
      requirePositive(pollTimeout, "pollTimeout");
      requirePositive(initialBackoff, "initialBackoff");
      requirePositive(maxBackoff, "maxBackoff");
      requirePositive(stopTimeout, "stopTimeout");
      if (maxRetries < 0) {
        throw new IllegalArgumentException(
            "Invalid value " + maxRetries + " for maxRetries: (expected: >= 0)");
      }
    }

    /** Poll timeout 1 s, backoff 100 ms doubling to 10 s, 5 retries, stop timeout 10 s. */
    public static Settings defaults() {
      return new Settings(
          Duration.ofSeconds(1),
          Duration.ofMillis(100),
          Duration.ofSeconds(10),
          5,
          Duration.ofSeconds(10));
    }

    public Settings withPollTimeout(Duration d) {
      return new Settings(d, initialBackoff, maxBackoff, maxRetries, stopTimeout);
    }

    public Settings withBackoff(Duration initial, Duration max) {
      return new Settings(pollTimeout, initial, max, maxRetries, stopTimeout);
    }

    public Settings withMaxRetries(int n) {
      return new Settings(pollTimeout, initialBackoff, maxBackoff, n, stopTimeout);
    }

    public Settings withStopTimeout(Duration d) {
      return new Settings(pollTimeout, initialBackoff, maxBackoff, maxRetries, d);
    }

    private static void requirePositive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(
            "Invalid value " + d + " for " + name + ": (expected: a duration > 0)");
      }
    }
  }

  /**
   * One start of the receiver: its own stop signal, so a late thread of an earlier start sees only
   * its own.
   */
  private static final class Run {
    final CompletableFuture<Void> stopSignal = new CompletableFuture<>();
    volatile Thread thread;
  }

  private final Settings settings;
  private volatile Run current;

  /** A polling receiver with {@link Settings#defaults()}. */
  protected PollingReceiver() {
    this(Settings.defaults());
  }

  protected PollingReceiver(Settings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** The settings this receiver runs with. */
  public final Settings settings() {
    return settings;
  }

  // ---------------------------------------------------------------- what the author implements

  /**
   * Connects to the source. Called on the poll thread, so it may block (a stop calls {@link
   * #wakeup()} meanwhile). Throwing makes the receiver restart with backoff; {@link #close()} is
   * called first.
   */
  protected abstract void open() throws Exception;

  /**
   * Fetches the next batch, waiting at most {@code timeout} when nothing is available. Return an
   * empty list (or {@code null}) when there is nothing; return batches of bounded size. Do not
   * acknowledge anything here.
   *
   * @throws InterruptedException when the poll thread is interrupted; let it propagate
   */
  protected abstract List<Record> poll(Duration timeout) throws Exception;

  /**
   * Commits {@code batch} to the source (delete, move, commit offsets, ack). Called on the poll
   * thread only after {@code batch} is durable, and in the order the batches were polled.
   */
  protected abstract void acknowledge(List<Record> batch) throws Exception;

  /**
   * Releases what {@link #open()} acquired. Called on the poll thread, once per {@code open()}
   * attempt.
   */
  protected abstract void close() throws Exception;

  /**
   * Unblocks a {@link #poll(Duration)} (or {@link #open()}) that is waiting, so that a stop is
   * prompt. Called from another thread while the poll thread may be inside {@code poll}: must be
   * thread-safe and must not block. The default does nothing, and a stop then waits up to the poll
   * timeout.
   */
  protected void wakeup() {}

  /** Whether a failure of {@code poll} or {@code acknowledge} is worth retrying in place. */
  protected boolean isRetriable(Exception e) {
    if (e instanceof TributaryException te) {
      return te.isRetriable();
    }
    return e instanceof IOException;
  }

  // ---------------------------------------------------------------- lifecycle (owned by the SDK)

  /** Starts the poll thread and returns. */
  @Override
  public final void onStart() {
    Run run = new Run();
    Thread t = new Thread(() -> runLoop(run), "tributary-" + receiverName() + "-poll-0");
    // Daemon: a poll stuck in a library that ignores interrupts must not keep the JVM alive after
    // shutdown.
    t.setDaemon(true);
    run.thread = t;
    Run previous = current;
    if (previous != null && previous.thread.isAlive()) {
      LOG.warn(
          "event=previous_poll_thread_alive receiver={} thread={} (onStart without onStop; stopping it)",
          receiverName(),
          previous.thread.getName());
      previous.stopSignal.complete(null);
    }
    current = run;
    t.start();
  }

  /** Signals the poll thread, wakes it up and joins it (bounded). Safe to call twice. */
  @Override
  public final void onStop() {
    Run run = current;
    current = null;
    if (run == null) {
      return;
    }
    run.stopSignal.complete(null);
    Thread t = run.thread;
    if (t == Thread.currentThread()) {
      return; // stop requested from the poll thread: the loop ends by itself
    }
    try {
      wakeup();
    } catch (RuntimeException e) {
      LOG.warn("event=receiver_wakeup_failed receiver={} error=\"{}\"", safeName(), e.toString());
    }
    try {
      t.join(settings.stopTimeout().toMillis());
      if (t.isAlive()) {
        LOG.warn(
            "event=poll_thread_slow_to_stop receiver={} thread={} waited_ms={} (interrupting it; implement wakeup()"
                + " or honour the poll timeout)",
            safeName(),
            t.getName(),
            settings.stopTimeout().toMillis());
        t.interrupt();
        t.join(settings.stopTimeout().toMillis());
        if (t.isAlive()) {
          LOG.error(
              "event=poll_thread_leaked receiver={} thread={} (it ignores interrupts; close() runs when it ends)",
              safeName(),
              t.getName());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String safeName() {
    try {
      return receiverName();
    } catch (IllegalStateException e) {
      return getClass().getSimpleName();
    }
  }

  private boolean stopping(Run run) {
    return run.stopSignal.isDone() || isStopped() || Thread.currentThread().isInterrupted();
  }

  private void runLoop(Run run) {
    try {
      try {
        open();
      } catch (InterruptedException e) {
        interrupted(run, "open");
        return;
      } catch (Exception e) {
        requestRestart(run, "open failed", e);
        return;
      }
      int pollFailures = 0;
      while (!stopping(run)) {
        List<Record> batch;
        try {
          batch = poll(settings.pollTimeout());
          pollFailures = 0;
        } catch (InterruptedException e) {
          interrupted(run, "poll");
          return;
        } catch (Exception e) {
          if (stopping(run)) {
            return; // a poll failing because we are closing is not news
          }
          if (isRetriable(e) && ++pollFailures <= settings.maxRetries()) {
            if (!backoff(run, "poll", pollFailures, e)) {
              return;
            }
            continue;
          }
          requestRestart(run, "poll failed", e);
          return;
        }
        if (batch == null || batch.isEmpty()) {
          continue;
        }
        if (!storeReliablyOrStop(run, batch) || !acknowledgeWithRetries(run, batch)) {
          return;
        }
      }
    } finally {
      // close() gets a thread without the interrupt flag (NIO channels would refuse to close
      // cleanly), and the flag
      // is restored afterwards: the thread is ending because of it.
      boolean wasInterrupted = Thread.interrupted();
      try {
        close();
      } catch (Exception e) {
        LOG.warn("event=receiver_close_failed receiver={} error=\"{}\"", safeName(), e.toString());
      } finally {
        if (wasInterrupted) {
          Thread.currentThread().interrupt();
        }
      }
      LOG.debug("event=poll_thread_ended receiver={}", safeName());
    }
  }

  /**
   * Stores the batch reliably; returns false (and never acknowledges) when stopping or when the
   * store failed.
   */
  private boolean storeReliablyOrStop(Run run, List<Record> batch) {
    CompletableFuture<Void> stored;
    try {
      stored = storeReliablyAsync(batch);
    } catch (ReceiverStoppedException e) {
      return false;
    } catch (RuntimeException e) {
      requestRestart(run, "reliable store failed", e);
      return false;
    }
    try {
      // Wait for durability or for a stop, whichever comes first; a stop never waits on a full
      // buffer.
      CompletableFuture.anyOf(stored, run.stopSignal).handle((v, t) -> null).get();
    } catch (InterruptedException e) {
      interrupted(run, "store");
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e); // handle(...) never fails
    }
    if (!stored.isDone()) {
      LOG.debug("event=store_abandoned_on_stop receiver={} records={}", safeName(), batch.size());
      return false;
    }
    try {
      stored.join();
      return true;
    } catch (CompletionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof ReceiverStoppedException || stopping(run)) {
        return false;
      }
      requestRestart(
          run,
          "reliable store failed; the batch was not acknowledged and the source keeps it",
          cause);
      return false;
    }
  }

  private boolean acknowledgeWithRetries(Run run, List<Record> batch) {
    int failures = 0;
    while (true) {
      try {
        acknowledge(batch);
        return true;
      } catch (InterruptedException e) {
        interrupted(run, "acknowledge");
        return false;
      } catch (Exception e) {
        if (!stopping(run) && isRetriable(e) && ++failures <= settings.maxRetries()) {
          if (!backoff(run, "acknowledge", failures, e)) {
            return false;
          }
          continue;
        }
        requestRestart(
            run,
            "acknowledge failed; the batch is durable and the source will resend it after the restart",
            e);
        return false;
      }
    }
  }

  /** Waits the backoff for {@code attempt}; returns false when a stop came meanwhile. */
  private boolean backoff(Run run, String step, int attempt, Exception e) {
    long delayMs = settings.initialBackoff().toMillis();
    for (int i = 1; i < attempt && delayMs < settings.maxBackoff().toMillis(); i++) {
      delayMs *= 2;
    }
    delayMs = Math.min(delayMs, settings.maxBackoff().toMillis());
    LOG.warn(
        "event=receiver_retry receiver={} step={} attempt={} max_retries={} backoff_ms={} error=\"{}\"",
        safeName(),
        step,
        attempt,
        settings.maxRetries(),
        delayMs,
        e.toString());
    try {
      run.stopSignal.get(delayMs, TimeUnit.MILLISECONDS);
      return false;
    } catch (TimeoutException timeout) {
      return !stopping(run);
    } catch (InterruptedException ie) {
      interrupted(run, "backoff");
      return false;
    } catch (ExecutionException ee) {
      return false;
    }
  }

  private void interrupted(Run run, String step) {
    boolean expected = run.stopSignal.isDone() || isStopped();
    Thread.currentThread().interrupt(); // keep the flag: the thread is ending because of it
    if (!expected) {
      requestRestart(run, "poll thread interrupted during " + step, null);
    }
  }

  private void requestRestart(Run run, String reason, Throwable error) {
    if (run.stopSignal.isDone() || isStopped()) {
      return;
    }
    LOG.warn(
        "event=receiver_restart_requested receiver={} reason=\"{}\" error=\"{}\"",
        safeName(),
        reason,
        error == null ? "" : error.toString());
    restart(reason, error);
  }
}
