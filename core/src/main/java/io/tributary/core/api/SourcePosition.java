package io.tributary.core.api;

import java.util.Objects;

/**
 * Where a record came from: a source name, a partition within it and an offset within the partition.
 *
 * <p>For direct sources the offset is the source's own (Kafka offset, line number, ...). For receivers the partition
 * and offset are whatever the receiver assigns (for example a sender id and a sequence number); the runtime remembers
 * the highest stored offset per partition across restarts (see {@link Receiver#lastStoredOffset(String)}).
 *
 * <p>Thread safety: immutable.
 */
public record SourcePosition(String source, String partition, long offset) {
  /** Position of records that carry none. */
  public static final SourcePosition NONE = new SourcePosition("", "", -1L);

  public SourcePosition {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(partition, "partition");
  }

  @Override
  public String toString() {
    return source + "/" + partition + "@" + offset;
  }
}
