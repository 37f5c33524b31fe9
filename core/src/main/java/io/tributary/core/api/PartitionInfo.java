package io.tributary.core.api;

import java.util.List;
import java.util.Objects;

/**
 * What a {@link DirectSource} knows about one partition when the runtime plans a batch.
 *
 * @param id the partition's stable name (for example {@code "topic-3"}); used as key in the checkpoint
 * @param initialOffset where to start when the checkpoint has no position for this partition yet (the source applies
 *     its starting-position setting: earliest, latest, timestamp, explicit)
 * @param endOffset the exclusive end of what can be read now; the runtime never plans beyond it
 * @param closed {@code true} when no offset at or beyond {@code endOffset} will ever appear (a closed Kinesis shard, a
 *     fully read file); once read to its end it is never read again, and the runtime forgets it when the source no
 *     longer lists it
 * @param parents partitions that must be read to their end before this one is read (resharding); empty normally
 */
public record PartitionInfo(String id, long initialOffset, long endOffset, boolean closed, List<String> parents) {
  public PartitionInfo {
    Objects.requireNonNull(id, "id");
    parents = List.copyOf(parents);
  }

  /** An open partition without parents. */
  public static PartitionInfo open(String id, long initialOffset, long endOffset) {
    return new PartitionInfo(id, initialOffset, endOffset, false, List.of());
  }
}
