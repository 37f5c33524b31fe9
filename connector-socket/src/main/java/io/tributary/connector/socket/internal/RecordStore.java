package io.tributary.connector.socket.internal;

import io.tributary.core.api.Record;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * The receiver's store methods, handed to the channel handlers. Thread safety: callable from any
 * thread.
 */
public interface RecordStore {
  /** Never throws: a failure to start the store is a failed future. */
  CompletableFuture<Void> storeReliablyAsync(List<Record> batch);

  OptionalLong lastStoredOffset(String partition);

  /**
   * A reliable store failed (not because the receiver stops): the runtime's write-ahead log fails
   * for good, so the receiver asks the supervisor for a restart. Default: nothing.
   */
  default void storeFailed(Throwable cause) {}
}
