package io.tributary.spark.internal;

import java.io.Serializable;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * Records and bytes read by the executors of one stream, through two Spark accumulators: the driver
 * plans {@code maxBytesPerTrigger} with the average record size they give (sources that cannot say
 * sizes before reading).
 *
 * <p>Thread safety: accumulators are; the driver reads, tasks add.
 */
final class ReadStats implements Serializable {
  private static final long serialVersionUID = 1L;

  private final LongAccumulator records;
  private final LongAccumulator bytes;

  ReadStats(SparkContext sc, String name) {
    this.records = sc.longAccumulator(name + ".records");
    this.bytes = sc.longAccumulator(name + ".bytes");
  }

  void add(long count, long size) {
    records.add(count);
    bytes.add(size);
  }

  /** The average record size read so far, or -1 before anything was read. */
  long averageRecordBytes() {
    long n = records.value();
    return n == 0 ? -1 : Math.max(1, bytes.value() / n);
  }

  long records() {
    return records.value();
  }
}
