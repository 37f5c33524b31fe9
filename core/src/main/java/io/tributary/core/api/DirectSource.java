package io.tributary.core.api;

import java.util.List;

/**
 * A replayable source with offsets: the runtime, not the source, decides what each micro-batch reads.
 *
 * <p>Lifecycle: constructed whole, then {@link #open(SourceContext)} once, then per batch {@link #partitions()} on the
 * batch thread followed by {@link #read(OffsetRange)} for each planned range (possibly on several threads, one range
 * per thread), then {@link #close()} once.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #read(OffsetRange)} returns exactly the records of the range, in offset order, every time it is called
 *       for that range. If it cannot (the data was deleted by retention, the file vanished) it throws {@link
 *       DataUnavailableException}: the runtime fails loudly instead of silently skipping data.
 *   <li>Offsets are {@code long}s; ranges are {@code [from, until)}.
 * </ul>
 *
 * <p>Thread safety: {@link #partitions()} and {@link #onBatchCommitted} are called from the batch thread only; {@link
 * #read} may be called concurrently for different ranges.
 */
public non-sealed interface DirectSource extends Source, AutoCloseable {

  /** Connects to the source. Called once before anything else. */
  void open(SourceContext context) throws Exception;

  /**
   * Lists the partitions that exist now, with the end offset available in each. Called once per batch. May block
   * briefly for a metadata request; must honour thread interruption.
   */
  List<PartitionInfo> partitions() throws Exception;

  /**
   * Reads exactly the records of {@code range}. Every record's {@link Record#position()} must carry the partition and
   * offset it was read from.
   *
   * @throws DataUnavailableException if any part of the range cannot be read any more
   */
  CloseableIterator<Record> read(OffsetRange range) throws Exception;

  /**
   * Called after the batch's commit was written to the checkpoint. Sources may report progress back (for example
   * commit offsets to a Kafka group for lag monitoring, or archive processed files). Failures here are logged, not
   * fatal: the checkpoint already holds the truth.
   */
  default void onBatchCommitted(long batchId, List<OffsetRange> ranges) throws Exception {}

  /** Releases resources. Safe to call twice. */
  @Override
  void close() throws Exception;
}
