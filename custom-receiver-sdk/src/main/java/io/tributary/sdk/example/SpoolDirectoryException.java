package io.tributary.sdk.example;

import io.tributary.core.api.TributaryException;

/**
 * A file in the spool directory cannot be processed as it is (not UTF-8, a file name used twice).
 * Not retriable: a person has to fix or move the file; until then the receiver restarts with
 * backoff and logs this message.
 */
public class SpoolDirectoryException extends TributaryException {
  public SpoolDirectoryException(String message) {
    super(message);
  }

  public SpoolDirectoryException(String message, Throwable cause) {
    super(message, cause);
  }
}
