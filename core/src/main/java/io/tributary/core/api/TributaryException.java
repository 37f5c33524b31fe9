package io.tributary.core.api;

/**
 * Root of Tributary's unchecked exceptions. Messages say what happened, where, and what to do.
 *
 * <p>Subtypes are either {@link RetriableException} (the operation may succeed if retried) or fatal
 * (retrying the same thing cannot help; a person has to act).
 */
public class TributaryException extends RuntimeException {
  public TributaryException(String message) {
    super(message);
  }

  public TributaryException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Whether retrying the same operation may succeed. */
  public boolean isRetriable() {
    return false;
  }
}
