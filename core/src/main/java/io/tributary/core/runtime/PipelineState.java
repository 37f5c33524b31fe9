package io.tributary.core.runtime;

/** Lifecycle of a {@link Pipeline}. */
public enum PipelineState {
  CREATED,
  STARTING,
  RUNNING,
  STOPPING,
  STOPPED,
  FAILED
}
