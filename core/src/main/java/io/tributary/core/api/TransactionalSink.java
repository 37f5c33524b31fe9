package io.tributary.core.api;

import java.util.OptionalLong;

/**
 * A sink that commits each batch together with a marker of {@code (pipeline, batchId)} in one
 * transaction, and can say which batch it committed last. On recovery the runtime skips writing
 * batches up to that one.
 */
public non-sealed interface TransactionalSink extends Sink {
  /**
   * The highest batch id whose transaction committed, for this pipeline; empty if none. Called by
   * the runtime after {@link #open(SinkContext)}, before replaying.
   */
  OptionalLong lastCommittedBatch() throws Exception;

  @Override
  default Guarantee guarantee() {
    return Guarantee.EXACTLY_ONCE_TRANSACTIONAL;
  }
}
