package io.tributary.core.internal.receiver;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The lifecycle of a supervised receiver as one state with legal transitions (it replaces five
 * booleans: stopped, shutdown, stopped by the receiver, restart pending, running).
 *
 * <pre>
 * NEW ──▶ STARTING ──▶ RUNNING ──▶ RESTARTING ──▶ BACKING_OFF ──▶ STARTING ...
 *            │  ╰────────────────────▲ (onStart failed or restart() during it)
 *            ╰──────▶ STOPPING ◀── RUNNING, RESTARTING        NEW, BACKING_OFF ──▶ STOPPED
 *                        ╰──▶ STOPPED ──▶ CLOSED   (any state ──▶ CLOSED on close)
 * </pre>
 *
 * <p>Thread safety: thread-safe; transitions are compare-and-set, so of two threads racing (a
 * receiver's {@code stop} and the control thread's restart) exactly one wins and the other sees the
 * new state.
 */
final class ReceiverLifecycle {
  enum State {
    /** Not started yet. */
    NEW,
    /** {@code onStart} is running; stores are accepted; {@code onStop} is due. */
    STARTING,
    /** {@code onStart} returned; {@code onStop} is due. */
    RUNNING,
    /**
     * A restart was asked for or {@code onStart} failed; {@code onStop} is due, then the backoff.
     */
    RESTARTING,
    /** {@code onStop} ran; the next start is scheduled after the backoff delay. */
    BACKING_OFF,
    /** The receiver or the pipeline stopped it; {@code onStop} is due. No more restarts. */
    STOPPING,
    /** Stopped for good; {@code onStop} ran (or was never due). */
    STOPPED,
    /** The supervisor is closed. */
    CLOSED;

    private Set<State> next;

    static {
      NEW.next = EnumSet.of(STARTING, STOPPED, CLOSED);
      STARTING.next = EnumSet.of(RUNNING, RESTARTING, STOPPING, CLOSED);
      RUNNING.next = EnumSet.of(RESTARTING, STOPPING, CLOSED);
      RESTARTING.next = EnumSet.of(BACKING_OFF, STOPPING, CLOSED);
      BACKING_OFF.next = EnumSet.of(STARTING, STOPPED, CLOSED);
      STOPPING.next = EnumSet.of(STOPPED, CLOSED);
      STOPPED.next = EnumSet.of(CLOSED);
      CLOSED.next = EnumSet.noneOf(State.class);
    }

    boolean canMoveTo(State target) {
      return next.contains(target);
    }

    /**
     * The receiver was started and not stopped yet: {@code onStop} must run before anything else
     * starts it.
     */
    boolean onStopDue() {
      return this == STARTING || this == RUNNING || this == RESTARTING || this == STOPPING;
    }

    /** Stores are accepted ({@code isStopped()} is false). */
    boolean accepting() {
      return this == STARTING || this == RUNNING || this == RESTARTING;
    }
  }

  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);

  State get() {
    return state.get();
  }

  /**
   * Moves from {@code from} to {@code to} if the state still is {@code from}.
   *
   * @return false if the state changed meanwhile (another thread won)
   * @throws IllegalStateException if {@code from -> to} is not a legal transition (a bug in the
   *     supervisor)
   */
  boolean moveTo(State from, State to) {
    if (!from.canMoveTo(to)) {
      throw new IllegalStateException(
          "Illegal receiver lifecycle transition " + from + " -> " + to);
    }
    return state.compareAndSet(from, to);
  }

  /**
   * Moves to {@code to} from whatever state allows it; returns the state it moved from, or {@code
   * null} if the current state cannot move to {@code to} (for example a stop request after the
   * receiver already stopped).
   */
  State moveToIfLegal(State to) {
    while (true) {
      State current = state.get();
      if (!current.canMoveTo(to)) {
        return null;
      }
      if (state.compareAndSet(current, to)) {
        return current;
      }
    }
  }
}
