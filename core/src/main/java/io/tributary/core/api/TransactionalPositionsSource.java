package io.tributary.core.api;

/**
 * Mix-in for a source whose consumed positions should be committed inside a sink's transaction, so
 * that output and positions commit together (a Kafka consumer group's offsets sent with {@code
 * sendOffsetsToTransaction}).
 *
 * <p>The runtime, not the source or the sink, decides who carries the positions: when the pipeline
 * has exactly one sink and that sink {@link CarriesSourcePositions#canCarry carries} {@link
 * #transactionalPositionsType()}, the sink gets {@link #transactionalPositions(long)} through
 * {@link SinkBatch#transactionalPositions(Class)} and, once its commit returned, the runtime calls
 * {@link #committedWithSink(long)}. With several sinks no single transaction can cover every
 * output, so no sink carries them: the source then commits its positions itself after the batch's
 * checkpoint commit ({@link DirectSource#onBatchCommitted}). A source that cannot accept that
 * ({@link #requiresCarrier()}) makes such a pipeline fail at start with a {@link ConfigException}
 * naming the fix.
 *
 * <p>Thread safety: all methods are called from the pipeline's batch thread.
 *
 * @param <T> what a carrying sink must understand; a type of the source's connector (both ends live
 *     in one connector)
 */
public interface TransactionalPositionsSource<T> {
  /**
   * The type of {@link #transactionalPositions(long)}; matched against {@link
   * CarriesSourcePositions#canCarry}.
   */
  Class<T> transactionalPositionsType();

  /**
   * Whether the positions must travel in a sink's transaction. {@code false} (the default): when no
   * sink carries them the source commits them after the batch commit.
   */
  default boolean requiresCarrier() {
    return false;
  }

  /**
   * The positions batch {@code batchId} must commit, for the carrying sink's transaction. Called
   * after the batch's records were read, before the sink commits.
   */
  T transactionalPositions(long batchId);

  /** The carrying sink's transaction with the positions of {@code batchId} committed. */
  default void committedWithSink(long batchId) {}
}
