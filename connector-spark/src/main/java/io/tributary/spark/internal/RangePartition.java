package io.tributary.spark.internal;

import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import org.apache.spark.sql.connector.read.InputPartition;

/**
 * One planned range {@code [from, until)} of one Tributary partition, read by one Spark task.
 * Positions travel in their text form, so the partition is plain serializable data.
 *
 * <p>Thread safety: immutable.
 */
public final class RangePartition implements InputPartition {
  private static final long serialVersionUID = 1L;

  private final SourceSpec spec;
  private final String partition;
  private final String from;
  private final String until;

  RangePartition(SourceSpec spec, OffsetRange range) {
    this.spec = spec;
    this.partition = range.partition();
    this.from = range.from().toString();
    this.until = range.until().toString();
  }

  SourceSpec spec() {
    return spec;
  }

  OffsetRange range() {
    return new OffsetRange(partition, Position.parse(from), Position.parse(until));
  }

  @Override
  public String toString() {
    return spec + " " + partition + "[" + from + "," + until + ")";
  }
}
