package io.tributary.core.api;

import java.util.List;
import java.util.Objects;

/**
 * What a {@link DirectSource} knows about one partition when the runtime plans a batch.
 *
 * @param id the partition's stable name (for example {@code "topic-3"}); used as key in the
 *     checkpoint
 * @param initialPosition where to start when the checkpoint has no position for this partition yet
 *     (the source applies its starting-position setting: earliest, latest, timestamp, explicit)
 * @param endPosition the exclusive end of what can be read now; the runtime never plans beyond it.
 *     {@code null} when the end is known only by reading (a Kinesis shard): the source must then
 *     implement {@link RangeEndByReading}
 * @param closed {@code true} when no position at or beyond {@code endPosition} will ever appear (a
 *     closed Kinesis shard, a fully read file); once read to its end it is never read again, and
 *     the runtime forgets it when the source no longer lists it. A closed partition has a known
 *     {@code endPosition}.
 * @param parents partitions that must be read to their end before this one is read (resharding);
 *     empty normally
 */
public record PartitionInfo(
    String id,
    Position initialPosition,
    Position endPosition,
    boolean closed,
    List<String> parents) {
  public PartitionInfo {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(initialPosition, "initialPosition");
    if (closed && endPosition == null) {
      throw new IllegalArgumentException("Partition " + id + " is closed but has no end position");
    }
    parents = List.copyOf(parents);
  }

  /** The same with {@code long} offsets. */
  public PartitionInfo(
      String id, long initialOffset, long endOffset, boolean closed, List<String> parents) {
    this(id, Position.of(initialOffset), Position.of(endOffset), closed, parents);
  }

  /** An open partition without parents. */
  public static PartitionInfo open(String id, long initialOffset, long endOffset) {
    return new PartitionInfo(id, initialOffset, endOffset, false, List.of());
  }

  /** An open partition without parents. */
  public static PartitionInfo open(String id, Position initialPosition, Position endPosition) {
    return new PartitionInfo(id, initialPosition, endPosition, false, List.of());
  }

  /** An open partition whose end is known only by reading ({@link RangeEndByReading}). */
  public static PartitionInfo endUnknown(
      String id, Position initialPosition, List<String> parents) {
    return new PartitionInfo(id, initialPosition, null, false, parents);
  }

  /** Whether the end is known without reading. */
  public boolean endKnown() {
    return endPosition != null;
  }
}
