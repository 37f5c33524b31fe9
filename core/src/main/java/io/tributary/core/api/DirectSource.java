package io.tributary.core.api;

import java.util.List;

/**
 * A replayable source with offsets: the runtime, not the source, decides what each micro-batch
 * reads.
 *
 * <p>Lifecycle: constructed whole, then {@link #open(SourceContext)} once, then per batch {@link
 * #partitions()} on the batch thread followed by {@link #read(OffsetRange)} for each planned range,
 * on up to {@code batch.read-parallelism} reader threads at once (one range per thread; ranges of
 * different partitions overlap), then {@link #close()} once.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #read(OffsetRange)} returns exactly the records of the range, in offset order, every
 *       time it is called for that range. If it cannot (the data was deleted by retention, the file
 *       vanished) it throws {@link DataUnavailableException}: the runtime fails loudly instead of
 *       silently skipping data.
 *   <li>Positions are {@link Position}s (a {@code long} offset for most sources, up to 128 bits for
 *       Kinesis); ranges are {@code [from, until)}. A partition whose end is known only by reading
 *       reports no end position and the source implements {@link RangeEndByReading}.
 *   <li>{@link #read(OffsetRange)} is called concurrently for different ranges: a source built on a
 *       client that is not thread-safe keeps one client per concurrent read (the Kafka source
 *       does), never one lock around a shared client held for the life of the iterator.
 * </ul>
 *
 * <p>Thread safety: {@link #partitions()} and {@link #onBatchCommitted} are called from the batch
 * thread only; {@link #read} may be called concurrently for different ranges.
 */
public non-sealed interface DirectSource extends Source, AutoCloseable {

  /** Connects to the source. Called once before anything else. */
  void open(SourceContext context) throws Exception;

  /**
   * Lists the partitions that exist now, with the end position available in each (or none, see
   * {@link RangeEndByReading}). Called once per batch. May block briefly for a metadata request;
   * must honour thread interruption.
   */
  List<PartitionInfo> partitions() throws Exception;

  /**
   * Reads exactly the records of {@code range}. Every record's {@link Record#position()} must carry
   * the partition and position it was read from. Called on a reader thread; the iterator is used by
   * that thread only and closed by it.
   *
   * @throws DataUnavailableException if any part of the range cannot be read any more (thrown here
   *     or, when the source finds out only by fetching, by the iterator before it returns a record
   *     that follows the gap)
   */
  CloseableIterator<Record> read(OffsetRange range) throws Exception;

  /**
   * Called after the batch's commit was written to the checkpoint. Sources may report progress back
   * (for example commit offsets to a Kafka group for lag monitoring, or archive processed files).
   * Failures here are logged, not fatal: the checkpoint already holds the truth.
   */
  default void onBatchCommitted(long batchId, List<OffsetRange> ranges) throws Exception {}

  /** Releases resources. Safe to call twice. */
  @Override
  void close() throws Exception;
}
