package io.tributary.core.internal;

import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.RangeEndByReading;
import io.tributary.core.internal.checkpoint.BatchPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides a direct source's offset ranges for each batch: admission control by a per-partition
 * record limit, a per-partition rate, and the backpressure rate split across partitions in
 * proportion to their lag.
 *
 * <p>Positions: the next offset to read per partition, from the last plan. A partition unknown to
 * the plan starts at its {@link PartitionInfo#initialPosition()}. A partition with parents waits
 * until every parent is closed and read to its end. A closed partition read to its end keeps an
 * empty range while the source lists it, and is dropped from the plan once the source stops listing
 * it.
 *
 * <p>For an {@link io.tributary.core.api.ExternallyAssignedSource} ({@link #externallyAssigned()}):
 * partitions not listed now are dropped from the plan, and a partition listed now but not at the
 * previous call starts at its initial offset even when a position is known for it.
 *
 * <p>Thread safety: not thread-safe; used by the batch thread.
 */
public final class DirectPlanner {
  /** Records asked of a {@link RangeEndByReading} source when no record limit applies. */
  static final long UNBOUNDED_PREFETCH_RECORDS = 100_000;

  private final Map<String, Position> positions = new LinkedHashMap<>();
  private final Map<String, PartitionInfo> lastSeen = new HashMap<>();
  private final long maxRecordsPerPartition;
  private final long maxRatePerPartition;
  private final long batchIntervalMs;
  private boolean externallyAssigned;
  private Set<String> listedBefore = Set.of();

  public DirectPlanner(
      long maxRecordsPerPartition, long maxRatePerPartition, long batchIntervalMs) {
    this.maxRecordsPerPartition = maxRecordsPerPartition;
    this.maxRatePerPartition = maxRatePerPartition;
    this.batchIntervalMs = batchIntervalMs;
  }

  /** Plans for an externally assigned source (see the class comment). Returns {@code this}. */
  public DirectPlanner externallyAssigned() {
    this.externallyAssigned = true;
    return this;
  }

  /** Restores positions from the last plan (its {@code until}s). */
  public void recover(BatchPlan lastPlan) {
    positions.clear();
    for (OffsetRange r : lastPlan.ranges()) {
      positions.put(r.partition(), r.until());
    }
  }

  public Map<String, Position> positions() {
    return Map.copyOf(positions);
  }

  /**
   * Plans the next ranges for sources that report every partition's end position.
   *
   * @param partitions what the source reports now
   * @param backpressureRate records per second for the whole source, or {@code <= 0} for no limit
   * @return one range per known partition (empty ranges included, so positions persist)
   */
  public List<OffsetRange> plan(List<PartitionInfo> partitions, double backpressureRate) {
    try {
      return plan(partitions, backpressureRate, 0, 0, null);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Plans the next ranges.
   *
   * @param partitions what the source reports now
   * @param backpressureRate records per second for the whole source, or {@code <= 0} for no limit
   * @param batchRecordBudget most records for the whole batch (from {@code batch.max-bytes} and the
   *     average record size seen so far), split across partitions in proportion to their lag;
   *     {@code <= 0} for no limit
   * @param maxBytesPerRange the byte limit passed to {@code endReader}; {@code <= 0} for none
   * @param endReader fixes the end of partitions whose end position is unknown; {@code null} if the
   *     source has none
   * @return one range per known partition (empty ranges included, so positions persist)
   * @throws IllegalStateException if a partition has no end position and there is no {@code
   *     endReader}
   */
  public List<OffsetRange> plan(
      List<PartitionInfo> partitions,
      double backpressureRate,
      long batchRecordBudget,
      long maxBytesPerRange,
      RangeEndByReading endReader)
      throws Exception {
    Map<String, PartitionInfo> byId = new LinkedHashMap<>();
    for (PartitionInfo p : partitions) {
      byId.put(p.id(), p);
      lastSeen.put(p.id(), p);
    }
    if (externallyAssigned) {
      positions.keySet().retainAll(byId.keySet());
      for (PartitionInfo p : byId.values()) {
        if (!listedBefore.contains(p.id())) {
          positions.put(p.id(), p.initialPosition());
        }
      }
      listedBefore = Set.copyOf(byId.keySet());
    }
    // Ready partitions and their lag (for a partition whose end is known only by reading: its
    // per-partition limit, or
    // the prefetch default, so it gets a fair share).
    long perPartitionCap = maxRecordsPerPartition;
    if (maxRatePerPartition > 0) {
      long byRate = Math.max(1, maxRatePerPartition * batchIntervalMs / 1000);
      perPartitionCap = perPartitionCap > 0 ? Math.min(perPartitionCap, byRate) : byRate;
    }
    Map<String, Position> from = new LinkedHashMap<>();
    Map<String, Long> lag = new LinkedHashMap<>();
    long totalLag = 0;
    for (PartitionInfo p : byId.values()) {
      Position start = positions.getOrDefault(p.id(), p.initialPosition());
      from.put(p.id(), start);
      if (!parentsDrained(p)) {
        lag.put(p.id(), 0L);
        continue;
      }
      long l;
      if (p.endKnown()) {
        l = start.distanceTo(p.endPosition());
      } else {
        if (endReader == null) {
          throw new IllegalStateException(
              "Partition "
                  + p.id()
                  + " has no end position, but its source does not implement RangeEndByReading");
        }
        l = perPartitionCap > 0 ? perPartitionCap : UNBOUNDED_PREFETCH_RECORDS;
      }
      lag.put(p.id(), l);
      totalLag = saturatedAdd(totalLag, l);
    }
    List<OffsetRange> ranges = new ArrayList<>();
    for (PartitionInfo p : byId.values()) {
      Position start = from.get(p.id());
      long l = lag.get(p.id());
      long limit = l;
      if (perPartitionCap > 0) {
        limit = Math.min(limit, perPartitionCap);
      }
      if (backpressureRate > 0 && totalLag > 0) {
        double share = backpressureRate * batchIntervalMs / 1000.0 * l / totalLag;
        limit = Math.min(limit, Math.max(1, (long) Math.floor(share)));
      }
      if (batchRecordBudget > 0 && totalLag > 0 && l > 0) {
        double share = (double) batchRecordBudget * l / totalLag;
        limit = Math.min(limit, Math.max(1, (long) Math.floor(share)));
      }
      limit = Math.max(0, limit);
      Position until;
      if (p.endKnown() || limit == 0) {
        until =
            p.endKnown()
                ? Position.min(start.plus(limit), Position.max(start, p.endPosition()))
                : start;
      } else {
        until =
            endReader.fixRangeEnd(
                p.id(), start, limit, maxBytesPerRange > 0 ? maxBytesPerRange : Long.MAX_VALUE);
        if (until.isBefore(start)) {
          throw new IllegalStateException(
              "Source returned range end "
                  + until
                  + " before its start "
                  + start
                  + " for partition "
                  + p.id());
        }
      }
      // A closed partition read to its end stays in the plan (as an empty range) while the source
      // still lists it:
      // forgetting its position would make the next plan start it again at its initial position
      // (duplicates) and
      // keep its children waiting.
      ranges.add(new OffsetRange(p.id(), start, until));
    }
    // Partitions known from the checkpoint but not reported now keep their position, except a
    // closed partition read
    // to its end, which is forgotten once the source no longer lists it.
    for (Iterator<Map.Entry<String, Position>> it = positions.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<String, Position> e = it.next();
      if (byId.containsKey(e.getKey())) {
        continue;
      }
      PartitionInfo seen = lastSeen.get(e.getKey());
      if (seen != null && seen.closed() && e.getValue().compareTo(seen.endPosition()) >= 0) {
        it.remove();
        lastSeen.remove(e.getKey());
        continue;
      }
      ranges.add(new OffsetRange(e.getKey(), e.getValue(), e.getValue()));
    }
    return ranges;
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }

  /** Marks the ranges as planned: positions move to their ends. */
  public void advance(List<OffsetRange> ranges) {
    for (OffsetRange r : ranges) {
      positions.put(r.partition(), r.until());
    }
  }

  private boolean parentsDrained(PartitionInfo p) {
    for (String parent : p.parents()) {
      PartitionInfo info = lastSeen.get(parent);
      Position pos = positions.get(parent);
      if (info == null && pos == null) {
        continue; // parent gone and never known: nothing to wait for
      }
      if (info == null || !info.closed() || pos == null || pos.isBefore(info.endPosition())) {
        if (info == null && pos != null) {
          continue; // parent no longer reported (expired) : treat as drained
        }
        return false;
      }
    }
    return true;
  }
}
