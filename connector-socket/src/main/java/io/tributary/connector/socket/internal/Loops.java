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

  /**
   * Whether {@code t} (or one of its causes) says the receiver stopped: the store was refused or
   * abandoned because of the stop, not because the write-ahead log failed.
   */
  static boolean isStopped(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof io.tributary.core.api.ReceiverStoppedException) {
        return true;
      }
    }
    return false;
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
