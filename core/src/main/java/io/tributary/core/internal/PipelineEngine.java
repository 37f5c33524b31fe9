package io.tributary.core.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.CarriesSourcePositions;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PackedRecords;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.ReportsTimeLag;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.SharedPositionsSource;
import io.tributary.core.api.SharedPositionsStore;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.TransactionalPositionsSource;
import io.tributary.core.api.TransactionalSink;
import io.tributary.core.api.TributaryException;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.internal.checkpoint.BatchPlan;
import io.tributary.core.internal.checkpoint.CheckpointLog;
import io.tributary.core.internal.checkpoint.ScopedCheckpointStorage;
import io.tributary.core.internal.receiver.ReceiverSupervisor;
import io.tributary.core.internal.wal.WalConfig;
import io.tributary.core.internal.wal.WriteAheadLog;
import io.tributary.core.runtime.BatchInfo;
import io.tributary.core.runtime.BatchTransform;
import io.tributary.core.runtime.PartitionStatus;
import io.tributary.core.runtime.PipelineOptions;
import io.tributary.core.runtime.PipelineState;
import io.tributary.core.runtime.PipelineStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The micro-batch engine behind {@link io.tributary.core.runtime.Pipeline}: one batch thread runs
 * plan, write {@code offsets/N}, read, transform, write sinks, write {@code commits/N}, clean up;
 * batches never overlap.
 *
 * <p>Thread safety: public methods may be called from any thread.
 */
public final class PipelineEngine {
  private static final Logger LOG = LoggerFactory.getLogger(PipelineEngine.class);
  private static final int PURGE_EVERY = 10;

  private final String pipelineId;
  private final PipelineOptions options;
  private final CheckpointStorage storage;
  private final CheckpointLog checkpoint;
  private final String sourceName;
  private final Source source;
  private final List<BatchTransform> transforms;
  private final Map<String, Sink> sinks;
  private final MeterRegistry registry;
  private final String fingerprint;
  private final long batchIntervalMs;
  private final Tags tags;
  private final Path walDirectory;
  private BatchRetry retry;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private volatile PipelineState state = PipelineState.CREATED;
  private volatile Throwable failure;
  private volatile boolean stopRequested;
  private volatile boolean graceful;
  private volatile long lastPlanned = -1;
  private volatile long lastCommitted = -1;
  private final AtomicLong recordsIn = new AtomicLong();
  private final AtomicLong recordsOut = new AtomicLong();
  private final Map<String, Long> sinkLastCommitted = new HashMap<>();

  /** The last {@link #RECENT_BATCHES} committed batches, oldest first; guarded by itself. */
  private final java.util.ArrayDeque<BatchInfo> recent = new java.util.ArrayDeque<>();

  public static final int RECENT_BATCHES = 300;

  /** The ranges of the last committed batch (or of the recovered one), for the status. */
  private volatile List<OffsetRange> committedRanges = List.of();

  /** Set by {@link #pause()}: the batch thread plans nothing until {@link #resume()}. */
  private volatile boolean paused;

  private Thread batchThread;
  private long nextBatchId;
  private BatchPlan pendingReplay;
  private SourceDriver driver;
  private PidRateEstimator estimator;

  /**
   * Secret values of the pipeline's configuration, scrubbed from failure text it logs or reports.
   */
  private volatile java.util.List<String> secrets = java.util.List.of();

  /** The sink that carries the source's transactional positions, or {@code null}. */
  private String positionsCarrier;

  private volatile double directRate;
  private Thread shutdownHook;

  private final Counter recordsInCounter;
  private final Counter bytesInCounter;
  private final Counter recordsOutCounter;
  private final Counter batchesCounter;
  private final Timer processingTimer;
  private final Timer schedulingDelayTimer;
  private final Timer totalDelayTimer;

  public PipelineEngine(
      String pipelineId,
      PipelineOptions options,
      CheckpointStorage checkpoint,
      String sourceName,
      Source source,
      List<BatchTransform> transforms,
      Map<String, Sink> sinks,
      MeterRegistry registry,
      String configFingerprint,
      Path walDirectory) {
    this.pipelineId = pipelineId;
    this.walDirectory = walDirectory;
    this.retry = new BatchRetry(pipelineId, options, registry);
    this.options = options;
    this.storage = checkpoint;
    this.checkpoint = new CheckpointLog(checkpoint);
    this.sourceName = sourceName;
    this.source = source;
    this.transforms = transforms;
    this.sinks = sinks;
    this.registry = registry;
    this.fingerprint = configFingerprint;
    this.batchIntervalMs = options.get(PipelineOptions.BATCH_INTERVAL).toMillis();
    this.tags = Tags.of("pipeline", pipelineId, "source", sourceName);
    this.recordsInCounter = registry.counter("tributary.records.in", tags);
    this.bytesInCounter = registry.counter("tributary.bytes.in", tags);
    this.recordsOutCounter =
        registry.counter("tributary.records.out", Tags.of("pipeline", pipelineId));
    this.batchesCounter =
        registry.counter("tributary.batches.completed", Tags.of("pipeline", pipelineId));
    this.processingTimer =
        registry.timer("tributary.batch.processing.time", Tags.of("pipeline", pipelineId));
    this.schedulingDelayTimer =
        registry.timer("tributary.batch.scheduling.delay", Tags.of("pipeline", pipelineId));
    this.totalDelayTimer =
        registry.timer("tributary.batch.total.delay", Tags.of("pipeline", pipelineId));
    Gauge.builder("tributary.batch.last.committed", this, e -> e.lastCommitted)
        .tags(Tags.of("pipeline", pipelineId))
        .register(registry);
    Gauge.builder("tributary.batch.stalled.seconds", this, e -> e.stalledMillis() / 1000.0)
        .description(
            "How long the listing or batch in progress has made no progress, once that is at least"
                + " stall-timeout; 0 otherwise")
        .tags(Tags.of("pipeline", pipelineId))
        .register(registry);
  }

  public String pipelineId() {
    return pipelineId;
  }

  /**
   * Secret values (passwords, keys) that failure text logged or shown in the status must not
   * contain.
   */
  public void secrets(java.util.Collection<String> values) {
    this.secrets = java.util.List.copyOf(values);
  }

  /** Tests: retries with a manual clock and sleeper. Call before {@link #start()}. */
  void useRetry(BatchRetry retry) {
    this.retry = retry;
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  public void start() {
    lock.lock();
    try {
      if (state != PipelineState.CREATED) {
        throw new IllegalStateException(
            "Pipeline "
                + pipelineId
                + " is "
                + state
                + "; a pipeline starts once (build a new one to run again)");
      }
      state = PipelineState.STARTING;
    } finally {
      lock.unlock();
    }
    try {
      doStart();
    } catch (RuntimeException | Error e) {
      failure = e;
      closeAll();
      state = PipelineState.FAILED;
      terminated.countDown();
      throw e;
    } catch (Exception e) {
      failure = e;
      closeAll();
      state = PipelineState.FAILED;
      terminated.countDown();
      throw new TributaryException("Pipeline " + pipelineId + " could not start: " + e, e);
    }
  }

  private void doStart() throws Exception {
    checkpoint.initialize(pipelineId, fingerprint);
    positionsCarrier = chooseCarrier();
    if (source instanceof DirectSource) {
      // The sinks connect, fence and recover (a transactional Kafka sink: about a second) while the
      // direct source opens and connects: both wait on other systems and neither needs the other
      // (a direct source takes in nothing until a plan is read). A receiver, which takes in data
      // as soon as it starts, starts only once every sink is open, so a sink that cannot open never
      // leaves data taken in and unprocessed.
      driver = createDriver();
      FutureTask<Void> opening =
          new FutureTask<>(
              () -> {
                openSinks();
                return null;
              });
      Thread opener = new NamedThreadFactory(pipelineId, "sink-open").newThread(opening);
      opener.start();
      try {
        startDriver();
      } catch (Exception | Error e) {
        awaitQuietly(opening);
        throw e;
      }
      try {
        opening.get();
      } catch (ExecutionException e) {
        if (e.getCause() instanceof Exception ex) {
          throw ex;
        }
        throw e;
      } catch (InterruptedException e) {
        awaitQuietly(opening);
        throw e;
      }
    } else {
      openSinks();
      driver = createDriver();
      startDriver();
    }
    if (estimator != null && directRate > 0) {
      driver.setRate(directRate);
    }
    Gauge.builder("tributary.source.lag", this, e -> e.driver.lag()).tags(tags).register(registry);
    batchThread = new NamedThreadFactory(pipelineId, "batch").newThread(this::runLoop);
    batchThread.setDaemon(false);
    state = PipelineState.RUNNING;
    batchThread.start();
    LOG.info(
        "event=pipeline_started pipeline={} source={} checkpoint={} next_batch={} replay={}",
        pipelineId,
        sourceName,
        storage.describe(),
        nextBatchId,
        pendingReplay != null);
  }

  /**
   * Waits, without giving up on an interrupt, until the sinks' opening thread is done (a failed
   * start closes the sinks and must not race it); its outcome is dropped, the caller already has a
   * failure to report.
   */
  private static void awaitQuietly(FutureTask<?> opening) {
    boolean interrupted = false;
    while (!opening.isDone()) {
      try {
        opening.get();
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (ExecutionException | java.util.concurrent.CancellationException e) {
        break;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Opens every sink and asks each transactional one which batch it committed last. */
  private void openSinks() throws Exception {
    for (Map.Entry<String, Sink> e : sinks.entrySet()) {
      Sink sink = e.getValue();
      sink.open(new Ctx(pipelineId, e.getKey(), registry, storage));
      if (sink instanceof TransactionalSink ts) {
        OptionalLong last = retry.call("sink-last-committed", ts::lastCommittedBatch);
        sinkLastCommitted.put(e.getKey(), last.isPresent() ? last.getAsLong() : -1L);
      }
    }
  }

  /**
   * Reads the checkpoint's last plan, checks it fits this source, and starts the driver from it.
   */
  private void startDriver() throws Exception {
    OptionalLong lp = checkpoint.latestPlanned();
    OptionalLong lc = checkpoint.latestCommitted();
    BatchPlan lastPlan = null;
    if (lp.isPresent()) {
      long id = lp.getAsLong();
      lastPlan =
          checkpoint
              .readOffsets(id)
              .orElseThrow(
                  () ->
                      new DataUnavailableException(
                          "offsets/" + id + " vanished from the checkpoint"));
      if (!sourceName.equals(lastPlan.source())) {
        throw new io.tributary.core.api.IncompatibleCheckpointException(
            "Checkpoint at "
                + storage.describe()
                + " was written for source '"
                + lastPlan.source()
                + "', this pipeline's"
                + " source is '"
                + sourceName
                + "': use a new checkpoint location or the previous source name");
      }
      nextBatchId = id + 1;
      lastPlanned = id;
      lastCommitted = lc.isPresent() ? lc.getAsLong() : -1;
      if (lastCommitted < id) {
        pendingReplay = lastPlan;
      } else {
        committedRanges = lastPlan.ranges();
      }
    }
    if (options.get(PipelineOptions.BACKPRESSURE)) {
      estimator =
          new PidRateEstimator(
              batchIntervalMs, 1.0, 0.2, 0.0, options.get(PipelineOptions.BACKPRESSURE_MIN_RATE));
      directRate = options.get(PipelineOptions.BACKPRESSURE_INITIAL_RATE);
    }
    if (lastPlan != null && !driver.planKind().equals(lastPlan.kind())) {
      throw new io.tributary.core.api.IncompatibleCheckpointException(
          "Checkpoint at "
              + storage.describe()
              + " holds "
              + lastPlan.kind()
              + "-source plans but the source is now"
              + " a "
              + driver.planKind()
              + " source: use a new checkpoint location or the previous source");
    }
    driver.start(lastPlan);
  }

  private SourceDriver createDriver() throws Exception {
    if (source instanceof DirectSource direct) {
      return new DirectSourceDriver(
          pipelineId,
          sourceName,
          direct,
          new Ctx(pipelineId, sourceName, registry, storage),
          new DirectPlanner(
              options.get(PipelineOptions.MAX_RECORDS_PER_PARTITION),
              options.get(PipelineOptions.MAX_RATE_PER_PARTITION),
              batchIntervalMs),
          options.get(PipelineOptions.BATCH_MAX_BYTES),
          options.get(PipelineOptions.BATCH_CHUNK_BYTES),
          options.readParallelism(),
          options.get(PipelineOptions.BATCH_INITIAL_RECORDS));
    }
    Receiver receiver = (Receiver) source; // Source is sealed: DirectSource or Receiver
    WriteAheadLog wal = null;
    if (options.get(PipelineOptions.WAL_ENABLED)) {
      wal = WriteAheadLog.open(walDir(), walConfig(), registry, tags);
    }
    ReceiverSupervisor supervisor =
        new ReceiverSupervisor(
            pipelineId,
            sourceName,
            receiver,
            wal,
            options.get(PipelineOptions.BLOCK_INTERVAL),
            options.get(PipelineOptions.RECEIVER_RESTART_DELAY),
            options.get(PipelineOptions.RECEIVER_MAX_RESTART_DELAY),
            options.get(PipelineOptions.RECEIVER_MAX_RATE),
            options.get(PipelineOptions.RECEIVER_BUFFER_BYTES),
            registry);
    return new ReceiverDriver(pipelineId, sourceName, receiver, supervisor, wal, checkpoint);
  }

  /**
   * Which sink carries the source's positions in its transaction: the only sink, when it can. With
   * several sinks no one transaction covers every output, so none does and the source commits its
   * positions after the batch commit.
   *
   * @throws ConfigException when the source requires a carrier and the pipeline has none
   */
  private String chooseCarrier() {
    if (!(source instanceof TransactionalPositionsSource<?> tps)) {
      return null;
    }
    Class<?> type = tps.transactionalPositionsType();
    String carrier = null;
    if (sinks.size() == 1) {
      Map.Entry<String, Sink> only = sinks.entrySet().iterator().next();
      if (only.getValue() instanceof CarriesSourcePositions c
          && c.canCarry(type)
          && (!(source instanceof SharedPositionsSource)
              || only.getValue() instanceof SharedPositionsStore)) {
        carrier = only.getKey();
      }
    }
    if (carrier != null
        && source instanceof SharedPositionsSource shared
        && sinks.get(carrier) instanceof SharedPositionsStore store) {
      // before the source opens: a leased partition taken at once must already find the store
      shared.sharedPositionsStore(store);
    }
    if (carrier == null && tps.requiresCarrier()) {
      throw new ConfigException(
          "Invalid pipeline "
              + pipelineId
              + ": source "
              + sourceName
              + " must commit its positions inside a sink's"
              + " transaction, but "
              + (sinks.size() == 1
                  ? "sink " + sinks.keySet().iterator().next() + " cannot" + " carry them"
                  : "the pipeline has "
                      + sinks.size()
                      + " sinks and one transaction cannot cover them")
              + " (expected: exactly one sink that carries "
              + type.getSimpleName()
              + ")");
    }
    if (carrier == null && sinks.size() > 1) {
      LOG.info(
          "event=positions_not_in_transaction pipeline={} source={} sinks={} reason=\"several sinks: the source"
              + " commits its positions after each batch commit\"",
          pipelineId,
          sourceName,
          sinks.keySet());
    }
    return carrier;
  }

  private Path walDir() {
    if (walDirectory != null) {
      return walDirectory;
    }
    if (storage instanceof LocalCheckpointStorage local) {
      return local.root().resolve("wal").resolve(sourceName);
    }
    throw new ConfigException(
        "Invalid value "
            + storage.describe()
            + " for checkpoint of pipeline "
            + pipelineId
            + ": the write-ahead log"
            + " needs a local directory (expected: a local checkpoint path, walDir(dir) (gateway: wal-dir:), or"
            + " wal.enabled: false)");
  }

  private WalConfig walConfig() {
    return new WalConfig(
        options.get(PipelineOptions.WAL_FSYNC),
        options.get(PipelineOptions.WAL_FSYNC_INTERVAL),
        options.get(PipelineOptions.WAL_SEGMENT_BYTES),
        "tributary-" + pipelineId + "-wal-0");
  }

  public void stop(boolean gracefully) {
    lock.lock();
    try {
      if (state == PipelineState.CREATED) {
        state = PipelineState.STOPPED;
        terminated.countDown();
        return;
      }
      if (terminated.getCount() == 0) {
        return;
      }
      if (!stopRequested) {
        stopRequested = true;
        graceful = gracefully;
        if (state == PipelineState.RUNNING) {
          state = PipelineState.STOPPING;
        }
      } else if (!gracefully) {
        graceful = false;
      }
      wake.signalAll();
    } finally {
      lock.unlock();
    }
    Thread t = batchThread;
    SourceDriver d = driver;
    if (!gracefully && d != null) {
      d.abort();
    }
    if (!gracefully && t != null) {
      t.interrupt();
    }
    long waitMs = options.gracefulStopTimeout().toMillis() + 5_000;
    try {
      if (!terminated.await(waitMs, TimeUnit.MILLISECONDS) && t != null) {
        LOG.warn(
            "event=stop_timeout pipeline={} waited_ms={} action=interrupt", pipelineId, waitMs);
        t.interrupt();
        terminated.await(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public synchronized void installShutdownHook() {
    if (shutdownHook == null) {
      shutdownHook = new Thread(() -> stop(true), "tributary-" + pipelineId + "-shutdown-0");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    }
  }

  public PipelineStatus status() {
    Throwable f = failure;
    return new PipelineStatus(
        pipelineId,
        state,
        lastPlanned,
        lastCommitted,
        recordsIn.get(),
        recordsOut.get(),
        f == null ? null : Secrets.scrubbed(f, secrets).toString(),
        stalledMillis());
  }

  /**
   * Stall detection: when the batch thread last made progress (a cycle started, a chunk of records
   * was read and written), and whether it is inside a cycle (planning or running a batch).
   */
  private volatile long progressNanos = System.nanoTime();

  private volatile boolean busy;

  /**
   * How long the cycle in progress has made no progress, once that is at least {@code
   * stall-timeout}; else 0.
   */
  long stalledMillis() {
    long timeout = options.get(PipelineOptions.STALL_TIMEOUT).toNanos();
    if (!busy || timeout <= 0 || state != PipelineState.RUNNING) {
      return 0;
    }
    long idle = System.nanoTime() - progressNanos;
    return idle >= timeout ? Math.max(1, idle / 1_000_000) : 0;
  }

  public Throwable failure() {
    return failure;
  }

  // ------------------------------------------------------------------------------------------------ batch thread

  private void runLoop() {
    PipelineState finalState = PipelineState.FAILED;
    Error fatal = null;
    try {
      if (pendingReplay != null) {
        LOG.info("event=batch_replay pipeline={} batch={}", pipelineId, pendingReplay.batchId());
        progressNanos = System.nanoTime();
        busy = true;
        try {
          runBatch(pendingReplay, System.currentTimeMillis(), true);
        } finally {
          busy = false;
        }
        pendingReplay = null;
      }
      // The first batch runs at once: what is already waiting at start (a backlog, a replay's
      // successors) need not wait an interval, and the first output comes as soon as it can.
      long next = System.currentTimeMillis();
      while (!stopRequested) {
        if (!awaitUntil(next)) {
          break;
        }
        if (paused) {
          if (!awaitResumed()) {
            break;
          }
          next = System.currentTimeMillis();
        }
        long scheduled = next;
        next += batchIntervalMs;
        long now = System.currentTimeMillis();
        if (now > next) {
          next = now; // processing fell behind: run the next batch at once rather than a burst of
          // empty ones
        }
        runOnce(scheduled);
      }
      if (graceful) {
        drain();
      }
      finalState = PipelineState.STOPPED;
      LOG.info("event=pipeline_stopped pipeline={} last_committed={}", pipelineId, lastCommitted);
    } catch (Throwable t) {
      if (stopRequested && !graceful && (t instanceof InterruptedException || isInterruption(t))) {
        finalState = PipelineState.STOPPED;
        LOG.info(
            "event=pipeline_stopped_now pipeline={} last_committed={}", pipelineId, lastCommitted);
      } else {
        failure = t;
        finalState = PipelineState.FAILED;
        fatal = fatalError(t);
        Throwable shown = Secrets.scrubbed(t, secrets);
        LOG.error(
            "event=pipeline_failed pipeline={} error=\"{}\"", pipelineId, shown.toString(), shown);
      }
    } finally {
      // Release the WAL directory lock, the source and the sinks first: whoever sees STOPPED or
      // FAILED may at once
      // start a new pipeline on the same checkpoint.
      closeAll();
      state = finalState;
      terminated.countDown();
    }
    if (fatal != null) {
      // A JVM Error (OutOfMemoryError, ...) here or on a reader thread: the state is recorded, and
      // the Error goes on to the thread's uncaught-exception handler, where an application such as
      // the gateway ends the process (the JVM may be unusable); an embedding program decides.
      throw fatal;
    }
  }

  /** The first {@link Error} in {@code t}'s cause chain, if any. */
  static Error fatalError(Throwable t) {
    java.util.Set<Throwable> seen =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
      if (c instanceof Error e) {
        return e;
      }
    }
    return null;
  }

  private static boolean isInterruption(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof InterruptedException
          || c instanceof java.nio.channels.ClosedByInterruptException) {
        return true;
      }
    }
    return Thread.currentThread().isInterrupted();
  }

  private boolean awaitUntil(long timeMs) throws InterruptedException {
    lock.lock();
    try {
      long wait;
      while (!stopRequested && (wait = timeMs - System.currentTimeMillis()) > 0) {
        wake.await(wait, TimeUnit.MILLISECONDS);
      }
      return !stopRequested;
    } finally {
      lock.unlock();
    }
  }

  /** Waits while paused; false when a stop was requested meanwhile. */
  private boolean awaitResumed() throws InterruptedException {
    lock.lock();
    try {
      while (paused && !stopRequested) {
        wake.await();
      }
      return !stopRequested;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops planning new batches until {@link #resume()}; the batch in flight completes. A receiver
   * keeps receiving into its write-ahead log and buffers until they are full (then {@code store}
   * blocks: backpressure). A graceful stop while paused still drains.
   */
  public void pause() {
    if (!paused) {
      paused = true;
      LOG.info("event=pipeline_paused pipeline={}", pipelineId);
    }
  }

  /** Plans batches again after {@link #pause()}; the next batch runs at once. */
  public void resume() {
    lock.lock();
    try {
      if (paused) {
        paused = false;
        LOG.info("event=pipeline_resumed pipeline={}", pipelineId);
      }
      wake.signalAll();
    } finally {
      lock.unlock();
    }
  }

  public boolean paused() {
    return paused;
  }

  /** The last committed batches, oldest first (at most {@link #RECENT_BATCHES}). */
  public List<BatchInfo> recentBatches() {
    synchronized (recent) {
      return List.copyOf(recent);
    }
  }

  /**
   * Per partition of the last committed batch: its committed position, and the latest available
   * position and lag where the source tells them.
   */
  public List<PartitionStatus> partitions() {
    SourceDriver d = driver;
    Map<String, io.tributary.core.api.Position> latest = d == null ? Map.of() : d.latestPositions();
    Map<String, Long> behind = millisBehindLatest();
    List<PartitionStatus> out = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (OffsetRange r : committedRanges) {
      seen.add(r.partition());
      io.tributary.core.api.Position end = latest.get(r.partition());
      out.add(
          new PartitionStatus(
              r.partition(),
              r.until().toString(),
              end == null ? null : end.toString(),
              end == null
                  ? OptionalLong.empty()
                  : OptionalLong.of(Math.max(0, r.until().distanceTo(end))),
              optional(behind.get(r.partition()))));
    }
    for (Map.Entry<String, io.tributary.core.api.Position> e :
        new java.util.TreeMap<>(latest).entrySet()) {
      if (seen.add(e.getKey())) {
        out.add(
            new PartitionStatus(
                e.getKey(),
                null,
                e.getValue().toString(),
                OptionalLong.empty(),
                optional(behind.get(e.getKey()))));
      }
    }
    for (Map.Entry<String, Long> e : new java.util.TreeMap<>(behind).entrySet()) {
      if (seen.add(e.getKey())) {
        out.add(
            new PartitionStatus(
                e.getKey(), null, null, OptionalLong.empty(), OptionalLong.of(e.getValue())));
      }
    }
    return out;
  }

  /** The source's time lag per partition ({@link ReportsTimeLag}); empty when it has none. */
  private Map<String, Long> millisBehindLatest() {
    if (!(source instanceof ReportsTimeLag r)) {
      return Map.of();
    }
    try {
      Map<String, Long> m = r.millisBehindLatest();
      return m == null ? Map.of() : m;
    } catch (RuntimeException e) {
      LOG.debug("event=time_lag_unavailable pipeline={} error=\"{}\"", pipelineId, e.toString());
      return Map.of();
    }
  }

  private static OptionalLong optional(Long v) {
    return v == null ? OptionalLong.empty() : OptionalLong.of(v);
  }

  /** The receivers' status; empty for a direct source or before the start. Any thread. */
  public List<io.tributary.core.runtime.ReceiverStatus> receivers() {
    SourceDriver d = driver;
    return d == null ? List.of() : d.receivers();
  }

  /**
   * What the source skipped ({@link io.tributary.core.api.SupportsQuarantine}); empty when the
   * source cannot skip. Any thread.
   */
  public List<io.tributary.core.api.QuarantinedItem> quarantined() {
    if (source instanceof io.tributary.core.api.SupportsQuarantine q) {
      List<io.tributary.core.api.QuarantinedItem> items = q.quarantined();
      return items == null ? List.of() : List.copyOf(items);
    }
    return List.of();
  }

  /** Records known to be available but not planned yet; 0 when the source cannot tell. */
  public long lag() {
    SourceDriver d = driver;
    return d == null ? 0 : d.lag();
  }

  private void drain() throws Exception {
    long deadline = System.nanoTime() + options.gracefulStopTimeout().toNanos();
    if (driver.drainsOnStop()) {
      driver.stopReceiving(options.gracefulStopTimeout());
      while (!driver.allPlanned() && System.nanoTime() < deadline) {
        runOnce(System.currentTimeMillis());
      }
      if (!driver.allPlanned()) {
        LOG.warn(
            "event=graceful_stop_incomplete pipeline={} detail=\"timeout; remaining data stays in the WAL and is"
                + " processed on the next start\"",
            pipelineId);
      }
    }
  }

  private void runOnce(long scheduledMs) throws Exception {
    progressNanos = System.nanoTime();
    busy = true;
    try {
      driver.checkHealthy();
      BatchPlan plan = planNext(scheduledMs);
      if (plan != null) {
        progressNanos = System.nanoTime();
        runBatch(plan, scheduledMs, false);
      }
    } finally {
      busy = false;
    }
  }

  private BatchPlan planNext(long batchTimeMs) throws Exception {
    BatchPlan plan =
        retry.call(
            "partitions",
            () -> driver.plan(nextBatchId, batchTimeMs, estimator != null ? directRate : 0));
    if (plan == null) {
      return null;
    }
    retry.run("checkpoint-write", () -> checkpoint.writeOffsets(plan));
    driver.planned(plan);
    lastPlanned = nextBatchId;
    nextBatchId++;
    return plan;
  }

  private void runBatch(BatchPlan plan, long scheduledMs, boolean replay) throws Exception {
    long startMs = System.currentTimeMillis();
    long startNanos = System.nanoTime();
    long batchId = plan.batchId();
    // One attempt reads the plan and writes every sink; a retriable failure runs the whole attempt
    // again with the
    // same plan (sinks that committed it already skip it).
    long[] counts =
        retry.call(
            e -> e instanceof SinkFailedException ? "sink-write" : "read",
            () -> writeSinks(plan, replay));
    long inRecords = counts[0];
    recordsIn.addAndGet(inRecords);
    recordsInCounter.increment(inRecords);
    bytesInCounter.increment(counts[1]);
    long outRecords = counts[2];
    long endMs = System.currentTimeMillis();
    retry.run(
        "checkpoint-write",
        () ->
            checkpoint.writeCommit(
                new CheckpointLog.Commit(BatchPlan.FORMAT_VERSION, batchId, endMs, inRecords)));
    lastCommitted = batchId;
    recordsOut.addAndGet(outRecords);
    recordsOutCounter.increment(outRecords);
    batchesCounter.increment();
    afterCommit(plan);
    long processingMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    long schedulingDelayMs = Math.max(0, startMs - scheduledMs);
    processingTimer.record(processingMs, TimeUnit.MILLISECONDS);
    schedulingDelayTimer.record(schedulingDelayMs, TimeUnit.MILLISECONDS);
    totalDelayTimer.record(Math.max(0, endMs - scheduledMs), TimeUnit.MILLISECONDS);
    committedRanges = plan.ranges();
    synchronized (recent) {
      if (recent.size() == RECENT_BATCHES) {
        recent.removeFirst();
      }
      recent.addLast(
          new BatchInfo(
              batchId,
              scheduledMs,
              inRecords,
              counts[1],
              schedulingDelayMs,
              processingMs,
              // As Spark's Streaming tab: total delay = scheduling delay + processing time (the
              // commit
              // write included), so the three figures of a batch always add up.
              schedulingDelayMs + processingMs,
              endMs));
    }
    if (estimator != null) {
      OptionalDouble rate = estimator.compute(endMs, inRecords, processingMs, schedulingDelayMs);
      if (rate.isPresent()) {
        directRate = rate.getAsDouble();
        driver.setRate(directRate);
      }
    }
    LOG.debug(
        "event=batch_committed pipeline={} batch={} records={} processing_ms={} scheduling_delay_ms={}",
        pipelineId,
        batchId,
        inRecords,
        processingMs,
        schedulingDelayMs);
  }

  /**
   * Reads the plan and writes it to every sink that has not committed it yet, chunk by chunk (or,
   * with a whole-batch transform, as one list). Returns {records in, bytes in, records out}.
   */
  private long[] writeSinks(BatchPlan plan, boolean replay) throws Exception {
    long batchId = plan.batchId();
    Map<String, BatchWriter> writers = new LinkedHashMap<>();
    long in = 0;
    long bytes = 0;
    long out = 0;
    try {
      for (Map.Entry<String, Sink> e : sinks.entrySet()) {
        Long sinkLast = sinkLastCommitted.get(e.getKey());
        if (sinkLast != null && sinkLast >= batchId) {
          LOG.info(
              "event=sink_skip pipeline={} sink={} batch={} reason=\"already committed by the transactional sink\"",
              pipelineId,
              e.getKey(),
              batchId);
          continue;
        }
        writers.put(
            e.getKey(),
            sinkCall(e.getKey(), batchId, () -> e.getValue().begin(sinkBatch(e.getKey(), plan))));
      }
      boolean streaming = transforms.stream().allMatch(BatchTransform::perRecord);
      List<Record> whole = streaming ? null : new ArrayList<>();
      try (CloseableIterator<List<Record>> chunks = driver.read(plan, replay)) {
        while (chunks.hasNext()) {
          List<Record> chunk = chunks.next();
          progressNanos = System.nanoTime();
          in += chunk.size();
          if (chunk instanceof PackedRecords packed) {
            bytes += packed.sizeInBytes(); // without building a record per line
          } else {
            for (Record r : chunk) {
              bytes += r.sizeInBytes();
            }
          }
          if (!streaming) {
            whole.addAll(chunk);
            continue;
          }
          List<Record> result = chunk;
          for (BatchTransform t : transforms) {
            result = t.apply(batchId, result);
          }
          out += result.size();
          writeChunk(writers, batchId, result);
        }
      }
      if (!streaming) {
        List<Record> result = whole;
        for (BatchTransform t : transforms) {
          result = t.apply(batchId, result);
        }
        out = result.size();
        writeChunk(writers, batchId, result);
      }
      for (Map.Entry<String, BatchWriter> w : writers.entrySet()) {
        sinkCall(
            w.getKey(),
            batchId,
            () -> {
              w.getValue().commit();
              return null;
            });
        sinkLastCommitted.computeIfPresent(w.getKey(), (k, v) -> Math.max(v, batchId));
        if (w.getKey().equals(positionsCarrier)) {
          ((TransactionalPositionsSource<?>) source).committedWithSink(batchId);
        }
      }
    } finally {
      for (Map.Entry<String, BatchWriter> w : writers.entrySet()) {
        try {
          w.getValue().close();
        } catch (Exception ex) {
          LOG.warn(
              "event=sink_writer_close_failed pipeline={} sink={} batch={} error=\"{}\"",
              pipelineId,
              w.getKey(),
              batchId,
              ex.toString());
        }
      }
    }
    driver.observed(in, bytes);
    return new long[] {in, bytes, out};
  }

  /** Hands one chunk to every open writer. */
  private void writeChunk(Map<String, BatchWriter> writers, long batchId, List<Record> chunk)
      throws Exception {
    if (chunk.isEmpty()) {
      return;
    }
    for (Map.Entry<String, BatchWriter> w : writers.entrySet()) {
      sinkCall(
          w.getKey(),
          batchId,
          () -> {
            w.getValue().write(chunk);
            return null;
          });
    }
  }

  private SinkBatch sinkBatch(String sinkName, BatchPlan plan) {
    boolean carrier = sinkName.equals(positionsCarrier);
    return new SinkBatch() {
      @Override
      public long batchId() {
        return plan.batchId();
      }

      @Override
      public List<OffsetRange> ranges() {
        return plan.ranges();
      }

      @Override
      public <T> Optional<T> transactionalPositions(Class<T> type) {
        if (!carrier) {
          return Optional.empty();
        }
        TransactionalPositionsSource<?> tps = (TransactionalPositionsSource<?>) source;
        if (!type.equals(tps.transactionalPositionsType())) {
          return Optional.empty();
        }
        return Optional.ofNullable(type.cast(tps.transactionalPositions(plan.batchId())));
      }
    };
  }

  private interface SinkAction<T> {
    T run() throws Exception;
  }

  /**
   * Runs one sink call; a failure names the sink and the batch (the batch is replayed with the same
   * data).
   */
  private <T> T sinkCall(String sinkName, long batchId, SinkAction<T> action) throws Exception {
    try {
      return action.run();
    } catch (InterruptedException ex) {
      throw ex;
    } catch (Exception ex) {
      throw new SinkFailedException(pipelineId, sinkName, batchId, ex);
    }
  }

  /** A sink failed to write a batch; retriable when its cause is. */
  static final class SinkFailedException extends TributaryException {
    private final boolean retriable;

    SinkFailedException(String pipelineId, String sinkName, long batchId, Exception cause) {
      super(
          "Sink "
              + sinkName
              + " of pipeline "
              + pipelineId
              + " failed to write batch "
              + batchId
              + ": "
              + cause
              + " (the batch is replayed with the same data on restart)",
          cause);
      this.retriable = BatchRetry.isRetriable(cause);
    }

    @Override
    public boolean isRetriable() {
      return retriable;
    }
  }

  private void afterCommit(BatchPlan plan) {
    driver.committed(plan);
    int retained = options.get(PipelineOptions.RETAINED_BATCHES);
    if (plan.batchId() % PURGE_EVERY == 0 && plan.batchId() >= retained) {
      checkpoint.purgeBefore(plan.batchId() - retained + 1);
    }
  }

  private void closeAll() {
    if (driver != null) {
      driver.close();
    }
    for (Map.Entry<String, Sink> e : sinks.entrySet()) {
      try {
        e.getValue().close();
      } catch (Exception ex) {
        LOG.warn(
            "event=sink_close_failed pipeline={} sink={} error=\"{}\"",
            pipelineId,
            e.getKey(),
            ex.toString());
      }
    }
    Thread hook = shutdownHook;
    if (hook != null && Thread.currentThread() != hook) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // JVM already shutting down
      }
    }
  }

  private record Ctx(
      String pipelineId, String name, MeterRegistry meterRegistry, CheckpointStorage checkpoint)
      implements SourceContext, SinkContext {
    @Override
    public CheckpointStorage stateStorage() {
      return new ScopedCheckpointStorage(checkpoint, "sources/" + name);
    }

    @Override
    public String sourceName() {
      return name;
    }

    @Override
    public String sinkName() {
      return name;
    }
  }
}
