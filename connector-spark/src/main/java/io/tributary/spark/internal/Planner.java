package io.tributary.spark.internal;

import io.tributary.core.api.DirectSource;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.RangeEndByReading;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Decides the end positions of the next batch on the driver, for the Structured Streaming source
 * and the direct DStream alike: lists the source's partitions, keeps child partitions until their
 * parents are drained, splits a position budget over partitions by lag, converts a byte budget into
 * positions with the average bytes per position read so far, and fixes the ends of partitions whose
 * end is known only by reading ({@link RangeEndByReading}).
 *
 * <p>A partition first seen now is recorded at its initial position (read from the next batch), so
 * both ends of every range are in the plan. Partitions no longer listed keep their position.
 *
 * <p>Thread safety: not thread-safe; one planning thread (Spark's query or job-generator thread).
 */
final class Planner {
  /** The first batch's positions when a byte budget applies and nothing was read yet. */
  static final long FIRST_BATCH_POSITIONS = 1_000;

  /** Per partition without known end, when no limit applies (the gateway's defaults). */
  static final long UNBOUNDED_RECORDS = 100_000;

  static final long UNBOUNDED_BYTES = 256L << 20;

  /** A plan: where each partition ends, and what was available when it was made. */
  record Plan(Map<String, Position> end, Map<String, Position> available) {}

  private final SourceSpec spec;
  private final DirectSource source;
  private final LongSupplier averageBytesPerPosition;
  private final Map<String, PartitionInfo> lastListing = new HashMap<>();
  private Map<String, Position> availableNowTarget;

  /**
   * @param averageBytesPerPosition bytes per position read so far, or a value {@code <= 0} when
   *     unknown
   */
  Planner(SourceSpec spec, DirectSource source, LongSupplier averageBytesPerPosition) {
    this.spec = spec;
    this.source = source;
    this.averageBytesPerPosition = averageBytesPerPosition;
  }

  List<PartitionInfo> list() {
    try {
      List<PartitionInfo> parts = source.partitions();
      for (PartitionInfo p : parts) {
        lastListing.put(p.id(), p);
      }
      return parts;
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("Listing the partitions of " + spec + " failed: " + e, e);
    }
  }

  /** The initial position of every partition listed now. */
  Map<String, Position> initial() {
    Map<String, Position> start = new TreeMap<>();
    for (PartitionInfo p : list()) {
      start.put(p.id(), p.initialPosition());
    }
    return start;
  }

  /** From now on, plan only up to the ends listed now (Trigger.AvailableNow). */
  void availableNow() {
    Map<String, Position> target = new TreeMap<>();
    for (PartitionInfo p : list()) {
      target.put(p.id(), p.endKnown() ? p.endPosition() : null);
    }
    availableNowTarget = target;
  }

  int availableNowPartitions() {
    return availableNowTarget == null ? 0 : availableNowTarget.size();
  }

  /**
   * The next batch's end from {@code from}.
   *
   * @param maxRows positions in all, {@link Long#MAX_VALUE} for no limit
   * @param maxBytes bytes in all, {@link Long#MAX_VALUE} for no limit
   */
  Plan plan(Map<String, Position> from, long maxRows, long maxBytes) {
    boolean[] childWaits = new boolean[1];
    Plan plan = planOnce(from, maxRows, maxBytes, childWaits);
    if (childWaits[0] && plan.end().equals(from)) {
      // Nothing to read, but a child waited for its parents: reading may just have found the end of
      // a drained parent (a Kinesis shard is seen closed only by reading past its last record), so
      // list again. Without this, a restarted Trigger.AvailableNow run would stop here, before the
      // children, since a batch that plans nothing ends it.
      plan = planOnce(from, maxRows, maxBytes, childWaits);
    }
    return plan;
  }

  private Plan planOnce(
      Map<String, Position> from, long maxRows, long maxBytes, boolean[] childWaits) {
    childWaits[0] = false;
    List<PartitionInfo> parts = list();
    Map<String, Position> end = new TreeMap<>(from);
    Map<String, Position> available = new TreeMap<>(from);
    Map<String, Long> lag = new LinkedHashMap<>();
    List<PartitionInfo> byReading = new ArrayList<>();
    for (PartitionInfo p : parts) {
      Position f = from.get(p.id());
      if (f == null) {
        if (availableNowTarget != null && !availableNowTarget.containsKey(p.id())) {
          continue; // appeared after an AvailableNow start: not part of this run
        }
        end.put(p.id(), p.initialPosition());
        available.put(
            p.id(),
            p.endKnown()
                ? Position.max(p.initialPosition(), p.endPosition())
                : p.initialPosition());
        continue;
      }
      if (!parentsDrained(p, from)) {
        childWaits[0] = true;
        continue;
      }
      if (!p.endKnown()) {
        byReading.add(p);
        continue;
      }
      available.put(p.id(), Position.max(f, p.endPosition()));
      Position until = p.endPosition();
      if (availableNowTarget != null) {
        Position target = availableNowTarget.get(p.id());
        until = target == null ? f : Position.min(until, target);
      }
      long n = f.distanceTo(until);
      if (n > 0) {
        lag.put(p.id(), n);
      }
    }
    long positionBudget = maxRows;
    if (maxBytes != Long.MAX_VALUE && !lag.isEmpty()) {
      long avg = averageBytesPerPosition.getAsLong();
      long byBytes = avg > 0 ? Math.max(1, maxBytes / avg) : FIRST_BATCH_POSITIONS;
      positionBudget = Math.min(positionBudget, byBytes);
    }
    long used = 0;
    for (Map.Entry<String, Long> e : split(lag, positionBudget).entrySet()) {
      end.put(e.getKey(), from.get(e.getKey()).plus(e.getValue()));
      used += e.getValue();
    }
    if (!byReading.isEmpty()) {
      RangeEndByReading reader = (RangeEndByReading) source;
      long leftRows = maxRows == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, maxRows - used);
      long rowsEach =
          leftRows == Long.MAX_VALUE ? UNBOUNDED_RECORDS : Math.max(1, leftRows / byReading.size());
      long bytesEach =
          maxBytes == Long.MAX_VALUE ? UNBOUNDED_BYTES : Math.max(1, maxBytes / byReading.size());
      for (PartitionInfo p : byReading) {
        if (leftRows == 0) {
          break;
        }
        Position f = from.get(p.id());
        try {
          Position until = Position.max(f, reader.fixRangeEnd(p.id(), f, rowsEach, bytesEach));
          end.put(p.id(), until);
          available.put(p.id(), until);
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException(
              "Fixing the end of " + p.id() + " from " + f + " in " + spec + " failed: " + e, e);
        }
      }
    }
    return new Plan(end, available);
  }

  private boolean parentsDrained(PartitionInfo p, Map<String, Position> from) {
    for (String parent : p.parents()) {
      PartitionInfo info = lastListing.get(parent);
      Position at = from.get(parent);
      if (info == null || at == null) {
        continue; // forgotten by the source, or never seen: nothing left to read
      }
      if (!info.closed() || at.isBefore(info.endPosition())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Splits {@code budget} positions over partitions in proportion to their lag, never more than a
   * partition's lag, using the whole budget when the lag allows: floors first, then the rest one by
   * one to the partitions with the most left, ties by partition id. Deterministic.
   */
  static Map<String, Long> split(Map<String, Long> lag, long budget) {
    Map<String, Long> out = new TreeMap<>();
    BigInteger total = BigInteger.ZERO; // a sum of lags may not fit in a long
    for (long l : lag.values()) {
      total = total.add(BigInteger.valueOf(l));
    }
    if (total.compareTo(BigInteger.valueOf(budget)) <= 0) {
      out.putAll(lag);
      return out;
    }
    long given = 0;
    for (Map.Entry<String, Long> e : new TreeMap<>(lag).entrySet()) {
      long s =
          BigInteger.valueOf(budget)
              .multiply(BigInteger.valueOf(e.getValue()))
              .divide(total)
              .longValue();
      out.put(e.getKey(), s);
      given += s;
    }
    List<String> order = new ArrayList<>(new TreeMap<>(lag).keySet());
    order.sort((a, b) -> Long.compare(lag.get(b) - out.get(b), lag.get(a) - out.get(a)));
    while (given < budget) {
      boolean any = false;
      for (String id : order) {
        if (given >= budget) {
          break;
        }
        if (out.get(id) < lag.get(id)) {
          out.put(id, out.get(id) + 1);
          given++;
          any = true;
        }
      }
      if (!any) {
        break;
      }
    }
    out.values().removeIf(v -> v == 0);
    return out;
  }
}
