package io.tributary.core.api;

/**
 * Planned data cannot be read any more (deleted by retention, file removed, WAL segment missing).
 * Fatal: the runtime stops the pipeline rather than silently skipping data.
 */
public class DataUnavailableException extends TributaryException {
  public DataUnavailableException(String message) {
    super(message);
  }

  public DataUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
