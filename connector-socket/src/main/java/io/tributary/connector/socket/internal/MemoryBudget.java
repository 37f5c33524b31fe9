package io.tributary.connector.socket.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of partial frames that all connections of one server hold together (the decoders'
 * cumulation buffers, in direct memory), against a limit ({@code max-buffered-bytes}). Decoders
 * report what they hold after every read; see {@link BudgetedDecoder} for what happens at the
 * limit.
 *
 * <p>Thread safety: safe for concurrent use.
 */
public final class MemoryBudget {
  private final long limit;
  private final AtomicLong used = new AtomicLong();

  public MemoryBudget(long limit) {
    this.limit = limit;
  }

  /** Adds {@code delta} (negative to release) and returns the new total. */
  public long add(long delta) {
    return delta == 0 ? used.get() : used.addAndGet(delta);
  }

  public long used() {
    return used.get();
  }

  public long limit() {
    return limit;
  }
}
