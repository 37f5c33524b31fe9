package io.tributary.core.runtime;

import java.util.OptionalInt;

/**
 * Where one receiver of a running pipeline stands, as its supervisor sees it: for the gateway's
 * status ({@code GET /pipelines/{id}}, the status page).
 *
 * <p>Thread safety: immutable.
 *
 * @param name the source name in the pipeline
 * @param state what the supervisor is doing with it
 * @param restarts restarts since the pipeline started (a failed {@code onStart}, or the receiver's
 *     own {@code restart})
 * @param lastError the last error reported, restart reason or failed start ({@code null} if none);
 *     not scrubbed: a caller that shows it scrubs secrets
 * @param lastErrorAtMs epoch milliseconds of {@code lastError}, 0 if none
 * @param connectedClients clients connected now, where the receiver can tell
 * @param bufferedBytes bytes stored but not yet in a durable block (the receiver's buffer)
 */
public record ReceiverStatus(
    String name,
    State state,
    long restarts,
    String lastError,
    long lastErrorAtMs,
    OptionalInt connectedClients,
    long bufferedBytes) {

  /** A receiver's state. */
  public enum State {
    /** Not started yet, or {@code onStart} is running. */
    STARTING,
    /** {@code onStart} returned and no restart or stop was asked since. */
    RUNNING,
    /** Being restarted: stopping, or waiting for the backoff delay before the next start. */
    RESTARTING,
    /** Stopped for good (the pipeline stopped, or the receiver stopped itself). */
    STOPPED
  }
}
