package io.tributary.core.api;

import java.util.Objects;

/**
 * The offsets {@code [from, until)} of one partition that one micro-batch reads.
 *
 * <p>Ranges are decided by the runtime and written to the checkpoint before they are read, so a replay reads the same
 * ones. A source may have gaps inside a range (compacted topics, transaction markers): reading then yields fewer than
 * {@link #count()} records, which is not an error.
 *
 * <p>Thread safety: immutable.
 */
public record OffsetRange(String partition, long from, long until) {
  public OffsetRange {
    Objects.requireNonNull(partition, "partition");
    if (until < from) {
      throw new IllegalArgumentException(
          "Invalid offset range for partition " + partition + ": until " + until + " < from " + from);
    }
  }

  /** Upper bound on the number of records in the range. */
  public long count() {
    return until - from;
  }

  public boolean isEmpty() {
    return until == from;
  }

  @Override
  public String toString() {
    return partition + "[" + from + "," + until + ")";
  }
}
