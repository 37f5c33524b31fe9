package io.tributary.core.api;

/** What a sink guarantees when batches are replayed after a crash. */
public enum Guarantee {
  /**
   * Writes a batch and a marker of {@code (pipeline, batchId)} atomically; a replayed batch is
   * never written twice.
   */
  EXACTLY_ONCE_TRANSACTIONAL,
  /** Writing the same batch id twice leaves the same result as writing it once. */
  EXACTLY_ONCE_IDEMPOTENT,
  /** A replayed batch may be written again: deduplicate downstream by {@link SourcePosition}. */
  AT_LEAST_ONCE
}
