package io.tributary.core.api;

import java.util.List;
import java.util.Optional;

/**
 * What a sink is told about the batch it starts writing ({@link Sink#begin(SinkBatch)}).
 *
 * <p>Thread safety: immutable; valid for the duration of the batch.
 */
public interface SinkBatch {
  /** The batch id; the same when the batch is replayed after a crash. */
  long batchId();

  /**
   * The source positions the batch reads: per partition, the planned range (for a receiver, the
   * range of its WAL blocks). A sink may store them with its output, for example to let readers
   * deduplicate.
   */
  List<OffsetRange> ranges();

  /**
   * The source's positions that this sink must commit inside its transaction, when the source
   * offers them ({@link TransactionalPositionsSource}) and the runtime chose this sink to carry
   * them ({@link CarriesSourcePositions}). Empty for every other sink, and for every sink of a
   * pipeline whose shape does not allow carrying them.
   */
  <T> Optional<T> transactionalPositions(Class<T> type);

  /** A batch without source positions, for tests and for {@link Sink#write(long, List)}. */
  static SinkBatch of(long batchId) {
    return new SinkBatch() {
      @Override
      public long batchId() {
        return batchId;
      }

      @Override
      public List<OffsetRange> ranges() {
        return List.of();
      }

      @Override
      public <T> Optional<T> transactionalPositions(Class<T> type) {
        return Optional.empty();
      }
    };
  }
}
