package io.tributary.connector.socket.internal;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.RejectedExecutionException;

/** Small helpers for hopping onto an event loop. Thread safety: stateless. */
final class Loops {
  private Loops() {}

  /**
   * Runs {@code task} on {@code loop} (inline when already on it); ignored when the loop is shut
   * down.
   */
  static void run(EventExecutor loop, Runnable task) {
    if (loop.inEventLoop()) {
      task.run();
      return;
    }
    try {
      loop.execute(task);
    } catch (RejectedExecutionException e) {
      // The loop is shutting down with its channels: nothing left to do for this task.
    }
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
