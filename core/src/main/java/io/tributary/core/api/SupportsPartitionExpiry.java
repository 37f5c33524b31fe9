package io.tributary.core.api;

import java.time.Duration;
import java.util.Optional;

/**
 * A {@link Receiver} mix-in: the runtime forgets the stored position of a receiver partition (a
 * producer, a sender) that stored nothing for {@link #partitionIdleTimeout()}, so the positions the
 * checkpoint keeps are bounded by the partitions active within that time instead of growing with
 * every partition ever seen.
 *
 * <p>After a partition expired, {@link Receiver#lastStoredOffset(String)} returns empty for it,
 * exactly as for a partition never seen: a source that resends from its own position must then
 * treat the partition as new, and a resend of offsets it had stored before the expiry is stored
 * again (it is no longer recognised as a duplicate). Say in your receiver's docs what a returning
 * partition must do.
 *
 * <p>Idle time is wall-clock time since the last reliable or unreliable store with an offset for
 * the partition, including time the process was down: a gateway stopped for longer than the timeout
 * forgets every partition.
 *
 * <pre>{@code
 * public final class MyReceiver extends Receiver implements SupportsPartitionExpiry {
 *   public Optional<Duration> partitionIdleTimeout() {
 *     return Optional.of(Duration.ofDays(7));
 *   }
 * }
 * }</pre>
 *
 * <p>Thread safety: {@link #partitionIdleTimeout()} is read once, when the runtime creates the
 * receiver's supervisor, before the first start.
 */
public interface SupportsPartitionExpiry {
  /**
   * How long a partition may store nothing before its position is forgotten (positive), or empty
   * when this receiver's configuration keeps every partition (as receivers without this mix-in do).
   */
  Optional<Duration> partitionIdleTimeout();
}
