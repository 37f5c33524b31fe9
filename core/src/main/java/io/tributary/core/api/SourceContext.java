package io.tributary.core.api;

import io.micrometer.core.instrument.MeterRegistry;
import io.tributary.core.checkpoint.CheckpointStorage;

/**
 * What the runtime gives a source when it opens it.
 *
 * <p>Thread safety: all methods may be called from any thread.
 */
public interface SourceContext {
  /** The pipeline's id, as in the checkpoint metadata. */
  String pipelineId();

  /** The source's name within the pipeline. */
  String sourceName();

  /**
   * Where the source registers its own meters; tag them with {@code pipeline} and {@code source}.
   */
  MeterRegistry meterRegistry();

  /**
   * Durable storage for the source's own state, scoped to {@code sources/<sourceName>/} inside the
   * pipeline's checkpoint (same location, same atomic-write guarantee as {@code offsets/N}). A
   * source that cannot derive what a range means from the range alone (the file source maps file
   * sequence numbers to files) writes that mapping here <em>before</em> {@link
   * DirectSource#partitions()} reports an end offset that covers it, so a replay after a crash
   * reads the same data. Keep it small: it is read on every start.
   *
   * @throws UnsupportedOperationException if the runtime that opened the source gives none (tests
   *     with a hand-made context)
   */
  default CheckpointStorage stateStorage() {
    throw new UnsupportedOperationException(
        "This SourceContext has no state storage; run the source in a Pipeline, or give the test context one");
  }
}
