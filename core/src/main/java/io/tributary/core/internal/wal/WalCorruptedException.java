package io.tributary.core.internal.wal;

import io.tributary.core.api.TributaryException;

/** STUB (replaced by the real WAL). */
public final class WalCorruptedException extends TributaryException {
  public WalCorruptedException(String message) {
    super(message);
  }
}
