package io.tributary.connector.socket.internal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Decides whether a repeated WARN line may be written: at most {@code burst} lines per {@code
 * windowMillis}, the rest only counted. A hostile or broken client can then not fill the logs (one
 * line per bad connection at thousands of connections per second), and the first line written after
 * a suppressed stretch says how many were left out.
 *
 * <p>Thread safety: safe for concurrent use (lock-free; an occasional extra line at a window edge
 * is accepted).
 */
public final class RateLimitedLog {
  private final int burst;
  private final long windowMillis;
  private final LongSupplier clock;
  private final AtomicLong windowStart = new AtomicLong(Long.MIN_VALUE);
  private final AtomicLong inWindow = new AtomicLong();
  private final AtomicLong suppressed = new AtomicLong();

  public RateLimitedLog(int burst, long windowMillis, LongSupplier clock) {
    this.burst = burst;
    this.windowMillis = windowMillis;
    this.clock = clock;
  }

  /**
   * Returns -1 when the line must be left out (it is counted), otherwise the number of lines left
   * out since the last one written (0 usually), which the caller adds to its line.
   */
  public long tryAcquire() {
    long now = clock.getAsLong();
    long start = windowStart.get();
    if (start == Long.MIN_VALUE || now - start >= windowMillis) {
      if (windowStart.compareAndSet(start, now)) {
        inWindow.set(0);
      }
    }
    if (inWindow.incrementAndGet() > burst) {
      suppressed.incrementAndGet();
      return -1;
    }
    return suppressed.getAndSet(0);
  }
}
