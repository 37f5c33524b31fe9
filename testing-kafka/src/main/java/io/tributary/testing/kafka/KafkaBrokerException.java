package io.tributary.testing.kafka;

import io.tributary.core.api.TributaryException;

/**
 * A test broker could not be started, restarted or used. The message names the broker and, for the
 * local broker, the tail of its log.
 *
 * <p>Thread safety: immutable.
 */
public class KafkaBrokerException extends TributaryException {
  public KafkaBrokerException(String message) {
    super(message);
  }

  public KafkaBrokerException(String message, Throwable cause) {
    super(message, cause);
  }
}
