package io.tributary.spark;

import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import java.io.Serializable;

/**
 * The range {@code [from, until)} of one partition that one RDD partition of a direct Tributary
 * DStream reads (Spark's Kafka {@code OffsetRange}, with Tributary positions).
 *
 * <p>Thread safety: immutable.
 */
public final class TributaryOffsetRange implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String partition;
  private final String from;
  private final String until;

  public TributaryOffsetRange(OffsetRange range) {
    this.partition = range.partition();
    this.from = range.from().toString();
    this.until = range.until().toString();
  }

  public String partition() {
    return partition;
  }

  public Position from() {
    return Position.parse(from);
  }

  public Position until() {
    return Position.parse(until);
  }

  /** The Tributary range. */
  public OffsetRange toOffsetRange() {
    return new OffsetRange(partition, from(), until());
  }

  /** Upper bound of the records in the range (exact for dense positions). */
  public long count() {
    return from().distanceTo(until());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TributaryOffsetRange r
        && partition.equals(r.partition)
        && from.equals(r.from)
        && until.equals(r.until);
  }

  @Override
  public int hashCode() {
    return partition.hashCode() * 31 + until.hashCode();
  }

  @Override
  public String toString() {
    return partition + "[" + from + "," + until + ")";
  }
}
