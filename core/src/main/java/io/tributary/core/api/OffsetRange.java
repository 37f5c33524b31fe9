package io.tributary.core.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.Objects;

/**
 * The positions {@code [from, until)} of one partition that one micro-batch reads.
 *
 * <p>Ranges are decided by the runtime and written to the checkpoint before they are read, so a
 * replay reads the same ones. A source may have gaps inside a range (compacted topics, transaction
 * markers, Kinesis's sparse sequence numbers): reading then yields fewer than {@link #count()}
 * records, which is not an error.
 *
 * <p>Thread safety: immutable.
 */
public record OffsetRange(String partition, Position from, Position until) {
  public OffsetRange {
    Objects.requireNonNull(partition, "partition");
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(until, "until");
    if (until.isBefore(from)) {
      throw new IllegalArgumentException(
          "Invalid offset range for partition "
              + partition
              + ": until "
              + until
              + " < from "
              + from);
    }
  }

  /** The range {@code [from, until)} of {@code long} offsets. */
  public OffsetRange(String partition, long from, long until) {
    this(partition, Position.of(from), Position.of(until));
  }

  /** Upper bound on the number of records in the range (exact for sources with dense offsets). */
  public long count() {
    return from.distanceTo(until);
  }

  @JsonIgnore // derived; format-1 files carried it as "empty", which readers ignore
  public boolean isEmpty() {
    return until.equals(from);
  }

  /** {@code from} as a {@code long} offset; see {@link Position#toLong()}. */
  public long fromOffset() {
    return from.toLong();
  }

  /** {@code until} as a {@code long} offset; see {@link Position#toLong()}. */
  public long untilOffset() {
    return until.toLong();
  }

  @Override
  public String toString() {
    return partition + "[" + from + "," + until + ")";
  }
}
