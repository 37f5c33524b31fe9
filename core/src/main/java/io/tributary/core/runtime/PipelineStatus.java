package io.tributary.core.runtime;

/**
 * A snapshot of a pipeline's progress, as shown by the gateway's status API.
 *
 * @param lastPlannedBatch highest batch id whose plan ({@code offsets/N}) is written, or -1
 * @param lastCommittedBatch highest batch id whose {@code commits/N} is written, or -1
 * @param recordsIn records read into batches since start
 * @param recordsOut records handed to the sinks since start
 * @param failure the failure that stopped the pipeline, or {@code null}
 * @param stalledMillis how long the listing or batch in progress has made no progress, once that is
 *     at least the pipeline's {@code stall-timeout}; 0 when it is not stalled
 */
public record PipelineStatus(
    String pipelineId,
    PipelineState state,
    long lastPlannedBatch,
    long lastCommittedBatch,
    long recordsIn,
    long recordsOut,
    String failure,
    long stalledMillis) {

  /** Whether the listing or batch in progress has made no progress for {@code stall-timeout}. */
  public boolean stalled() {
    return stalledMillis > 0;
  }
}
