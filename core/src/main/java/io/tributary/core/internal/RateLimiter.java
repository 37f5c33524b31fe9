package io.tributary.core.internal;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A token bucket of records per second whose rate can change at run time (backpressure). A rate of
 * 0 or less means unlimited. Bursts up to 100 ms worth of tokens (at least one), so the limit holds
 * over short windows.
 *
 * <p>Thread safety: thread-safe.
 */
public final class RateLimiter {
  private final LongSupplier nanoClock;
  private double ratePerSecond;
  private double tokens;
  private long lastRefillNanos;

  public RateLimiter(double ratePerSecond) {
    this(ratePerSecond, System::nanoTime);
  }

  /** A limiter on the given monotonic clock (tests pass a manual one). */
  RateLimiter(double ratePerSecond, LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.ratePerSecond = ratePerSecond;
    this.lastRefillNanos = nanoClock.getAsLong();
    this.tokens = burst(ratePerSecond);
  }

  public synchronized void setRate(double newRate) {
    refill(nanoClock.getAsLong());
    this.ratePerSecond = newRate;
    if (newRate > 0) {
      tokens = Math.min(tokens, burst(newRate));
    }
  }

  public synchronized double rate() {
    return ratePerSecond;
  }

  /**
   * Takes {@code permits} tokens, going into debt if needed, and returns how long the caller must
   * wait before using them (0 when none).
   */
  public synchronized long reserveNanos(int permits) {
    if (ratePerSecond <= 0) {
      return 0;
    }
    long now = nanoClock.getAsLong();
    refill(now);
    tokens -= permits;
    if (tokens >= 0) {
      return 0;
    }
    return (long) (-tokens / ratePerSecond * TimeUnit.SECONDS.toNanos(1));
  }

  /** Blocks until {@code permits} may be used. */
  public void acquire(int permits) throws InterruptedException {
    long wait = reserveNanos(permits);
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }

  private static double burst(double rate) {
    return rate > 0 ? Math.max(1, rate / 10) : 0;
  }

  private void refill(long now) {
    if (ratePerSecond > 0) {
      double add = (now - lastRefillNanos) / 1e9 * ratePerSecond;
      tokens = Math.min(burst(ratePerSecond), tokens + add);
    }
    lastRefillNanos = now;
  }
}
