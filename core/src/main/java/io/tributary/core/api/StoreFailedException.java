package io.tributary.core.api;

/**
 * A reliable store failed (the write-ahead log could not write or sync); nothing of that batch
 * counts as stored.
 */
public class StoreFailedException extends RetriableException {
  public StoreFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
