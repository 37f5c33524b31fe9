package io.tributary.core.internal.wal;

import java.util.Objects;

/**
 * One entry read back from the write-ahead log during {@link WriteAheadLog#replay}: its handle and
 * its payload.
 *
 * <p>Thread safety: the record is immutable, but {@code payload} is a plain array owned by the
 * receiver of the entry; do not share it across threads while modifying it.
 */
public record WalEntry(WalHandle handle, byte[] payload) {
  public WalEntry {
    Objects.requireNonNull(handle, "handle");
    Objects.requireNonNull(payload, "payload");
  }
}
