package io.tributary.core.api;

import java.util.Objects;

/**
 * One piece of planned data a source decided not to read (a file skipped under {@code on-bad-file:
 * skip}), as reported by {@link SupportsQuarantine#quarantined()}: what it is, why, and when.
 *
 * <p>Thread safety: immutable.
 *
 * @param partition the source partition it belonged to
 * @param item what was skipped, as an operator finds it (a file's full path)
 * @param reason a short reason code ({@code corrupt}, {@code vanished}, {@code access-denied},
 *     {@code too-long}, {@code unreadable}...)
 * @param message the error that made the source skip it (may name the byte offset)
 * @param quarantinedAtMs epoch milliseconds of the decision
 */
public record QuarantinedItem(
    String partition, String item, String reason, String message, long quarantinedAtMs) {
  public QuarantinedItem {
    Objects.requireNonNull(partition, "partition");
    Objects.requireNonNull(item, "item");
    Objects.requireNonNull(reason, "reason");
    message = message == null ? "" : message;
  }
}
