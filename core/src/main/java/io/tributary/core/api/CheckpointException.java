package io.tributary.core.api;

/** The checkpoint could not be read or written (I/O failure, unreadable JSON). */
public class CheckpointException extends TributaryException {
  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
