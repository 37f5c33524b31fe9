package io.tributary.core.internal;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Record;
import io.tributary.core.internal.checkpoint.BatchPlan;
import java.time.Duration;
import java.util.List;

/**
 * The one planning abstraction of the engine: what it needs of a pipeline's source, whatever its
 * kind. {@link DirectSourceDriver} plans offset ranges of a replayable source; {@link
 * ReceiverDriver} plans ranges of WAL blocks of a receiver. The engine itself never asks which kind
 * it runs.
 *
 * <p>Per batch: {@link #plan} (nothing is changed yet), the engine writes {@code offsets/N}, then
 * {@link #planned}, {@link #read} of exactly that plan, and after {@code commits/N} {@link
 * #committed}.
 *
 * <p>Thread safety: called from the batch thread, except {@link #close()} and {@link
 * #stopReceiving}, which the stopping thread may call.
 */
interface SourceDriver extends AutoCloseable {
  /**
   * {@link BatchPlan#DIRECT} or {@link BatchPlan#RECEIVER}: what kind of plans this driver writes
   * and reads.
   */
  String planKind();

  /**
   * Opens the source and restores positions from the last plan ({@code null} on a new checkpoint).
   */
  void start(BatchPlan lastPlan) throws Exception;

  /**
   * The next plan, or {@code null} when there is nothing to do now. A direct source's positions
   * move only in {@link #planned}, once the plan is written; a receiver's blocks count as planned
   * at once (a plan that is never written is rebuilt from the WAL on restart).
   *
   * @param rate backpressure estimate in records per second, {@code <= 0} for none
   */
  BatchPlan plan(long batchId, long batchTimeMs, double rate) throws Exception;

  /** The plan is durable in {@code offsets/N}: move positions past it. */
  void planned(BatchPlan plan);

  /** Reads exactly {@code plan}, as chunks in a stable order. */
  CloseableIterator<List<Record>> read(BatchPlan plan, boolean replay) throws Exception;

  /**
   * What reading one plan yielded (records, bytes of keys and values): input to admission by bytes.
   */
  default void observed(long records, long bytes) {}

  /**
   * The batch of {@code plan} is committed ({@code commits/N} written). Failures are logged, not
   * thrown.
   */
  void committed(BatchPlan plan);

  /**
   * Throws when the source can no longer deliver data (a receiver that cannot store); checked
   * before each plan.
   */
  default void checkHealthy() {}

  /** The new backpressure estimate in records per second. */
  default void setRate(double recordsPerSecond) {}

  /** Graceful stop: stop taking new data, waiting at most {@code timeout}. */
  default void stopReceiving(Duration timeout) throws InterruptedException {}

  /** Whether everything taken in is planned (graceful stop is done when it is). */
  default boolean allPlanned() {
    return true;
  }

  /** Whether a graceful stop should run batches until {@link #allPlanned()}. */
  default boolean drainsOnStop() {
    return false;
  }

  /**
   * The latest available position of each partition the source can tell (a Kafka end offset, a
   * file's size) as of the last plan; empty when it cannot.
   */
  default java.util.Map<String, io.tributary.core.api.Position> latestPositions() {
    return java.util.Map.of();
  }

  /** Records known to be available but not planned yet, for the lag gauge; 0 when unknown. */
  default long lag() {
    return 0;
  }

  /** The receivers' status (receiver sources); empty for direct sources. Any thread. */
  default List<io.tributary.core.runtime.ReceiverStatus> receivers() {
    return List.of();
  }

  /**
   * Stop now (not gracefully), called from the stopping thread before the batch thread is
   * interrupted.
   */
  default void abort() {}

  /** Stops and releases the source. Safe twice. */
  @Override
  void close();
}
