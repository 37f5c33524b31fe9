package io.tributary.connector.flume.internal;

import io.tributary.connector.flume.FlumeErrorReason;

/**
 * The call being answered on a push caller thread: lets the protocol implementation (which Avro
 * calls without any connection context) ask for the connection to be closed after the answer.
 *
 * <p>Thread safety: confined to the caller thread while the call runs, then handed to the event
 * loop (through the executor's happens-before).
 */
public final class PushCall {
  private static final ThreadLocal<PushCall> CURRENT = new ThreadLocal<>();

  final Object remote;
  FlumeErrorReason reason;
  String detail;

  PushCall(Object remote) {
    this.remote = remote;
  }

  /** The call running on this thread, or {@code null} outside a push call. */
  public static PushCall current() {
    return CURRENT.get();
  }

  static void enter(PushCall call) {
    CURRENT.set(call);
  }

  static void exit() {
    CURRENT.remove();
  }

  /** The sender's address. */
  public Object remote() {
    return remote;
  }

  /** Counts {@code reason} once the answer is written, then closes the connection. */
  public void rejectAndClose(FlumeErrorReason why, String text) {
    if (this.reason == null) {
      this.reason = why;
      this.detail = text;
    }
  }
}
