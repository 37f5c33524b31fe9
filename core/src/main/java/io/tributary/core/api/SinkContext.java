package io.tributary.core.api;

import io.micrometer.core.instrument.MeterRegistry;

/** What the runtime gives a sink when it opens it. Thread safety: any thread. */
public interface SinkContext {
  String pipelineId();

  String sinkName();

  MeterRegistry meterRegistry();
}
