package io.tributary.core.api;

import java.util.Objects;

/**
 * Where a record came from: a source name, a partition within it and a {@link Position} within the
 * partition.
 *
 * <p>For direct sources the offset is the source's own (Kafka offset, line number, ...). For
 * receivers the partition and offset are whatever the receiver assigns (for example a sender id and
 * a sequence number); the runtime remembers the highest stored offset per partition across restarts
 * (see {@link Receiver#lastStoredOffset(String)}).
 *
 * <p>Thread safety: immutable.
 */
public record SourcePosition(String source, String partition, Position position) {
  /** Position of records that carry none. */
  public static final SourcePosition NONE = new SourcePosition("", "", Position.ZERO);

  public SourcePosition {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(partition, "partition");
    Objects.requireNonNull(position, "position");
  }

  /** A position given as a {@code long} offset. */
  public SourcePosition(String source, String partition, long offset) {
    this(source, partition, Position.of(offset));
  }

  /** Whether this is {@link #NONE} (or equal to it): the record carries no position. */
  public boolean isNone() {
    return source.isEmpty() && partition.isEmpty();
  }

  /**
   * The position as a {@code long} offset, for sources whose positions are offsets; see {@link
   * Position#toLong()}.
   */
  public long offset() {
    return position.toLong();
  }

  @Override
  public String toString() {
    return source + "/" + partition + "@" + position;
  }
}
