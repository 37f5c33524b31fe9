package io.tributary.core.api;

/**
 * Mix-in for a {@link DirectSource} whose partitions have no "end position" to ask for (a Kinesis
 * shard): the end of a batch's range is fixed by reading while the batch is planned.
 *
 * <p>The runtime calls {@link #fixRangeEnd} on the batch thread for each ready partition whose
 * {@link PartitionInfo#endPosition()} is {@code null}, then writes the ranges to {@code offsets/N}
 * before any sink sees a record, exactly as for other sources. A replay after a crash calls only
 * {@link DirectSource#read(OffsetRange)} with the recorded range, so {@code read} must return the
 * records in {@code [from, until)} and nothing past {@code until}, whatever has arrived since.
 *
 * <p>The records read here may be kept (bounded by the limits passed in) and handed out by the
 * {@code read} of the same range that follows, so that planning does not cost a second round trip.
 *
 * <p>Thread safety: called from the batch thread only, never concurrently with {@code read} of the
 * same partition.
 */
public interface RangeEndByReading {
  /**
   * Reads ahead from {@code from} and returns the exclusive end of what the batch will read: the
   * position just after the last record read, or {@code from} when nothing is available now.
   * Returns without waiting when the partition has nothing new.
   *
   * @param maxRecords at most this many records ({@code > 0})
   * @param maxBytes at most about this many bytes of values and keys ({@code > 0}); at least one
   *     record is taken
   * @throws DataUnavailableException if {@code from} is no longer readable (expired past retention)
   */
  Position fixRangeEnd(String partition, Position from, long maxRecords, long maxBytes)
      throws Exception;
}
