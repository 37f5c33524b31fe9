package io.tributary.core.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.tributary.core.api.Sink;
import io.tributary.core.api.Source;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.runtime.BatchTransform;
import io.tributary.core.runtime.PipelineOptions;
import io.tributary.core.runtime.PipelineStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The micro-batch engine behind {@link io.tributary.core.runtime.Pipeline}. Work in progress. */
public final class PipelineEngine {
  private final String pipelineId;

  public PipelineEngine(
      String pipelineId,
      PipelineOptions options,
      CheckpointStorage checkpoint,
      String sourceName,
      Source source,
      List<BatchTransform> transforms,
      Map<String, Sink> sinks,
      MeterRegistry registry,
      String configFingerprint) {
    this.pipelineId = pipelineId;
  }

  public String pipelineId() {
    return pipelineId;
  }

  public void start() {
    throw new UnsupportedOperationException("engine not yet implemented");
  }

  public void stop(boolean graceful) {}

  public boolean awaitTermination(Duration timeout) {
    return true;
  }

  public void installShutdownHook() {}

  public PipelineStatus status() {
    return null;
  }

  public Throwable failure() {
    return null;
  }
}
