package io.tributary.spark;

/**
 * Implemented by the RDDs of a direct Tributary DStream: {@code ((HasTributaryOffsetRanges)
 * rdd.rdd()).offsetRanges()} on the driver, inside {@code foreachRDD}, tells what the batch read
 * (Spark's {@code HasOffsetRanges}).
 */
public interface HasTributaryOffsetRanges {
  /** One range per RDD partition, in partition order. */
  TributaryOffsetRange[] offsetRanges();
}
