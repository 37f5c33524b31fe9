package io.tributary.core.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.tributary.core.api.TributaryException;
import io.tributary.core.runtime.PipelineOptions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one step of the batch path (list partitions, read the plan, write a sink, write the
 * checkpoint) and, when it fails with a retriable error, runs the same step again after an
 * exponential backoff: {@code retry.initial-backoff}, doubling up to {@code retry.max-backoff},
 * until it succeeds, {@code retry.max-attempts} attempts were made, or the next attempt would start
 * later than {@code retry.timeout} after the first one. Then the last error is thrown inside a
 * {@link TributaryException} that says how many attempts were made over how long.
 *
 * <p>Retriable means: the first {@link TributaryException} in the error's cause chain says {@link
 * TributaryException#isRetriable()}. Anything else (a fatal {@code TributaryException}, a plain
 * {@code IOException}, an {@code Error}) is thrown at once, unwrapped, and so is {@link
 * InterruptedException} (a stop).
 *
 * <p>The step must be safe to run again: the engine calls it with the same inputs (the same batch
 * id, plan and records), so a retried sink write is the same write as a replay after a restart.
 *
 * <p>Each retry increments {@code tributary.batch.retries} (tags {@code pipeline}, {@code phase})
 * and logs one line {@code event=batch_retry}; no stack trace, the condition is expected.
 *
 * <p>Thread safety: {@link #call} may be used from any thread; the engine uses it from the batch
 * thread.
 */
public final class BatchRetry {
  private static final Logger LOG = LoggerFactory.getLogger(BatchRetry.class);

  /** Waits between attempts; tests pass one that advances a manual clock instead. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(long millis) throws InterruptedException;
  }

  /** A step that returns nothing. */
  @FunctionalInterface
  public interface Step {
    void run() throws Exception;
  }

  /**
   * The retry settings.
   *
   * @param maxAttempts attempts in all, the first included (1 = no retry)
   * @param initialBackoff wait before the second attempt
   * @param maxBackoff longest wait between two attempts
   * @param timeout no attempt starts later than this after the first one started
   */
  public record Policy(
      int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration timeout) {
    public static Policy from(PipelineOptions options) {
      return new Policy(
          options.get(PipelineOptions.RETRY_MAX_ATTEMPTS),
          options.get(PipelineOptions.RETRY_INITIAL_BACKOFF),
          options.get(PipelineOptions.RETRY_MAX_BACKOFF),
          options.get(PipelineOptions.RETRY_TIMEOUT));
    }
  }

  private final String pipelineId;
  private final Policy policy;
  private final MeterRegistry registry;
  private final LongSupplier nanoClock;
  private final Sleeper sleeper;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  /** With the system clock and {@link Thread#sleep(long)}. */
  public BatchRetry(String pipelineId, PipelineOptions options, MeterRegistry registry) {
    this(pipelineId, Policy.from(options), registry, System::nanoTime, Thread::sleep);
  }

  /**
   * @param nanoClock monotonic nanoseconds ({@code System::nanoTime})
   * @param sleeper waits between attempts ({@code Thread::sleep})
   */
  public BatchRetry(
      String pipelineId,
      Policy policy,
      MeterRegistry registry,
      LongSupplier nanoClock,
      Sleeper sleeper) {
    this.pipelineId = pipelineId;
    this.policy = policy;
    this.registry = registry;
    this.nanoClock = nanoClock;
    this.sleeper = sleeper;
  }

  /**
   * Runs {@code action}, retrying it as described in the class comment; {@code phase} names it in
   * metrics and logs.
   */
  public <T> T call(String phase, Callable<T> action) throws Exception {
    return call(e -> phase, action);
  }

  /**
   * {@link #call(String, Callable)} for a step of several phases (a whole batch attempt: read, then
   * write sinks): {@code phaseOf} names the phase a failure came from.
   */
  public <T> T call(java.util.function.Function<Exception, String> phaseOf, Callable<T> action)
      throws Exception {
    long startNanos = nanoClock.getAsLong();
    long timeoutNanos = policy.timeout().toNanos();
    // at least 1 ms: a sub-millisecond backoff would round to 0 and 0 never doubles
    long maxMs = Math.max(1, policy.maxBackoff().toMillis());
    long backoffMs = Math.min(Math.max(1, policy.initialBackoff().toMillis()), maxMs);
    for (int attempt = 1; ; attempt++) {
      try {
        return action.call();
      } catch (Exception e) {
        if (e instanceof InterruptedException || !isRetriable(e)) {
          throw e;
        }
        String phase = phaseOf.apply(e);
        long elapsedNanos = nanoClock.getAsLong() - startNanos;
        boolean attemptsLeft = attempt < policy.maxAttempts();
        boolean timeLeft = elapsedNanos + TimeUnit.MILLISECONDS.toNanos(backoffMs) <= timeoutNanos;
        if (!attemptsLeft || !timeLeft) {
          long elapsedMs = TimeUnit.NANOSECONDS.toMillis(elapsedNanos);
          LOG.warn(
              "event=batch_retry_exhausted pipeline={} phase={} attempts={} elapsed_ms={} limit={} error=\"{}\"",
              pipelineId,
              phase,
              attempt,
              elapsedMs,
              attemptsLeft ? "retry.timeout" : "retry.max-attempts",
              e.toString());
          throw new TributaryException(
              "Pipeline "
                  + pipelineId
                  + " gave up on "
                  + phase
                  + " after "
                  + attempt
                  + " attempt"
                  + (attempt == 1 ? "" : "s")
                  + " over "
                  + elapsedMs
                  + " ms ("
                  + (attemptsLeft
                      ? "retry.timeout "
                          + policy.timeout().toMillis()
                          + " ms would pass before the next attempt"
                      : "retry.max-attempts " + policy.maxAttempts() + " reached")
                  + "): "
                  + e
                  + " (the error is retriable: once its cause is fixed a restart goes on; raise"
                  + " retry.max-attempts or retry.timeout to ride out longer outages)",
              e);
        }
        counter(phase).increment();
        LOG.warn(
            "event=batch_retry pipeline={} phase={} attempt={} next_attempt={} backoff_ms={} elapsed_ms={}"
                + " error=\"{}\"",
            pipelineId,
            phase,
            attempt,
            attempt + 1,
            backoffMs,
            TimeUnit.NANOSECONDS.toMillis(elapsedNanos),
            e.toString());
        sleeper.sleep(backoffMs);
        backoffMs = backoffMs > maxMs / 2 ? maxMs : backoffMs * 2;
      }
    }
  }

  /** {@link #call} for a step without a result. */
  public void run(String phase, Step step) throws Exception {
    call(
        phase,
        () -> {
          step.run();
          return null;
        });
  }

  /**
   * Whether {@code t} is worth retrying: the outermost {@link TributaryException} in its cause
   * chain decides (so a connector may wrap a retriable error in a fatal one to stop retries, and a
   * retriable one wrapped in, say, an {@code IOException} by a library still counts).
   */
  public static boolean isRetriable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof TributaryException te) {
        return te.isRetriable();
      }
    }
    return false;
  }

  private Counter counter(String phase) {
    return counters.computeIfAbsent(
        phase,
        p ->
            registry.counter(
                "tributary.batch.retries", Tags.of("pipeline", pipelineId, "phase", p)));
  }
}
