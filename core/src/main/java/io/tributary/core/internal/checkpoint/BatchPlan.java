package io.tributary.core.internal.checkpoint;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.tributary.core.api.OffsetRange;
import java.util.List;
import java.util.Map;

/**
 * The content of {@code offsets/N}: what batch N reads. Written before the batch reads anything, so
 * a replay reads the same data.
 *
 * @param version format version ({@link #FORMAT_VERSION})
 * @param kind {@code direct} (ranges are source offsets per partition) or {@code receiver} (one
 *     range of WAL block sequence numbers under partition {@code blocks})
 * @param ranges the ranges of every known partition, including empty ones, so positions survive
 *     restarts
 * @param positions receivers only: per receiver partition stored in this batch's blocks, the
 *     highest offset stored in them. Only the partitions of {@code [from, until)}, so the file
 *     stays small however many partitions the receiver has; the positions of older batches are in
 *     the {@code positions} file ({@link ReceiverPositions}) and the {@code offsets/N} kept after
 *     it. Checkpoints written before that hold every partition here, which reads the same.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BatchPlan(
    int version,
    String pipelineId,
    long batchId,
    long batchTimeMs,
    String source,
    String kind,
    List<OffsetRange> ranges,
    Map<String, Long> positions) {
  /**
   * 2: positions may be text ({@code "<sequence>#<sub>"}) beyond 64 bits; format-1 files (positions
   * always numbers) load unchanged.
   */
  public static final int FORMAT_VERSION = 2;

  public static final String DIRECT = "direct";
  public static final String RECEIVER = "receiver";
  public static final String BLOCKS = "blocks";

  public BatchPlan {
    ranges = List.copyOf(ranges);
    positions = positions == null ? Map.of() : Map.copyOf(positions);
  }

  /**
   * The plan of a receiver batch: blocks {@code [fromSeq, untilSeq)} and the positions stored in
   * them.
   */
  public static BatchPlan receiver(
      String pipelineId,
      long batchId,
      long batchTimeMs,
      String source,
      long fromSeq,
      long untilSeq,
      Map<String, Long> positions) {
    return new BatchPlan(
        FORMAT_VERSION,
        pipelineId,
        batchId,
        batchTimeMs,
        source,
        RECEIVER,
        List.of(new OffsetRange(BLOCKS, fromSeq, untilSeq)),
        positions);
  }

  public long plannedRecords() {
    return ranges.stream().mapToLong(OffsetRange::count).sum();
  }
}
