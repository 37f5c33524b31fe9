package io.tributary.core.api;

/**
 * Mix-in for a {@link TransactionalSink} that can commit a source's positions inside its own
 * transaction (see {@link TransactionalPositionsSource}); it finds them in {@link
 * SinkBatch#transactionalPositions(Class)}.
 *
 * <p>Thread safety: called from the batch thread.
 */
public interface CarriesSourcePositions {
  /**
   * Whether this sink knows how to commit positions of {@code positionsType} in its transaction.
   */
  boolean canCarry(Class<?> positionsType);
}
