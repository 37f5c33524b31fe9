package io.tributary.core.api;

import io.micrometer.core.instrument.MeterRegistry;

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

  /** Where the source registers its own meters; tag them with {@code pipeline} and {@code source}. */
  MeterRegistry meterRegistry();
}
