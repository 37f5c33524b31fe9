package io.tributary.core.internal;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.ExternallyAssignedSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.RangeEndByReading;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.internal.checkpoint.BatchPlan;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives a {@link DirectSource}: plans ranges with {@link DirectPlanner} (admission control by
 * records, bytes, rate and backpressure; ends fixed by reading for {@link RangeEndByReading}
 * sources) and reads them in parallel with {@link ChunkedRangeReader}.
 *
 * <p>Thread safety: see {@link SourceDriver}.
 */
final class DirectSourceDriver implements SourceDriver {
  private static final Logger LOG = LoggerFactory.getLogger(DirectSourceDriver.class);

  /** Chunks a reader may hold before the batch thread takes them. */
  static final int QUEUE_CHUNKS = 2;

  /** Records per chunk at most (bytes are the usual bound). */
  static final int CHUNK_RECORDS = 8_192;

  private final String pipelineId;
  private final String sourceName;
  private final DirectSource source;
  private final SourceContext context;
  private final DirectPlanner planner;
  private final long maxBatchBytes;
  private final long chunkBytes;
  private final ExecutorService readers;

  /**
   * Slow start: the most records the next batch may plan, doubling after each committed batch from
   * {@code batch.initial-records} until the other limits are the tighter ones; 0 = no such limit.
   * Batch thread only.
   */
  private long slowStartRecords;

  private volatile long lag;

  /** End positions of the partitions whose end is known, as of the last plan. */
  private volatile Map<String, Position> latest = Map.of();

  /**
   * Average bytes per record read so far (0 before the first read); written by the batch thread.
   */
  private volatile double averageRecordBytes;

  DirectSourceDriver(
      String pipelineId,
      String sourceName,
      DirectSource source,
      SourceContext context,
      DirectPlanner planner,
      long maxBatchBytes,
      long chunkBytes,
      int readParallelism,
      long initialRecords) {
    this.slowStartRecords = Math.max(0, initialRecords);
    this.pipelineId = pipelineId;
    this.sourceName = sourceName;
    this.source = source;
    this.context = context;
    this.planner = planner;
    this.maxBatchBytes = maxBatchBytes;
    this.chunkBytes = chunkBytes;
    if (source instanceof ExternallyAssignedSource) {
      planner.externallyAssigned();
    }
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            readParallelism,
            readParallelism,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            new NamedThreadFactory(pipelineId, "read"));
    pool.allowCoreThreadTimeOut(true);
    this.readers = pool;
  }

  @Override
  public String planKind() {
    return BatchPlan.DIRECT;
  }

  @Override
  public void start(BatchPlan lastPlan) throws Exception {
    source.open(context);
    if (lastPlan != null) {
      planner.recover(lastPlan);
    }
  }

  @Override
  public BatchPlan plan(long batchId, long batchTimeMs, double rate) throws Exception {
    List<PartitionInfo> parts = source.partitions();
    Map<String, Position> before = planner.positions();
    long budget = 0;
    double avg = averageRecordBytes;
    if (maxBatchBytes > 0 && avg > 0) {
      budget = Math.max(1, (long) (maxBatchBytes / avg));
    }
    if (slowStartRecords > 0) {
      budget = budget > 0 ? Math.min(budget, slowStartRecords) : slowStartRecords;
    }
    RangeEndByReading endReader = source instanceof RangeEndByReading r ? r : null;
    List<OffsetRange> ranges = planner.plan(parts, rate, budget, maxBatchBytes, endReader);
    long available = 0;
    Map<String, Position> ends = new java.util.HashMap<>();
    for (PartitionInfo p : parts) {
      if (p.endKnown()) {
        ends.put(p.id(), p.endPosition());
        available += before.getOrDefault(p.id(), p.initialPosition()).distanceTo(p.endPosition());
      }
    }
    boolean changed = ranges.size() != before.size();
    long planned = 0;
    for (OffsetRange r : ranges) {
      planned += r.count();
      if (!before.containsKey(r.partition()) || !before.get(r.partition()).equals(r.from())) {
        changed = true;
      }
    }
    lag = Math.max(0, available - planned);
    latest = Map.copyOf(ends);
    if (planned == 0 && !changed) {
      return null;
    }
    return new BatchPlan(
        BatchPlan.FORMAT_VERSION,
        pipelineId,
        batchId,
        batchTimeMs,
        sourceName,
        BatchPlan.DIRECT,
        ranges,
        null);
  }

  @Override
  public void planned(BatchPlan plan) {
    planner.advance(plan.ranges());
  }

  @Override
  public CloseableIterator<List<Record>> read(BatchPlan plan, boolean replay) {
    return new ChunkedRangeReader(
        plan.ranges(),
        source::read,
        readers,
        CHUNK_RECORDS,
        chunkBytes,
        QUEUE_CHUNKS,
        "source " + sourceName + " of pipeline " + pipelineId);
  }

  @Override
  public void observed(long records, long bytes) {
    if (records > 0) {
      double batchAvg = (double) bytes / records;
      double old = averageRecordBytes;
      averageRecordBytes = old == 0 ? batchAvg : old * 0.5 + batchAvg * 0.5;
    }
  }

  @Override
  public void committed(BatchPlan plan) {
    if (slowStartRecords > 0) {
      long planned = 0;
      for (OffsetRange r : plan.ranges()) {
        planned += r.count();
      }
      // Grow only when the limit was what bounded the batch: a small batch because little was
      // available keeps it. The planner splits the limit over the ranges rounding down, so a
      // bounded batch can fall short of it by less than one record per range (10,000 over 7
      // shards plans 9,996).
      if (planned + plan.ranges().size() > slowStartRecords) {
        slowStartRecords = slowStartRecords > Long.MAX_VALUE / 2 ? 0 : slowStartRecords * 2;
      }
    }
    try {
      source.onBatchCommitted(plan.batchId(), plan.ranges());
    } catch (Exception e) {
      LOG.warn(
          "event=source_commit_callback_failed pipeline={} batch={} error=\"{}\"",
          pipelineId,
          plan.batchId(),
          e.toString());
    }
  }

  @Override
  public long lag() {
    return lag;
  }

  @Override
  public Map<String, Position> latestPositions() {
    return latest;
  }

  /** The source, for the engine's transactional-positions wiring. */
  DirectSource source() {
    return source;
  }

  @Override
  public void close() {
    readers.shutdownNow();
    try {
      source.close();
    } catch (Exception e) {
      LOG.warn("event=source_close_failed pipeline={} error=\"{}\"", pipelineId, e.toString());
    }
  }
}
