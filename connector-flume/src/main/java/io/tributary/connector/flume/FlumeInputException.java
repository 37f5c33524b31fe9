package io.tributary.connector.flume;

import io.tributary.core.api.TributaryException;

/**
 * Input a Flume connection sent that the connector rejects, with its {@link FlumeErrorReason}.
 *
 * <p>Thread safety: immutable.
 */
public final class FlumeInputException extends TributaryException {
  private static final long serialVersionUID = 1L;
  private final FlumeErrorReason reason;

  public FlumeInputException(FlumeErrorReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  /** Why the input was rejected. */
  public FlumeErrorReason reason() {
    return reason;
  }
}
