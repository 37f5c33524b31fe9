package io.tributary.connector.socket.internal;

import java.time.Duration;

/**
 * Exponential backoff: initial, doubling up to max; {@link #reset()} after a success. Thread
 * safety: synchronized.
 */
public final class Backoff {
  private final long initialMs;
  private final long maxMs;
  private long nextMs;

  public Backoff(Duration initial, Duration max) {
    this.initialMs = Math.max(1, initial.toMillis());
    this.maxMs = Math.max(initialMs, max.toMillis());
    this.nextMs = initialMs;
  }

  /** The delay to wait now; the following call returns twice as much, up to the maximum. */
  public synchronized long nextDelayMillis() {
    long d = nextMs;
    nextMs = Math.min(maxMs, nextMs * 2);
    return d;
  }

  public synchronized void reset() {
    nextMs = initialMs;
  }
}
