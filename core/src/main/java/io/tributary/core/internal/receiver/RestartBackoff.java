package io.tributary.core.internal.receiver;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The delays between restarts of a failing receiver: the first restart waits the initial delay,
 * each further one twice the previous delay, never more than the maximum. A receiver whose {@code
 * onStart} succeeded and that then stayed up for longer than twice the maximum since it was started
 * starts over at the initial delay: it ran fine for a while, so the next failure is a new incident
 * and not one more attempt of the last one. A failed {@code onStart} never starts over, however
 * long it took to fail.
 *
 * <p>The supervisor calls {@link #attemptStarted()} right before {@code onStart}, {@link
 * #startSucceeded()} when {@code onStart} returned normally, and, for every failure (a failed
 * {@code onStart} or a {@code restart(...)} request), {@link #nextDelayMs()} to learn how long to
 * wait before the next attempt.
 *
 * <p>Thread safety: not thread-safe; the supervisor uses it from its control thread only ({@link
 * #peekDelayMs()} may be read from any thread, it is only a hint).
 */
final class RestartBackoff {
  private final long initialMs;
  private final long maxMs;
  private final LongSupplier nanoClock;
  private volatile long nextMs;
  private long attemptNanos;
  private boolean succeeded;

  /**
   * @param initial the first delay (capped at {@code max})
   * @param max the longest delay
   * @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime}; tests pass a
   *     manual one)
   */
  RestartBackoff(Duration initial, Duration max, LongSupplier nanoClock) {
    // at least 1 ms: a sub-millisecond delay would round to 0 and 0 never doubles (a restart loop
    // without a pause)
    this.initialMs = Math.max(1, initial.toMillis());
    this.maxMs = Math.max(1, max.toMillis());
    this.nanoClock = nanoClock;
    this.nextMs = Math.min(initialMs, maxMs);
  }

  /** The receiver is being started now (right before {@code onStart}). */
  void attemptStarted() {
    attemptNanos = nanoClock.getAsLong();
    succeeded = false;
  }

  /** {@code onStart} of the attempt started last returned normally. */
  void startSucceeded() {
    succeeded = true;
  }

  /**
   * The receiver failed: returns how long to wait before starting it again, and doubles the delay
   * after that.
   */
  long nextDelayMs() {
    if (succeeded
        && TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - attemptNanos) > maxMs * 2) {
      nextMs = Math.min(initialMs, maxMs);
    }
    succeeded = false;
    long delay = nextMs;
    nextMs = delay > maxMs / 2 ? maxMs : delay * 2;
    return delay;
  }

  /**
   * The delay the next failure waits unless the receiver stays up long enough to start over (for
   * status).
   */
  long peekDelayMs() {
    return nextMs;
  }
}
