package io.tributary.core.internal.receiver;

import io.tributary.core.api.ReceiverStoppedException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A bounded number of bytes that receivers' data may occupy in memory until its batch commits;
 * stores wait (FIFO) for room. A single request larger than the capacity is admitted when nothing
 * else is held, so it cannot wait forever.
 *
 * <p>Thread safety: thread-safe.
 */
final class ByteBudget {
  private record Waiter(long bytes, CompletableFuture<Void> future) {}

  private final long capacity;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private long used;
  private String closedReason;

  ByteBudget(long capacity) {
    this.capacity = capacity;
  }

  synchronized long used() {
    return used;
  }

  long capacity() {
    return capacity;
  }

  /**
   * Completes once {@code bytes} are reserved; fails with {@link ReceiverStoppedException} when
   * closed.
   */
  CompletableFuture<Void> acquireAsync(long bytes) {
    synchronized (this) {
      if (closedReason != null) {
        return CompletableFuture.failedFuture(new ReceiverStoppedException(closedReason));
      }
      if (waiters.isEmpty() && fits(bytes)) {
        used += bytes;
        return CompletableFuture.completedFuture(null);
      }
      CompletableFuture<Void> f = new CompletableFuture<>();
      waiters.add(new Waiter(bytes, f));
      return f;
    }
  }

  /** Blocks until {@code bytes} are reserved. */
  void acquire(long bytes) throws InterruptedException {
    CompletableFuture<Void> f = acquireAsync(bytes);
    try {
      f.get();
    } catch (InterruptedException e) {
      if (!f.cancel(false)) {
        // Granted meanwhile: give it back.
        if (!f.isCompletedExceptionally()) {
          release(bytes);
        }
      }
      throw e;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  void release(long bytes) {
    List<CompletableFuture<Void>> granted = new ArrayList<>();
    synchronized (this) {
      used = Math.max(0, used - bytes);
      grant(granted);
    }
    granted.forEach(f -> f.complete(null));
  }

  /** Fails every waiter and every later request. */
  void close(String reason) {
    List<Waiter> failed;
    synchronized (this) {
      closedReason = reason;
      failed = new ArrayList<>(waiters);
      waiters.clear();
    }
    failed.forEach(w -> w.future().completeExceptionally(new ReceiverStoppedException(reason)));
  }

  /** Accepts requests again (after a receiver restart). */
  synchronized void reopen() {
    closedReason = null;
  }

  private boolean fits(long bytes) {
    return used + bytes <= capacity || used == 0;
  }

  private void grant(List<CompletableFuture<Void>> granted) {
    while (!waiters.isEmpty()) {
      Waiter w = waiters.peek();
      if (w.future().isDone()) {
        waiters.poll(); // cancelled by an interrupted caller
        continue;
      }
      if (!fits(w.bytes())) {
        return;
      }
      waiters.poll();
      used += w.bytes();
      granted.add(w.future());
    }
  }

  static boolean isCancellation(Throwable t) {
    return t instanceof CancellationException;
  }
}
