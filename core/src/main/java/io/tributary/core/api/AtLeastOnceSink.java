package io.tributary.core.api;

/**
 * A sink that may write a replayed batch twice (console, Kinesis). Downstream consumers deduplicate
 * by {@link SourcePosition} or batch id.
 */
public non-sealed interface AtLeastOnceSink extends Sink {
  @Override
  default Guarantee guarantee() {
    return Guarantee.AT_LEAST_ONCE;
  }
}
