package io.tributary.core.api;

/**
 * A sink where writing batch N twice has the same effect as once (output named after the batch id).
 */
public non-sealed interface IdempotentSink extends Sink {
  @Override
  default Guarantee guarantee() {
    return Guarantee.EXACTLY_ONCE_IDEMPOTENT;
  }
}
