package io.tributary.spark;

/**
 * Implemented by the input stream of {@link TributaryStreams#directStream}: after a batch's output
 * is written, commit its ranges, and a new stream with the same {@code checkpoint.location} starts
 * after them (Spark's {@code CanCommitOffsets}).
 *
 * <pre>{@code
 * JavaInputDStream<TributaryRecord> stream = TributaryStreams.directStream(jssc, options);
 * stream.foreachRDD(rdd -> {
 *   TributaryOffsetRange[] ranges = ((HasTributaryOffsetRanges) rdd.rdd()).offsetRanges();
 *   // ... write the output, idempotently or with the ranges in the same transaction ...
 *   ((CanCommitTributaryPositions) stream.inputDStream()).commit(ranges);
 * });
 * }</pre>
 *
 * <p>Guarantee: at-least-once across a restart for output written before {@link #commit} (the batch
 * is read again); exactly-once when the output is idempotent by range or stores the ranges with the
 * data. Durability: {@link #commit} returns once the positions are written atomically to the
 * checkpoint location.
 *
 * <p>Thread safety: call from the driver (inside {@code foreachRDD}); calls are serialized.
 */
public interface CanCommitTributaryPositions {
  /**
   * Records that everything up to the end of each range was processed. Ranges of partitions already
   * committed further are ignored.
   *
   * @throws java.io.UncheckedIOException if the positions cannot be written
   */
  void commit(TributaryOffsetRange[] ranges);
}
