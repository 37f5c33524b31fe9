package io.tributary.core.internal.receiver;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PackedRecords;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.ReceiverRuntime;
import io.tributary.core.api.ReceiverStoppedException;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.core.api.StoreFailedException;
import io.tributary.core.api.SupportsPartitionExpiry;
import io.tributary.core.internal.BlockCodec;
import io.tributary.core.internal.NamedThreadFactory;
import io.tributary.core.internal.RateLimiter;
import io.tributary.core.internal.checkpoint.BatchPlan;
import io.tributary.core.internal.checkpoint.CheckpointLog;
import io.tributary.core.internal.checkpoint.ReceiverPositions;
import io.tributary.core.internal.checkpoint.ReceiverPositions.Position;
import io.tributary.core.internal.receiver.ReceiverLifecycle.State;
import io.tributary.core.internal.wal.WalHandle;
import io.tributary.core.internal.wal.WriteAheadLog;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link Receiver}: starts it, restarts it with exponential backoff after failures,
 * rate-limits and bounds its stores, cuts unreliably stored records into blocks every block
 * interval, writes every block to the write-ahead log, and hands durable blocks to the batch thread
 * as ranges of block sequence numbers.
 *
 * <p>Every block gets a sequence number in WAL order. A batch plan takes the range {@code
 * [plannedUntil, durableEnd)}: only blocks that are durable, without gaps. After a crash the WAL is
 * replayed: blocks of the uncommitted batch and blocks stored but never planned are read from it,
 * so nothing acknowledged is lost.
 *
 * <p>Positions ({@link #lastStoredOffset}): each {@code offsets/N} holds the positions stored in
 * its own blocks only; every {@value #POSITIONS_FILE_EVERY} batches the positions of all partitions
 * are written to the checkpoint's {@code positions} file, and {@code offsets/N} after it are kept.
 * Recovery merges that file, the {@code offsets/N} after it and the WAL. A position is thus durable
 * (in the WAL, then in {@code offsets/N}) before its data is acknowledged, as the data itself. A
 * receiver that {@linkplain SupportsPartitionExpiry declares an idle timeout} has partitions that
 * stored nothing for that long forgotten, so positions stay bounded by the partitions active within
 * the timeout.
 *
 * <p>Thread safety: thread-safe. Lifecycle actions run on one control thread ({@code
 * tributary-<p>-receiver-0}); block cutting and delayed admissions on a timer thread ({@code
 * tributary-<p>-block-0}).
 */
public final class ReceiverSupervisor implements ReceiverRuntime, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReceiverSupervisor.class);

  /**
   * How many batches the {@code positions} file may lag behind the newest plan before it is
   * rewritten.
   */
  static final int POSITIONS_FILE_EVERY = 10;

  /** The positions stored in one block not yet planned, and when it was stored. */
  private record BlockPositions(Map<String, Long> offsets, long storedMs) {}

  /** A durable block held in memory until its batch commits. */
  private record MemBlock(List<Record> records, long bytes, WalHandle handle) {}

  private final String pipelineId;
  private final String name;
  private final Receiver receiver;
  private final WriteAheadLog wal;
  private final RestartBackoff backoff;
  private final long blockIntervalMs;
  private final RateLimiter limiter;
  private final long maxRate;
  private final ByteBudget budget;
  private final ScheduledExecutorService control;
  private final ScheduledExecutorService timer;
  private final MeterRegistry registry;
  private final Counter storedRecords;
  private final Counter restarts;
  private final Timer restartDelays;
  private final Counter errors;

  private final Object bufferLock = new Object();
  private List<Record> buffer = new ArrayList<>();
  private long bufferBytes;

  private final Object lock = new Object();

  /**
   * Bytes a record adds to its encoded block beyond {@link Record#sizeInBytes()} (lengths,
   * timestamp, string indexes, offset), for the WAL queue's bound before the block is encoded.
   */
  private static final long BLOCK_OVERHEAD_BYTES_PER_RECORD = 36;

  private long nextSeq;
  private long durableEnd;
  private long plannedUntil;
  private final TreeMap<Long, MemBlock> blocks = new TreeMap<>();
  private final TreeMap<Long, WalHandle> walIndex = new TreeMap<>();

  /**
   * Blocks appended to the WAL whose future has not completed yet, with the active segment id when
   * they were appended: the lowest segment they can be in. Cleanup must keep it, as the block may
   * be written (and then acknowledged) while its completion waits behind others on the WAL's
   * completion thread.
   */
  private final TreeMap<Long, Long> inFlightSegments = new TreeMap<>();

  /** Positions of durable blocks not yet planned. */
  private final TreeMap<Long, BlockPositions> pendingPositions = new TreeMap<>();

  /** Positions of every durable block: what {@link #lastStoredOffset} answers. */
  private final Map<String, Position> livePositions = new HashMap<>();

  /** Positions of every planned block, as of the end of batch {@link #plannedThroughBatch}. */
  private final Map<String, Position> plannedPositions = new HashMap<>();

  private final LongSupplier wallClockMs;

  /**
   * Partitions idle this long are forgotten; {@code Long.MAX_VALUE} when the receiver declares no
   * timeout.
   */
  private final long idleTimeoutMs;

  private final Counter expiredPartitions;

  /**
   * Where the {@code positions} file goes; {@code null} when recovered without a checkpoint. Batch
   * thread only.
   */
  private CheckpointLog checkpoint;

  private long plannedThroughBatch = -1;

  /**
   * The batch id of the newest {@code positions} file written or read, -1 if none. Batch thread
   * only.
   */
  private long positionsFileBatch = -1;

  private final AtomicLong inFlightAppends = new AtomicLong();

  private final ReceiverLifecycle lifecycle = new ReceiverLifecycle();
  private volatile Throwable fatal;

  /** For {@link #status()}: restarts since construction and the last error with its time. */
  private final AtomicLong restartCount = new AtomicLong();

  private volatile String lastError;
  private volatile long lastErrorAtMs;

  /**
   * @param wal the log to write blocks to, or {@code null} to keep blocks only in memory (nothing
   *     survives a crash)
   */
  public ReceiverSupervisor(
      String pipelineId,
      String name,
      Receiver receiver,
      WriteAheadLog wal,
      Duration blockInterval,
      Duration restartDelay,
      Duration maxRestartDelay,
      long maxRate,
      long bufferBytes,
      MeterRegistry registry) {
    this(
        pipelineId,
        name,
        receiver,
        wal,
        blockInterval,
        restartDelay,
        maxRestartDelay,
        maxRate,
        bufferBytes,
        registry,
        System::currentTimeMillis);
  }

  /**
   * @param wal the log to write blocks to, or {@code null} to keep blocks only in memory (nothing
   *     survives a crash)
   * @param wallClockMs epoch milliseconds, for partition expiry (a manual clock in tests)
   */
  public ReceiverSupervisor(
      String pipelineId,
      String name,
      Receiver receiver,
      WriteAheadLog wal,
      Duration blockInterval,
      Duration restartDelay,
      Duration maxRestartDelay,
      long maxRate,
      long bufferBytes,
      MeterRegistry registry,
      LongSupplier wallClockMs) {
    this.pipelineId = pipelineId;
    this.name = name;
    this.receiver = receiver;
    this.wal = wal;
    this.blockIntervalMs = blockInterval.toMillis();
    this.backoff = new RestartBackoff(restartDelay, maxRestartDelay, System::nanoTime);
    this.maxRate = maxRate;
    this.limiter = new RateLimiter(maxRate);
    this.budget = new ByteBudget(bufferBytes);
    this.control =
        Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory(pipelineId, "receiver"));
    this.timer =
        Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory(pipelineId, "block"));
    this.registry = registry;
    Tags tags = Tags.of("pipeline", pipelineId, "source", name);
    this.storedRecords = registry.counter("tributary.receiver.records.stored", tags);
    this.restarts = registry.counter("tributary.receiver.restarts", tags);
    this.restartDelays =
        Timer.builder("tributary.receiver.restart.delay")
            .description("Backoff delay chosen before each receiver restart")
            .tags(tags)
            .register(registry);
    this.errors = registry.counter("tributary.receiver.errors", tags);
    this.wallClockMs = wallClockMs;
    this.idleTimeoutMs = idleTimeoutMs(receiver);
    this.expiredPartitions = registry.counter("tributary.receiver.partitions.expired", tags);
    Gauge.builder("tributary.receiver.buffer.bytes", budget, ByteBudget::used)
        .tags(tags)
        .register(registry);
    Gauge.builder("tributary.receiver.rate.limit", limiter, RateLimiter::rate)
        .tags(tags)
        .register(registry);
  }

  // ---------------------------------------------------------------- recovery and planning (batch
  // thread)

  private static long idleTimeoutMs(Receiver receiver) {
    if (!(receiver instanceof SupportsPartitionExpiry expiring)) {
      return Long.MAX_VALUE;
    }
    Duration timeout = expiring.partitionIdleTimeout().orElse(null);
    if (timeout == null) {
      return Long.MAX_VALUE;
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "Invalid value "
              + timeout
              + " for partitionIdleTimeout() of receiver "
              + receiver.getClass().getName()
              + ": must be positive (expected: a duration such as 7 days)");
    }
    return timeout.toMillis() <= 0 ? 1 : timeout.toMillis();
  }

  /**
   * Rebuilds state from the last plan and the WAL only, without a checkpoint: positions of batches
   * before {@code lastPlan} are not known (for tests of the block path). Pipelines use {@link
   * #recover(CheckpointLog, BatchPlan)}.
   */
  public void recover(BatchPlan lastPlan) throws IOException {
    recover(null, lastPlan);
  }

  /**
   * Rebuilds state from the checkpoint (the {@code positions} file and the {@code offsets/N} after
   * it), the last plan and the WAL. Must be called once, before {@link #start()}.
   *
   * @param checkpoint the pipeline's checkpoint, where this supervisor also writes the {@code
   *     positions} file
   * @param lastPlan the newest {@code offsets/N}, or {@code null} for a new checkpoint
   */
  public void recover(CheckpointLog checkpoint, BatchPlan lastPlan) throws IOException {
    this.checkpoint = checkpoint;
    long now = wallClockMs.getAsLong();
    long lastFrom = 0;
    if (lastPlan != null) {
      OffsetRange r =
          lastPlan.ranges().isEmpty()
              ? new OffsetRange(BatchPlan.BLOCKS, 0, 0)
              : lastPlan.ranges().get(0);
      lastFrom = r.fromOffset();
      plannedUntil = r.untilOffset();
      if (checkpoint != null) {
        recoverPositions(checkpoint, lastPlan.batchId());
      }
      mergePlanned(lastPlan);
      plannedThroughBatch = lastPlan.batchId();
      livePositions.putAll(plannedPositions);
    } else if (checkpoint != null) {
      checkpoint.keepOffsetsFrom(
          0); // until the first positions file, every offsets/N holds needed positions
    }
    long maxSeq = -1;
    if (wal != null) {
      long keepFrom = lastFrom;
      long[] max = {-1};
      wal.replay(
          entry -> {
            BlockCodec.Block b = BlockCodec.decode(entry.payload());
            max[0] = Math.max(max[0], b.seq());
            if (b.seq() >= keepFrom) {
              walIndex.put(b.seq(), entry.handle());
              // Stored before the crash at an unknown time: counted as stored now, so nothing
              // expires early.
              BlockPositions positions = positionsOf(b.records(), now);
              positions.offsets().forEach((k, v) -> merge(livePositions, k, new Position(v, now)));
              if (b.seq() >= plannedUntil) {
                pendingPositions.put(b.seq(), positions); // for the next plan's offsets/N
              }
            }
          });
      maxSeq = max[0];
    }
    nextSeq = Math.max(plannedUntil, maxSeq + 1);
    durableEnd = nextSeq;
    for (long s = plannedUntil; s < nextSeq; s++) {
      if (!walIndex.containsKey(s)) {
        throw new DataUnavailableException(
            "Receiver "
                + name
                + " of pipeline "
                + pipelineId
                + ": block "
                + s
                + " is missing from the write-ahead"
                + " log although later blocks exist; a WAL segment was deleted or damaged. Restore it, or move the"
                + " WAL directory aside to accept losing its unprocessed data, then restart");
      }
    }
    if (nextSeq > plannedUntil) {
      LOG.info(
          "event=wal_recovered pipeline={} source={} unplanned_blocks={} next_seq={}",
          pipelineId,
          name,
          nextSeq - plannedUntil,
          nextSeq);
    }
    expireIdle(now);
  }

  /**
   * Loads the {@code positions} file and merges the {@code offsets/N} after it, up to (not
   * including) {@code lastBatch}. Without a file (a checkpoint from before it existed, whose every
   * {@code offsets/N} holds all positions, or one younger than the first file), merges every {@code
   * offsets/N} there is; they are all kept until a file exists.
   */
  private void recoverPositions(CheckpointLog checkpoint, long lastBatch) {
    Optional<ReceiverPositions> file = checkpoint.readPositions();
    long first;
    if (file.isPresent()) {
      ReceiverPositions f = file.get();
      if (!name.equals(f.source())) {
        throw new io.tributary.core.api.IncompatibleCheckpointException(
            "Checkpoint file positions holds the positions of source '"
                + f.source()
                + "', this pipeline's source is '"
                + name
                + "': use a new checkpoint location or the previous source name");
      }
      plannedPositions.putAll(f.positions());
      positionsFileBatch = f.batchId();
      first = f.batchId() + 1;
      for (long id = first; id < lastBatch; id++) {
        long missing = id;
        mergePlanned(
            checkpoint
                .readOffsets(id)
                .orElseThrow(
                    () ->
                        new DataUnavailableException(
                            "Receiver "
                                + name
                                + " of pipeline "
                                + pipelineId
                                + ": offsets/"
                                + missing
                                + " is missing from"
                                + " the checkpoint although the positions file (batch "
                                + f.batchId()
                                + ") needs it for"
                                + " the positions stored in that batch. Restore it; or delete the positions file to"
                                + " accept that producers stored only in missing batches are not deduplicated")));
      }
    } else {
      first = checkpoint.earliestPlanned().orElse(lastBatch);
      for (long id = first; id < lastBatch; id++) {
        checkpoint.readOffsets(id).ifPresent(this::mergePlanned);
      }
    }
    checkpoint.keepOffsetsFrom(first);
  }

  private void mergePlanned(BatchPlan plan) {
    plan.positions()
        .forEach((k, v) -> merge(plannedPositions, k, new Position(v, plan.batchTimeMs())));
  }

  /**
   * Merges a newer position of a partition: the maximum, unless the known one had expired by then.
   * A partition that returns after it expired starts over (its source may have started a new
   * numbering), so its old offset must not survive through a merge that happens before the expired
   * entry was swept.
   */
  private void merge(Map<String, Position> positions, String partition, Position newer) {
    positions.merge(partition, newer, (old, n) -> expired(old, n.storedMs()) ? n : old.max(n));
  }

  /**
   * The highest offset per partition of a block. Records of a group mostly share one partition
   * string, so a run of records with the same partition instance is reduced to its maximum locally
   * and merged into the map once per run, not once per record.
   */
  static BlockPositions positionsOf(List<Record> records, long storedMs) {
    Map<String, Long> offsets = new HashMap<>();
    if (records instanceof PackedRecords packed) {
      // One partition, offsets known per chunk: no record is built.
      if (!packed.isEmpty() && !(packed.source().isEmpty() && packed.partition().isEmpty())) {
        offsets.put(packed.partition(), packed.maxOffset());
      }
      return new BlockPositions(offsets, storedMs);
    }
    String runPartition = null;
    long runMax = Long.MIN_VALUE;
    for (int i = 0, n = records.size(); i < n; i++) {
      SourcePosition p = records.get(i).position();
      if (p.isNone() || !p.position().isLong()) {
        continue;
      }
      String partition = p.partition();
      long offset = p.offset();
      if (partition != runPartition) {
        if (runPartition != null) {
          offsets.merge(runPartition, runMax, Math::max);
        }
        runPartition = partition;
        runMax = offset;
      } else if (offset > runMax) {
        runMax = offset;
      }
    }
    if (runPartition != null) {
      offsets.merge(runPartition, runMax, Math::max);
    }
    return new BlockPositions(offsets, storedMs);
  }

  private boolean expired(Position p, long now) {
    return idleTimeoutMs != Long.MAX_VALUE && now - p.storedMs() >= idleTimeoutMs;
  }

  /** Forgets partitions idle for the receiver's timeout. */
  private void expireIdle(long now) {
    if (idleTimeoutMs == Long.MAX_VALUE) {
      return;
    }
    int count = 0;
    synchronized (lock) {
      for (Iterator<Map.Entry<String, Position>> it = livePositions.entrySet().iterator();
          it.hasNext(); ) {
        Map.Entry<String, Position> e = it.next();
        if (expired(e.getValue(), now)) {
          it.remove();
          plannedPositions.remove(e.getKey());
          count++;
        }
      }
    }
    if (count > 0) {
      expiredPartitions.increment(count);
      LOG.info(
          "event=receiver_partitions_expired pipeline={} source={} count={} idle_timeout_ms={}",
          pipelineId,
          name,
          count,
          idleTimeoutMs);
    }
  }

  /**
   * Writes the {@code positions} file when it lags {@value #POSITIONS_FILE_EVERY} batches behind
   * the newest plan (whose {@code offsets/N} is written, as the engine writes each plan before
   * asking for the next).
   */
  private void maybeWritePositionsFile() {
    if (checkpoint == null
        || plannedThroughBatch < 0
        || plannedThroughBatch - positionsFileBatch < POSITIONS_FILE_EVERY) {
      return;
    }
    ReceiverPositions file;
    synchronized (lock) {
      file =
          new ReceiverPositions(
              ReceiverPositions.FORMAT_VERSION, name, plannedThroughBatch, plannedPositions);
    }
    checkpoint.writePositions(file);
    positionsFileBatch = file.batchId();
  }

  /**
   * Takes every durable block not yet planned. Returns the range and the positions stored in it.
   * The caller writes a non-empty plan to {@code offsets/N} before it calls this again, and drops
   * an empty one (then reusing its id).
   */
  public BatchPlan plan(long batchId, long batchTimeMs) {
    expireIdle(wallClockMs.getAsLong());
    maybeWritePositionsFile();
    synchronized (lock) {
      long from = plannedUntil;
      long until = durableEnd;
      Map<String, Long> batchPositions = new HashMap<>();
      for (long s = from; s < until; s++) {
        BlockPositions p = pendingPositions.remove(s);
        if (p != null) {
          p.offsets()
              .forEach(
                  (k, v) -> {
                    batchPositions.merge(k, v, Math::max);
                    merge(plannedPositions, k, new Position(v, p.storedMs()));
                  });
        }
      }
      plannedUntil = until;
      if (until > from) {
        plannedThroughBatch =
            batchId; // an empty plan is not written (the engine asks again with the same id)
      }
      return BatchPlan.receiver(
          pipelineId, batchId, batchTimeMs, name, from, until, batchPositions);
    }
  }

  /** Whether every durable block has been planned (used by graceful stop). */
  public boolean allPlanned() {
    synchronized (lock) {
      return plannedUntil == durableEnd && inFlightAppends.get() == 0;
    }
  }

  /** Reads the records of blocks {@code [from, until)}, from memory or from the WAL. */
  public List<Record> read(OffsetRange range) throws IOException {
    List<Record> out = new ArrayList<>();
    for (List<Record> block : readBlocks(range)) {
      out.addAll(block);
    }
    return out;
  }

  /**
   * Reads the blocks {@code [from, until)}, from memory or from the WAL: one list per block, as
   * stored (a block held in memory keeps its form, for example {@link PackedRecords}).
   */
  public List<List<Record>> readBlocks(OffsetRange range) throws IOException {
    List<List<Record>> out = new ArrayList<>();
    for (long s = range.fromOffset(); s < range.untilOffset(); s++) {
      MemBlock mem;
      WalHandle handle;
      synchronized (lock) {
        mem = blocks.get(s);
        handle = walIndex.get(s);
      }
      if (mem != null) {
        out.add(mem.records());
      } else if (handle != null) {
        BlockCodec.Block b = BlockCodec.decode(wal.read(handle));
        if (b.seq() != s) {
          throw new DataUnavailableException(
              "Receiver "
                  + name
                  + ": WAL entry at "
                  + handle
                  + " holds block "
                  + b.seq()
                  + ", expected "
                  + s);
        }
        out.add(b.records());
      } else {
        throw new DataUnavailableException(
            "Receiver "
                + name
                + " of pipeline "
                + pipelineId
                + ": planned block "
                + s
                + " is neither in memory nor"
                + " in the write-ahead log"
                + (wal == null
                    ? " (the WAL is disabled, so data received before a"
                        + " restart is lost; enable wal.enabled for recovery)"
                    : "; a WAL segment was deleted")
                + ". Delete the checkpoint's last offsets file to skip it, accepting the loss, or restore the WAL");
      }
    }
    return out;
  }

  /**
   * Forgets blocks below {@code until} (their batch committed) and deletes WAL segments no longer
   * needed.
   */
  public void committed(long until) {
    long freed = 0;
    Long minSegment = null;
    synchronized (lock) {
      var head = blocks.headMap(until);
      for (MemBlock b : head.values()) {
        freed += b.bytes();
      }
      head.clear();
      walIndex.headMap(until).clear();
      for (MemBlock b : blocks.values()) {
        if (b.handle() != null) {
          minSegment =
              minSegment == null
                  ? b.handle().segmentId()
                  : Math.min(minSegment, b.handle().segmentId());
        }
      }
      for (WalHandle h : walIndex.values()) {
        minSegment = minSegment == null ? h.segmentId() : Math.min(minSegment, h.segmentId());
      }
      for (long floor : inFlightSegments.values()) {
        minSegment = minSegment == null ? floor : Math.min(minSegment, floor);
      }
      if (minSegment == null && wal != null) {
        // Read under the lock: an append that starts after it lands in this segment or a later one.
        minSegment = wal.activeSegmentId();
      }
    }
    budget.release(freed);
    if (wal != null) {
      try {
        wal.deleteSegmentsBefore(minSegment);
      } catch (IOException e) {
        LOG.warn(
            "event=wal_cleanup_failed pipeline={} source={} error=\"{}\"",
            pipelineId,
            name,
            e.toString());
      }
    }
  }

  /** A failure of the WAL that makes the pipeline stop, or {@code null}. */
  public Throwable fatalError() {
    return fatal;
  }

  /**
   * Adjusts the rate limit (backpressure); 0 means unlimited. Never above the configured {@code
   * receiver.max-rate} (when set): backpressure may only lower it.
   */
  public void setRate(double recordsPerSecond) {
    boolean aboveMax = maxRate > 0 && (recordsPerSecond <= 0 || recordsPerSecond > maxRate);
    limiter.setRate(aboveMax ? maxRate : recordsPerSecond);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Starts the receiver and the block timer. */
  public void start() {
    budget.reopen();
    timer.scheduleWithFixedDelay(
        this::cutBlockQuietly, blockIntervalMs, blockIntervalMs, TimeUnit.MILLISECONDS);
    control.execute(this::startReceiver);
  }

  private void startReceiver() {
    State from = lifecycle.get();
    if ((from != State.NEW && from != State.BACKING_OFF)
        || !lifecycle.moveTo(from, State.STARTING)) {
      return; // stopped meanwhile
    }
    receiver.attach(this);
    backoff.attemptStarted();
    try {
      receiver.onStart();
      backoff.startSucceeded();
      lifecycle.moveTo(
          State.STARTING, State.RUNNING); // false if a stop or restart came during onStart
      LOG.info("event=receiver_started pipeline={} source={}", pipelineId, name);
    } catch (Throwable t) {
      errors.increment();
      lifecycle.moveTo(
          State.STARTING, State.RESTARTING); // false if stopping, or restart() already asked
      restartOnControlThread("onStart failed", t);
    }
  }

  /**
   * Calls onStop once for the start that made it due (the caller moved the state so nobody else
   * calls it).
   */
  private void callOnStop(String reason) {
    try {
      receiver.onStop();
    } catch (Throwable t) {
      errors.increment();
      LOG.warn(
          "event=receiver_on_stop_failed pipeline={} source={} error=\"{}\"",
          pipelineId,
          name,
          t.toString());
    }
    LOG.info(
        "event=receiver_stopped pipeline={} source={} reason=\"{}\"", pipelineId, name, reason);
  }

  private void restartOnControlThread(String reason, Throwable error) {
    if (lifecycle.get() != State.RESTARTING) {
      return; // stopped meanwhile, or this restart was already handled
    }
    callOnStop("restart: " + reason);
    if (!lifecycle.moveTo(State.RESTARTING, State.BACKING_OFF)) {
      lifecycle.moveTo(
          State.STOPPING, State.STOPPED); // stopped while onStop ran, which was that stop's onStop
      return;
    }
    long delay = backoff.nextDelayMs();
    restarts.increment();
    restartCount.incrementAndGet();
    noteError(reason, error);
    restartDelays.record(delay, TimeUnit.MILLISECONDS);
    LOG.warn(
        "event=receiver_restart pipeline={} source={} reason=\"{}\" error=\"{}\" delay_ms={}",
        pipelineId,
        name,
        reason,
        error == null ? "" : error.toString(),
        delay);
    control.schedule(this::startReceiver, delay, TimeUnit.MILLISECONDS);
  }

  /**
   * Moves to STOPPING (onStop due) or straight to STOPPED (nothing started); no restart happens
   * after this. The control thread then calls onStop ({@link #stopOnControlThread}).
   */
  private void requestStop() {
    while (true) {
      State from = lifecycle.get();
      if (from == State.STARTING || from == State.RUNNING || from == State.RESTARTING) {
        if (lifecycle.moveTo(from, State.STOPPING)) {
          return;
        }
      } else if (from == State.NEW || from == State.BACKING_OFF) {
        if (lifecycle.moveTo(from, State.STOPPED)) {
          return;
        }
      } else {
        return; // STOPPING, STOPPED or CLOSED already
      }
    }
  }

  private void stopOnControlThread(String reason) {
    if (lifecycle.get() != State.STOPPING) {
      return; // onStop already ran, or was never due
    }
    callOnStop(reason);
    lifecycle.moveTo(State.STOPPING, State.STOPPED);
  }

  /**
   * Stops the receiver, cuts the last block and waits up to {@code timeout} for in-flight WAL
   * appends. After this, {@link #allPlanned()} tells whether more batches are needed to drain.
   */
  public void stopReceiving(Duration timeout) throws InterruptedException {
    requestStop();
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    control.execute(
        () -> {
          stopOnControlThread("pipeline stopping");
          stopped.complete(null);
        });
    try {
      stopped.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warn(
          "event=receiver_stop_slow pipeline={} source={} error=\"{}\"",
          pipelineId,
          name,
          e.toString());
    }
    budget.close("Receiver " + name + " of pipeline " + pipelineId + " is stopped");
    cutBlockQuietly();
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (inFlightAppends) {
      while (inFlightAppends.get() > 0 && System.nanoTime() < deadline) {
        inFlightAppends.wait(
            Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
    }
  }

  /**
   * Stops the receiver if it still runs ({@code onStop} on the control thread, waited for at most 5
   * s, so receivers release sockets and listeners also on {@code stopNow} and failures), then ends
   * the supervisor's threads.
   */
  @Override
  public void close() {
    requestStop();
    budget.close("Receiver " + name + " of pipeline " + pipelineId + " is closed");
    try {
      CompletableFuture<Void> stopped = new CompletableFuture<>();
      control.execute(
          () -> {
            stopOnControlThread("pipeline closed");
            stopped.complete(null);
          });
      stopped.get(5, TimeUnit.SECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // already closed
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warn(
          "event=receiver_stop_slow pipeline={} source={} error=\"{}\"",
          pipelineId,
          name,
          e.toString());
    }
    lifecycle.moveToIfLegal(State.CLOSED);
    control.shutdownNow();
    timer.shutdownNow();
    try {
      control.awaitTermination(5, TimeUnit.SECONDS);
      timer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- ReceiverRuntime (any thread)

  private void checkRunning() {
    if (!lifecycle.get().accepting()) {
      throw new ReceiverStoppedException(
          "Receiver "
              + name
              + " of pipeline "
              + pipelineId
              + " is stopped; nothing was stored. Receiver threads"
              + " should check isStopped() and exit");
    }
  }

  @Override
  public void store(Record record) throws InterruptedException {
    checkRunning();
    limiter.acquire(1);
    long bytes = record.sizeInBytes();
    budget.acquire(bytes);
    synchronized (bufferLock) {
      buffer.add(record);
      bufferBytes += bytes;
    }
  }

  @Override
  public void store(Iterator<Record> records) throws InterruptedException {
    while (records.hasNext()) {
      store(records.next());
    }
  }

  @Override
  public CompletableFuture<Void> storeReliablyAsync(List<Record> batch) {
    if (!lifecycle.get().accepting()) {
      return CompletableFuture.failedFuture(
          new ReceiverStoppedException(
              "Receiver "
                  + name
                  + " of pipeline "
                  + pipelineId
                  + " is stopped; nothing was"
                  + " stored"));
    }
    if (batch.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<Record> records;
    long bytes = 0;
    if (batch instanceof PackedRecords packed) {
      // Immutable: kept as is, sized without building a record per line.
      records = packed;
      bytes = packed.sizeInBytes();
    } else {
      // One copy of the caller's list (it may reuse it once this returns; the WAL's writer encodes
      // the records later), sized in the same pass; a null element fails here, as List.copyOf did.
      Record[] copy = batch.toArray(new Record[0]);
      for (Record r : copy) {
        bytes += r.sizeInBytes();
      }
      records = Collections.unmodifiableList(Arrays.asList(copy));
    }
    long finalBytes = bytes;
    long waitNanos = limiter.reserveNanos(records.size());
    CompletableFuture<Void> admitted;
    if (waitNanos > 0) {
      CompletableFuture<Void> delay = new CompletableFuture<>();
      timer.schedule(() -> delay.complete(null), waitNanos, TimeUnit.NANOSECONDS);
      admitted = delay.thenCompose(v -> budget.acquireAsync(finalBytes));
    } else {
      admitted = budget.acquireAsync(finalBytes);
    }
    return admitted.thenCompose(v -> appendBlock(records, finalBytes));
  }

  private void cutBlockQuietly() {
    List<Record> records;
    long bytes;
    synchronized (bufferLock) {
      if (buffer.isEmpty()) {
        return;
      }
      records = buffer;
      bytes = bufferBytes;
      buffer = new ArrayList<>();
      bufferBytes = 0;
    }
    appendBlock(records, bytes)
        .exceptionally(
            t -> {
              LOG.error(
                  "event=block_store_failed pipeline={} source={} error=\"{}\"",
                  pipelineId,
                  name,
                  t.toString());
              return null;
            });
  }

  private CompletableFuture<Void> appendBlock(List<Record> records, long bytes) {
    if (fatal != null) {
      budget.release(bytes);
      return CompletableFuture.failedFuture(
          new StoreFailedException(
              "Write-ahead log of receiver " + name + " failed earlier: " + fatal, fatal));
    }
    long seq;
    CompletableFuture<WalHandle> appended;
    synchronized (lock) {
      seq = nextSeq++;
      inFlightAppends.incrementAndGet();
      if (wal != null) {
        long lowestSegment =
            wal.activeSegmentId(); // it only grows: the entry goes to this segment or a later one
        // Encoded by the WAL's writer thread, not here: this runs on the thread every record of a
        // connection goes through (a socket's event loop). Appending under the lock keeps WAL
        // order = seq order; nobody changes the records after this (storeReliablyAsync copied
        // them, a cut buffer is replaced).
        long blockSeq = seq;
        appended =
            wal.append(
                () -> BlockCodec.encode(blockSeq, records),
                bytes + BLOCK_OVERHEAD_BYTES_PER_RECORD * records.size());
        inFlightSegments.put(
            seq, lowestSegment); // removed on completion, which waits for this lock
      } else {
        appended = CompletableFuture.completedFuture(null);
      }
    }
    return appended.handle(
        (handle, error) -> {
          try {
            if (error != null) {
              synchronized (lock) {
                inFlightSegments.remove(seq);
              }
              Throwable cause = error.getCause() != null ? error.getCause() : error;
              fatal = cause;
              noteError("the write-ahead log could not store a block", cause);
              budget.release(bytes);
              errors.increment();
              throw new StoreFailedException(
                  "Receiver "
                      + name
                      + " of pipeline "
                      + pipelineId
                      + " could not write block "
                      + seq
                      + " to the write-ahead log: "
                      + cause
                      + " (the pipeline stops; check the disk, then restart)",
                  cause);
            }
            registerDurable(seq, records, bytes, handle);
            return null;
          } finally {
            if (inFlightAppends.decrementAndGet() == 0) {
              synchronized (inFlightAppends) {
                inFlightAppends.notifyAll();
              }
            }
          }
        });
  }

  private void registerDurable(long seq, List<Record> records, long bytes, WalHandle handle) {
    long now = wallClockMs.getAsLong();
    BlockPositions positions = positionsOf(records, now);
    synchronized (lock) {
      inFlightSegments.remove(seq);
      blocks.put(seq, new MemBlock(records, bytes, handle));
      pendingPositions.put(seq, positions);
      positions.offsets().forEach((k, v) -> merge(livePositions, k, new Position(v, now)));
      while (blocks.containsKey(durableEnd) || walIndex.containsKey(durableEnd)) {
        durableEnd++;
      }
    }
    storedRecords.increment(records.size());
  }

  @Override
  public OptionalLong lastStoredOffset(String partition) {
    long now = wallClockMs.getAsLong();
    synchronized (lock) {
      Position p = livePositions.get(partition);
      return p == null || expired(p, now) ? OptionalLong.empty() : OptionalLong.of(p.offset());
    }
  }

  @Override
  public void restart(String reason, Throwable error) {
    State from = lifecycle.get();
    if ((from != State.RUNNING && from != State.STARTING)
        || !lifecycle.moveTo(from, State.RESTARTING)) {
      return; // stopping, or a restart is already under way
    }
    errors.increment();
    try {
      control.execute(() -> restartOnControlThread(reason, error));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // the supervisor is closed
    }
  }

  @Override
  public void reportError(String message, Throwable error) {
    errors.increment();
    noteError(message, error);
    LOG.warn(
        "event=receiver_error pipeline={} source={} message=\"{}\" error=\"{}\"",
        pipelineId,
        name,
        message,
        error == null ? "" : error.toString());
  }

  @Override
  public void stop(String reason) {
    requestStop();
    try {
      control.execute(() -> stopOnControlThread(reason));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // the supervisor is closed: onStop already ran
    }
  }

  private void noteError(String what, Throwable error) {
    lastError = error == null ? what : what + ": " + error;
    lastErrorAtMs = wallClockMs.getAsLong();
  }

  /**
   * The receiver's state, restarts, last error, connected clients (where the receiver tells) and
   * buffered bytes. Any thread; does not block on the receiver.
   */
  public io.tributary.core.runtime.ReceiverStatus status() {
    io.tributary.core.runtime.ReceiverStatus.State st =
        switch (lifecycle.get()) {
          case NEW, STARTING -> io.tributary.core.runtime.ReceiverStatus.State.STARTING;
          case RUNNING -> io.tributary.core.runtime.ReceiverStatus.State.RUNNING;
          case RESTARTING, BACKING_OFF -> io.tributary.core.runtime.ReceiverStatus.State.RESTARTING;
          case STOPPING, STOPPED, CLOSED -> io.tributary.core.runtime.ReceiverStatus.State.STOPPED;
        };
    java.util.OptionalInt clients;
    try {
      clients = receiver.connectedClients();
    } catch (RuntimeException e) {
      clients = java.util.OptionalInt.empty(); // a status read must never fail the caller
    }
    return new io.tributary.core.runtime.ReceiverStatus(
        name,
        st,
        restartCount.get(),
        lastError,
        lastErrorAtMs,
        clients == null ? java.util.OptionalInt.empty() : clients,
        budget.used());
  }

  @Override
  public boolean isStopped() {
    return !lifecycle.get().accepting();
  }

  @Override
  public String receiverName() {
    return name;
  }

  @Override
  public String pipelineId() {
    return pipelineId;
  }

  @Override
  public MeterRegistry meterRegistry() {
    return registry;
  }
}
