package io.tributary.spark.internal;

import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import io.tributary.core.api.RangeEndByReading;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.streaming.CompositeReadLimit;
import org.apache.spark.sql.connector.read.streaming.Offset;
import org.apache.spark.sql.connector.read.streaming.ReadAllAvailable;
import org.apache.spark.sql.connector.read.streaming.ReadLimit;
import org.apache.spark.sql.connector.read.streaming.ReadMaxBytes;
import org.apache.spark.sql.connector.read.streaming.ReadMaxRows;
import org.apache.spark.sql.connector.read.streaming.ReportsSourceMetrics;
import org.apache.spark.sql.connector.read.streaming.SupportsTriggerAvailableNow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Tributary {@link DirectSource} as a Spark micro-batch stream. The driver lists partitions and
 * decides each batch's end positions (Spark writes them to its offset log before any task reads,
 * which is Tributary's "plan before read"); each range {@code [start, end)} of a partition becomes
 * one {@link RangePartition} that an executor reads with its own instance of the source.
 *
 * <p>Admission control: {@code maxRecordsPerTrigger} (positions, split over partitions by lag),
 * {@code maxBytesPerTrigger} (exact for {@link RangeEndByReading} sources, else converted to
 * positions with the average bytes per position read so far; the first batch, before anything was
 * read, takes at most {@value Planner#FIRST_BATCH_POSITIONS} positions), and {@code
 * Trigger.AvailableNow} (the ends listed when the query starts).
 *
 * <p>A partition that appears after the start is recorded at its initial position in one batch and
 * read from the next, so both ends of every range are in Spark's offset log.
 *
 * <p>Thread safety: Spark calls a stream from its query thread only; {@link #metrics} may come from
 * the progress reporter, so the fields it reads are volatile.
 */
final class TributaryMicroBatchStream
    implements org.apache.spark.sql.connector.read.streaming.MicroBatchStream,
        SupportsTriggerAvailableNow,
        ReportsSourceMetrics {
  private static final Logger LOG = LoggerFactory.getLogger(TributaryMicroBatchStream.class);
  static final long FIRST_BATCH_POSITIONS = 1_000;

  /** Per partition without known end, when no limit applies (the gateway's defaults). */
  static final long UNBOUNDED_RECORDS = 100_000;

  static final long UNBOUNDED_BYTES = 256L << 20;
  private static final String INITIAL = "initial-offset.json";

  private final SourceSpec spec;
  private final String checkpointLocation;
  private final ReadStats stats;
  private DirectSource source;
  private CheckpointStorage metadata;
  private volatile Map<String, Position> latestAvailable;
  private Planner planner;
  private final Map<TributaryOffset, TributaryOffset> startOf = new HashMap<>();
  private Map<String, Position> lastCommitted;
  private long commits;

  TributaryMicroBatchStream(SourceSpec spec, String checkpointLocation) {
    this.checkpointLocation = checkpointLocation.replaceAll("/+$", "");
    this.spec = spec.withStateLocation(this.checkpointLocation + "/state/" + spec.sourceName());
    SparkSession session = SparkSession.active();
    this.stats = new ReadStats(session.sparkContext(), "tributary." + spec.sourceName());
  }

  private DirectSource source() {
    if (source == null) {
      try {
        source = spec.open();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("Opening " + spec + " on the driver failed: " + e, e);
      }
    }
    return source;
  }

  private CheckpointStorage metadata() throws java.io.IOException {
    if (metadata == null) {
      metadata = CheckpointStorageFactory.open(checkpointLocation, Map.of());
    }
    return metadata;
  }

  private Planner planner() {
    if (planner == null) {
      planner = new Planner(spec, source(), stats::averageRecordBytes);
    }
    return planner;
  }

  @Override
  public Offset initialOffset() {
    try {
      Optional<byte[]> saved = metadata().read(INITIAL);
      if (saved.isPresent()) {
        return TributaryOffset.parse(new String(saved.get(), StandardCharsets.UTF_8));
      }
      TributaryOffset offset = new TributaryOffset(planner().initial());
      // "latest" must mean the same after a restart that happens before the first commit
      metadata().writeAtomically(INITIAL, offset.json().getBytes(StandardCharsets.UTF_8));
      LOG.info("event=spark_initial_offset source={} offset={}", spec.sourceName(), offset.json());
      return offset;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "Cannot keep the initial offset of " + spec + " under " + checkpointLocation, e);
    }
  }

  @Override
  public Offset deserializeOffset(String json) {
    return TributaryOffset.parse(json);
  }

  @Override
  public Offset latestOffset() {
    throw new UnsupportedOperationException(
        "latestOffset() without a start is not used: the stream supports admission control");
  }

  @Override
  public ReadLimit getDefaultReadLimit() {
    List<ReadLimit> limits = new ArrayList<>();
    if (spec.maxRecordsPerTrigger() != null) {
      limits.add(ReadLimit.maxRows(spec.maxRecordsPerTrigger()));
    }
    if (spec.maxBytesPerTrigger() != null) {
      limits.add(ReadLimit.maxBytes(spec.maxBytesPerTrigger()));
    }
    if (limits.isEmpty()) {
      return ReadLimit.allAvailable();
    }
    return limits.size() == 1
        ? limits.get(0)
        : ReadLimit.compositeLimit(limits.toArray(new ReadLimit[0]));
  }

  @Override
  public void prepareForTriggerAvailableNow() {
    planner().availableNow();
    LOG.info(
        "event=spark_available_now source={} partitions={}",
        spec.sourceName(),
        planner().availableNowPartitions());
  }

  @Override
  public Offset latestOffset(Offset startOffset, ReadLimit limit) {
    TributaryOffset start = (TributaryOffset) startOffset;
    long maxRows = Long.MAX_VALUE;
    long maxBytes = Long.MAX_VALUE;
    for (ReadLimit l : flatten(limit)) {
      if (l instanceof ReadMaxRows r) {
        maxRows = Math.min(maxRows, r.maxRows());
      } else if (l instanceof ReadMaxBytes b) {
        maxBytes = Math.min(maxBytes, b.maxBytes());
      }
    }
    Planner.Plan plan = planner().plan(start.positions(), maxRows, maxBytes);
    latestAvailable = plan.available();
    TributaryOffset result = new TributaryOffset(plan.end());
    if (!result.equals(start)) {
      startOf.put(result, start);
    }
    return result;
  }

  @Override
  public Offset reportLatestOffset() {
    Map<String, Position> a = latestAvailable;
    return a == null ? null : new TributaryOffset(a);
  }

  private static List<ReadLimit> flatten(ReadLimit limit) {
    if (limit instanceof CompositeReadLimit c) {
      List<ReadLimit> out = new ArrayList<>();
      for (ReadLimit l : c.getReadLimits()) {
        out.addAll(flatten(l));
      }
      return out;
    }
    if (limit == null || limit instanceof ReadAllAvailable) {
      return List.of();
    }
    return List.of(limit);
  }

  @Override
  public InputPartition[] planInputPartitions(Offset startOffset, Offset endOffset) {
    Map<String, Position> from = ((TributaryOffset) startOffset).positions();
    Map<String, Position> until = ((TributaryOffset) endOffset).positions();
    startOf.put((TributaryOffset) endOffset, (TributaryOffset) startOffset);
    List<InputPartition> out = new ArrayList<>();
    for (Map.Entry<String, Position> e : until.entrySet()) {
      Position f = from.get(e.getKey());
      if (f == null || !f.isBefore(e.getValue())) {
        continue; // a new partition recorded at its start, or nothing to read
      }
      out.add(new RangePartition(spec, new OffsetRange(e.getKey(), f, e.getValue())));
    }
    return out.toArray(new InputPartition[0]);
  }

  @Override
  public PartitionReaderFactory createReaderFactory() {
    return new RangeReaderFactory(stats);
  }

  @Override
  public void commit(Offset end) {
    TributaryOffset e = (TributaryOffset) end;
    TributaryOffset s = startOf.remove(e);
    Map<String, Position> before =
        lastCommitted != null ? lastCommitted : s != null ? s.positions() : e.positions();
    List<OffsetRange> ranges = new ArrayList<>();
    for (Map.Entry<String, Position> p : e.positions().entrySet()) {
      Position f = before.getOrDefault(p.getKey(), p.getValue());
      ranges.add(new OffsetRange(p.getKey(), Position.min(f, p.getValue()), p.getValue()));
    }
    lastCommitted = e.positions();
    startOf.keySet().removeIf(k -> !k.equals(e) && isCoveredBy(k, e));
    try {
      source().onBatchCommitted(commits++, ranges);
    } catch (Exception ex) {
      // the checkpoint (Spark's commit log) already holds the truth
      LOG.warn(
          "event=spark_source_commit_callback_failed source={} error=\"{}\"",
          spec.sourceName(),
          ex.toString());
    }
  }

  private static boolean isCoveredBy(TributaryOffset k, TributaryOffset e) {
    for (Map.Entry<String, Position> p : k.positions().entrySet()) {
      Position c = e.positions().get(p.getKey());
      if (c == null || c.isBefore(p.getValue())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Map<String, String> metrics(Optional<Offset> latestConsumedOffset) {
    Map<String, Position> available = latestAvailable;
    Map<String, String> out = new LinkedHashMap<>();
    if (available == null || latestConsumedOffset.isEmpty()) {
      return out;
    }
    Map<String, Position> consumed = ((TributaryOffset) latestConsumedOffset.get()).positions();
    long min = Long.MAX_VALUE;
    long max = 0;
    long total = 0;
    int n = 0;
    for (Map.Entry<String, Position> e : available.entrySet()) {
      Position c = consumed.get(e.getKey());
      if (c == null) {
        continue;
      }
      long behind = c.distanceTo(e.getValue());
      min = Math.min(min, behind);
      max = Math.max(max, behind);
      total = total + behind < 0 ? Long.MAX_VALUE : total + behind;
      n++;
    }
    if (n == 0) {
      return out;
    }
    out.put("minOffsetsBehindLatest", Long.toString(min));
    out.put("maxOffsetsBehindLatest", Long.toString(max));
    out.put("avgOffsetsBehindLatest", Double.toString((double) total / n));
    out.put("totalOffsetsBehindLatest", Long.toString(total));
    long avg = stats.averageRecordBytes();
    if (avg > 0) {
      out.put("avgBytesPerOffset", Long.toString(avg));
    }
    return out;
  }

  @Override
  public void stop() {
    if (source != null) {
      SourceSpec.closeQuietly(source);
      source = null;
    }
    if (metadata != null) {
      SourceSpec.closeQuietly(metadata);
      metadata = null;
    }
  }

  @Override
  public String toString() {
    return "TributaryMicroBatchStream[" + spec + "]";
  }
}
