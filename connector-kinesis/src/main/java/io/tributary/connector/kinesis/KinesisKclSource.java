package io.tributary.connector.kinesis;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.tributary.connector.kinesis.KinesisOptions.CloudWatchMetrics;
import io.tributary.connector.kinesis.KinesisOptions.KclStartingPosition;
import io.tributary.connector.kinesis.internal.KclClients;
import io.tributary.connector.kinesis.internal.KclLeaseBootstrap;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.ExternallyAssignedSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.RangeEndByReading;
import io.tributary.core.api.Record;
import io.tributary.core.api.ReportsTimeLag;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.SharedPositions;
import io.tributary.core.api.SharedPositionsSource;
import io.tributary.core.api.SharedPositionsStore;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import io.tributary.core.api.TributaryException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.kinesis.common.ConfigsBuilder;
import software.amazon.kinesis.common.InitialPositionInStream;
import software.amazon.kinesis.common.InitialPositionInStreamExtended;
import software.amazon.kinesis.coordinator.Scheduler;
import software.amazon.kinesis.exceptions.ShutdownException;
import software.amazon.kinesis.leases.LeaseManagementConfig;
import software.amazon.kinesis.lifecycle.events.InitializationInput;
import software.amazon.kinesis.lifecycle.events.LeaseLostInput;
import software.amazon.kinesis.lifecycle.events.ProcessRecordsInput;
import software.amazon.kinesis.lifecycle.events.ShardEndedInput;
import software.amazon.kinesis.lifecycle.events.ShutdownRequestedInput;
import software.amazon.kinesis.metrics.MetricsConfig;
import software.amazon.kinesis.metrics.MetricsLevel;
import software.amazon.kinesis.metrics.NullMetricsFactory;
import software.amazon.kinesis.processor.RecordProcessorCheckpointer;
import software.amazon.kinesis.processor.ShardRecordProcessor;
import software.amazon.kinesis.retrieval.KinesisClientRecord;
import software.amazon.kinesis.retrieval.RetrievalConfig;
import software.amazon.kinesis.retrieval.kpl.ExtendedSequenceNumber;
import software.amazon.kinesis.retrieval.polling.PollingConfig;

/**
 * Reads a Kinesis data stream with the Kinesis Client Library 3: every instance of the pipeline
 * with the same {@code application-name} runs a KCL worker, and KCL's leases in DynamoDB spread the
 * shards over the instances (an instance that stops or dies loses its leases to the others; one
 * that joins gets some). An {@link ExternallyAssignedSource}: the partitions the runtime plans are
 * the shards this instance holds a lease for now.
 *
 * <p>How records flow: KCL's record processor of each leased shard hands the records it fetched
 * (polling GetRecords, KPL aggregates already split by KCL) into a bounded per-shard buffer ({@code
 * max-buffered-records}; the processor waits when it is full). The runtime plans each batch as for
 * the {@code kinesis} direct source: the end of a shard's range is fixed while planning by taking
 * the buffered records ({@link RangeEndByReading}), so {@code offsets/N} holds the exact range of
 * sequence numbers before any sink sees a record. A replayed range (after a crash) is read again
 * from Kinesis with GetRecords, from its start to its planned end.
 *
 * <p>Checkpoints: KCL's checkpoint of a shard in the lease table moves only after the batch that
 * holds its records committed ({@link #onBatchCommitted}: the sinks committed and the runtime wrote
 * {@code commits/N}), to the end of the shard's range in that batch. A shard that ended (split or
 * merge) is checkpointed at SHARD_END only once every record of it committed, which is when KCL
 * starts its children. So nothing is lost across crashes and lease moves. A crash or a lost lease
 * after the sink committed a batch but before the KCL checkpoint was written would make the next
 * owner read that batch's records of the shard again; unless a sink carries the positions.
 *
 * <p>Exactly-once across lease moves ({@link SharedPositionsSource}): when the pipeline's only sink
 * carries {@link SharedPositions} (the {@code kafka} sink), each batch's shard positions commit in
 * the sink's transaction ({@link #transactionalPositions}, which first checks that KCL still counts
 * this worker as the holder of every shard in the batch), and a worker taking a lease reads the
 * positions every instance committed and starts after the sink's position when it is ahead of the
 * KCL checkpoint ({@code event=kinesis_kcl_sink_position_ahead}); the KCL checkpoint is moved up to
 * it after KCL delivered that far. {@code exactly-once: true} refuses a pipeline without such a
 * sink. See the README's guarantee table for what holds with which sink.
 *
 * <p>Lag: {@code tributary.kinesis.millis.behind.latest{shard}} and {@link #millisBehindLatest()}
 * (shown in the pipeline's status) for each leased shard, from KCL's last GetRecords.
 *
 * <p>Positions: as the {@code kinesis} source ({@code "<seq>#<n>"}: everything before sub-record
 * {@code n} of the record with sequence number {@code seq}). A newly leased shard starts after its
 * KCL checkpoint; a shard without one (a fresh application, a child shard) at its first delivered
 * record. A replayed range of a shard whose KCL checkpoint (read when this instance took the lease)
 * is past the range's start is cut to start after the checkpoint, and a range of a shard this
 * instance no longer leases is skipped: its owner reads those records.
 *
 * <p>First start of an application: when the lease table holds no lease, {@link #open} creates the
 * leases with KCL's own shard sync before the scheduler starts ({@link KclLeaseBootstrap}), so KCL
 * does not wait its random 1 to 30 s for another worker to create them; a failure leaves it to
 * KCL's own first sync. {@code open} blocks for those calls (one Scan, ListShards, a conditional
 * PutItem per lease).
 *
 * <p>Every instance needs its own pipeline id and checkpoint directory, and a distinct {@code
 * worker-id} (the pipeline id by default).
 *
 * <p>Thread safety: {@link #partitions()}, {@link #fixRangeEnd} and {@link #onBatchCommitted} run
 * on the batch thread, {@link #read} on reader threads, the record processors on KCL's threads; the
 * per-shard state is guarded by one lock per shard. The KCL scheduler runs on its own thread
 * ({@code tributary-<pipeline>-kcl-0}) because {@code Scheduler.run()} blocks for the worker's
 * life.
 */
public final class KinesisKclSource
    implements ExternallyAssignedSource, RangeEndByReading, SharedPositionsSource, ReportsTimeLag {
  private static final Logger LOG = LoggerFactory.getLogger(KinesisKclSource.class);
  private static final Duration TABLE_TIMEOUT = Duration.ofSeconds(60);

  private final Config config;
  private final String applicationName;
  private final String stream;
  private final KclStartingPosition startingPosition;
  private final Long startingTimestamp;
  private final int maxBuffered;
  private final Duration shutdownTimeout;
  private final Duration handOffTimeout;
  private final boolean exactlyOnce;

  /** The name under which the carrying sink keeps this application's shard positions. */
  private final String positionsScope;

  /** The carrying sink's store of committed shard positions; null when no sink carries them. */
  private volatile SharedPositionsStore sharedStore;

  /** Reads replayed ranges with GetRecords, exactly as the direct source reads them. */
  private final KinesisDirectSource rangeReader;

  /** The shards this instance leases now (a new state per lease acquisition). */
  private final Map<String, ShardState> owned = new ConcurrentHashMap<>();

  /** Records taken from a buffer while planning, handed to that range's read. */
  private final Map<String, Prefetched> prefetched = new ConcurrentHashMap<>();

  /** Per shard: the range end read in the batch in flight, and the lease it was read under. */
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();

  private String pipelineId = "";
  private String sourceName = "kinesis-kcl";
  private String workerId;
  private KclClients clients;
  private Scheduler scheduler;
  private Thread schedulerThread;
  private Counter checkpoints;
  private Counter checkpointFailures;
  private Counter skippedRanges;
  private io.micrometer.core.instrument.MeterRegistry meters;

  /** MillisBehindLatest of each leased shard as of KCL's last GetRecords (-1 before the first). */
  private final Map<String, java.util.concurrent.atomic.AtomicLong> lag = new ConcurrentHashMap<>();

  private volatile Throwable schedulerFailure;
  private volatile boolean closed;

  /** Creates the source from options validated by {@link KinesisOptions#KCL_SOURCE}. */
  public KinesisKclSource(Config config) {
    KinesisOptions.checkKclSource(config);
    this.config = config;
    this.applicationName = config.get(KinesisOptions.APPLICATION_NAME);
    this.stream = config.get(KinesisOptions.STREAM);
    this.startingPosition = config.get(KinesisOptions.KCL_STARTING_POSITION);
    String ts = config.get(KinesisOptions.STARTING_TIMESTAMP);
    this.startingTimestamp = ts == null ? null : KinesisOptions.parseTimestamp(ts);
    this.maxBuffered = config.get(KinesisOptions.MAX_BUFFERED_RECORDS);
    this.shutdownTimeout = config.get(KinesisOptions.SHUTDOWN_TIMEOUT);
    // a hand-off must end well before KCL gives up on it and takes the lease anyway
    this.handOffTimeout = config.get(KinesisOptions.FAILOVER_TIME);
    this.workerId = config.get(KinesisOptions.WORKER_ID);
    this.exactlyOnce = config.get(KinesisOptions.EXACTLY_ONCE);
    this.positionsScope = "kinesis-kcl/" + applicationName + "/" + stream;
    Map<String, Object> direct = new LinkedHashMap<>();
    direct.put(KinesisOptions.STREAM.name(), stream);
    direct.put(KinesisOptions.REGION.name(), config.get(KinesisOptions.REGION));
    putIfSet(direct, KinesisOptions.ENDPOINT, config.get(KinesisOptions.ENDPOINT));
    putIfSet(direct, KinesisOptions.ACCESS_KEY_ID, config.get(KinesisOptions.ACCESS_KEY_ID));
    putIfSet(
        direct, KinesisOptions.SECRET_ACCESS_KEY, config.get(KinesisOptions.SECRET_ACCESS_KEY));
    direct.put(
        KinesisOptions.GET_RECORDS_LIMIT.name(), config.get(KinesisOptions.GET_RECORDS_LIMIT));
    direct.put(KinesisOptions.THROTTLE_BACKOFF.name(), config.get(KinesisOptions.THROTTLE_BACKOFF));
    direct.put(KinesisOptions.READ_TIMEOUT.name(), config.get(KinesisOptions.READ_TIMEOUT));
    direct.put(KinesisOptions.STARTING_POSITION.name(), "trim-horizon");
    this.rangeReader = new KinesisDirectSource(KinesisOptions.SOURCE.parse(direct));
  }

  @Override
  public boolean requiresCarrier() {
    return exactlyOnce;
  }

  @Override
  public void sharedPositionsStore(SharedPositionsStore store) {
    this.sharedStore = store;
  }

  /**
   * The end of each shard's range in batch {@code batchId}, for the carrying sink to commit with
   * the batch: the next owner of a shard starts there (see {@link Processor#initialize}). Fails the
   * attempt (retriable) when this instance no longer holds the lease of a shard in the batch: the
   * shard's new owner may already have started from the positions committed so far, so committing
   * these records would write them twice. The retry skips that shard.
   */
  @Override
  public SharedPositions transactionalPositions(long batchId) {
    Map<String, Position> out = new TreeMap<>();
    List<String> lost = new ArrayList<>();
    for (Map.Entry<String, Pending> e : pending.entrySet()) {
      ShardState s = e.getValue().state;
      if (s.isLost() || owned.get(e.getKey()) != s || !leaseHeld(e.getKey())) {
        lost.add(e.getKey());
      } else {
        out.put(e.getKey(), e.getValue().until);
      }
    }
    if (!lost.isEmpty()) {
      for (String shard : lost) {
        Pending q = pending.remove(shard);
        if (q != null) {
          // the retry must skip the shard: its records go to the next owner, which starts at the
          // position committed so far
          q.state.markLost();
        }
      }
      skippedRanges.increment();
      throw new RetriableException(
          "Kinesis KCL source "
              + sourceName
              + " of pipeline "
              + pipelineId
              + ": the lease of shard(s) "
              + lost
              + " was lost while batch "
              + batchId
              + " was in flight; the sink's transaction is not committed and the batch is run again"
              + " without them (their new owner reads them from the last committed position)");
    }
    return new SharedPositions(positionsScope, out);
  }

  /** Whether KCL still counts this worker as the holder of {@code shard}'s lease (not expired). */
  private boolean leaseHeld(String shard) {
    Scheduler sch = scheduler;
    return sch == null || sch.leaseCoordinator().getCurrentlyHeldLease(shard) != null;
  }

  private static void putIfSet(
      Map<String, Object> m, io.tributary.core.api.ConfigOption<?> o, Object v) {
    if (v != null) {
      m.put(o.name(), v);
    }
  }

  @Override
  public void open(SourceContext context) throws Exception {
    this.pipelineId = context.pipelineId();
    this.sourceName = context.sourceName();
    if (workerId == null) {
      workerId = pipelineId;
    }
    var meters = context.meterRegistry();
    this.meters = meters;
    this.checkpoints =
        Counter.builder("tributary.kinesis.kcl.checkpoints")
            .description("KCL checkpoints written after a batch commit")
            .tag("pipeline", pipelineId)
            .tag("source", sourceName)
            .register(meters);
    this.checkpointFailures =
        Counter.builder("tributary.kinesis.kcl.checkpoint.failures")
            .description("KCL checkpoints that failed (retried at the next commit) or were refused")
            .tag("pipeline", pipelineId)
            .tag("source", sourceName)
            .register(meters);
    this.skippedRanges =
        Counter.builder("tributary.kinesis.kcl.ranges.skipped")
            .description(
                "Replayed ranges skipped or cut because another instance owns or read them")
            .tag("pipeline", pipelineId)
            .tag("source", sourceName)
            .register(meters);
    Gauge.builder("tributary.kinesis.kcl.leases", owned, Map::size)
        .description("Shards this instance holds a KCL lease for")
        .tag("pipeline", pipelineId)
        .tag("source", sourceName)
        .register(meters);
    // Fails here, naming the fix, for a missing stream, rejected credentials or a wrong endpoint.
    rangeReader.open(context);
    try {
      clients =
          new KclClients(
              config.get(KinesisOptions.REGION),
              config.get(KinesisOptions.ENDPOINT),
              config.get(KinesisOptions.DYNAMODB_ENDPOINT),
              config.get(KinesisOptions.CLOUDWATCH_ENDPOINT),
              config.get(KinesisOptions.ACCESS_KEY_ID),
              config.get(KinesisOptions.SECRET_ACCESS_KEY));
      boolean created = clients.ensureLeaseTable(applicationName, TABLE_TIMEOUT);
      InitialPositionInStreamExtended initial = initialPosition();
      ConfigsBuilder cb = configsBuilder();
      RetrievalConfig retrieval = retrievalConfig(cb, initial);
      String initialLeases = createInitialLeases(cb, initial, retrieval);
      scheduler = buildScheduler(cb, initial, retrieval);
      schedulerThread = new Thread(this::runScheduler, "tributary-" + pipelineId + "-kcl-0");
      schedulerThread.setDaemon(true);
      schedulerThread.start();
      LOG.info(
          "event=kinesis_kcl_source_opened pipeline={} source={} stream={} application={} worker={}"
              + " lease_table_created={} initial_leases={} starting_position={} region={} endpoint={}"
              + " dynamodb_endpoint={}",
          pipelineId,
          sourceName,
          stream,
          applicationName,
          workerId,
          created,
          initialLeases,
          startingPosition,
          config.get(KinesisOptions.REGION),
          config.get(KinesisOptions.ENDPOINT) == null ? "aws" : config.get(KinesisOptions.ENDPOINT),
          config.get(KinesisOptions.DYNAMODB_ENDPOINT) == null
              ? "aws"
              : config.get(KinesisOptions.DYNAMODB_ENDPOINT));
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  private ConfigsBuilder configsBuilder() {
    return new ConfigsBuilder(
        stream,
        applicationName,
        clients.kinesis(),
        clients.dynamo(),
        clients.cloudWatch(),
        workerId,
        () -> new Processor());
  }

  private InitialPositionInStreamExtended initialPosition() {
    return switch (startingPosition) {
      case TRIM_HORIZON ->
          InitialPositionInStreamExtended.newInitialPosition(InitialPositionInStream.TRIM_HORIZON);
      case LATEST ->
          InitialPositionInStreamExtended.newInitialPosition(InitialPositionInStream.LATEST);
      case AT_TIMESTAMP ->
          InitialPositionInStreamExtended.newInitialPositionAtTimestamp(
              new Date(startingTimestamp));
    };
  }

  private RetrievalConfig retrievalConfig(
      ConfigsBuilder cb, InitialPositionInStreamExtended initial) {
    PollingConfig polling =
        new PollingConfig(stream, clients.kinesis())
            .idleTimeBetweenReadsInMillis(config.get(KinesisOptions.POLL_INTERVAL).toMillis())
            .maxRecords(config.get(KinesisOptions.GET_RECORDS_LIMIT));
    return cb.retrievalConfig()
        .initialPositionInStreamExtended(initial)
        .retrievalSpecificConfig(polling);
  }

  /**
   * KCL's lease settings of this source: a new instance per call, because KCL caches the lease
   * management factory it makes in the config (the Scheduler's and {@link #createInitialLeases}'s
   * are two).
   */
  private LeaseManagementConfig leaseManagementConfig(
      ConfigsBuilder cb, InitialPositionInStreamExtended initial) {
    long failover = config.get(KinesisOptions.FAILOVER_TIME).toMillis();
    LeaseManagementConfig leases =
        cb.leaseManagementConfig()
            .initialPositionInStream(initial)
            .failoverTimeMillis(failover)
            .shardSyncIntervalMillis(config.get(KinesisOptions.SHARD_SYNC_INTERVAL).toMillis());
    Duration assignment = config.get(KinesisOptions.LEASE_ASSIGNMENT_INTERVAL);
    if (assignment != null) {
      // the leader's lease assignment run; lease discovery runs at half this interval
      leases.leaseAssignmentIntervalMillis(assignment.toMillis());
    }
    // KCL 3's leader (the one worker that assigns leases) holds a DynamoDB lock; when it dies the
    // others wait for the lock's lease to run out before anyone assigns its shards.
    long leaderLease = config.get(KinesisOptions.LEADER_LEASE_DURATION).toMillis();
    leases
        .dynamoDbLockBasedLeaderLeaseDurationInMillis(leaderLease)
        .dynamoDbLockBasedLeaderHeartbeatPeriodInMillis(Math.max(500, leaderLease / 5));
    // KCL 3's leader assigns leases only to workers whose metrics it has seen; its default
    // reporting
    // period (30 s) would delay a new instance's first lease by up to that much.
    leases
        .workerUtilizationAwareAssignmentConfig()
        .workerMetricsReporterFreqInMillis(Math.min(30_000, Math.max(1_000, failover)));
    return leases;
  }

  /**
   * On an application's first start (an empty lease table), creates the leases with KCL's own shard
   * sync before the Scheduler starts, so the Scheduler does not wait its random 1 to 30 s for
   * another worker to create them ({@link KclLeaseBootstrap}). A failure leaves it to KCL's own
   * first sync, as without this step.
   *
   * @return what happened, for the open log line
   */
  private String createInitialLeases(
      ConfigsBuilder cb, InitialPositionInStreamExtended initial, RetrievalConfig retrieval)
      throws InterruptedException {
    try {
      KclLeaseBootstrap.Result r =
          KclLeaseBootstrap.createLeasesIfTableEmpty(
              leaseManagementConfig(cb, initial),
              retrieval.streamTracker().streamConfigList().get(0));
      if (r.synced()) {
        LOG.info(
            "event=kinesis_kcl_initial_leases_created pipeline={} source={} application={} stream={}"
                + " leases={} initial_position={} reason=\"empty lease table: KCL's shard sync ran before"
                + " the scheduler started, so KCL does not wait for another worker to create them\"",
            pipelineId,
            sourceName,
            applicationName,
            stream,
            r.leases(),
            startingPosition);
        return String.valueOf(r.leases());
      }
      return "existing";
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException("interrupted while creating the initial KCL leases");
      }
      LOG.warn(
          "event=kinesis_kcl_initial_leases_failed pipeline={} source={} application={} stream={}"
              + " error=\"{}\" action=\"KCL's own first shard sync creates them (after its random 1-30 s"
              + " wait)\"",
          pipelineId,
          sourceName,
          applicationName,
          stream,
          e.toString());
      return "failed";
    }
  }

  private Scheduler buildScheduler(
      ConfigsBuilder cb, InitialPositionInStreamExtended initial, RetrievalConfig retrieval) {
    long failover = config.get(KinesisOptions.FAILOVER_TIME).toMillis();
    MetricsConfig metrics = cb.metricsConfig();
    CloudWatchMetrics cw = config.get(KinesisOptions.CLOUDWATCH_METRICS);
    if (cw == CloudWatchMetrics.NONE) {
      metrics.metricsFactory(new NullMetricsFactory());
    } else {
      metrics.metricsLevel(
          cw == CloudWatchMetrics.DETAILED ? MetricsLevel.DETAILED : MetricsLevel.SUMMARY);
    }
    return new Scheduler(
        cb.checkpointConfig(),
        cb.coordinatorConfig()
            .parentShardPollIntervalMillis(Math.min(10_000, Math.max(200, failover / 4))),
        leaseManagementConfig(cb, initial),
        cb.lifecycleConfig(),
        metrics,
        cb.processorConfig(),
        retrieval);
  }

  private void runScheduler() {
    try {
      scheduler.run();
      if (!closed) {
        // run() returns early when KCL gave up initializing (maxInitializationAttempts)
        schedulerFailure =
            new IllegalStateException(
                "the KCL scheduler returned without being shut down (it could not initialize; see KCL's log"
                    + " lines of logger software.amazon.kinesis for the cause)");
        LOG.error(
            "event=kinesis_kcl_scheduler_failed pipeline={} source={} application={} error=\"{}\"",
            pipelineId,
            sourceName,
            applicationName,
            schedulerFailure.getMessage());
      }
    } catch (RuntimeException | Error e) {
      schedulerFailure = e;
      LOG.error(
          "event=kinesis_kcl_scheduler_failed pipeline={} source={} application={} error=\"{}\"",
          pipelineId,
          sourceName,
          applicationName,
          e.toString());
    }
  }

  @Override
  public List<PartitionInfo> partitions() {
    ensureOpen();
    List<PartitionInfo> out = new ArrayList<>();
    for (ShardState s : new TreeMap<>(owned).values()) {
      Position initial = s.initial();
      if (initial != null && !s.handingOff()) {
        // KCL itself starts a child shard only after its parents reached SHARD_END, so no parents.
        out.add(PartitionInfo.endUnknown(s.shardId, initial, List.of()));
      }
    }
    return out;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException(
          "Kinesis KCL source " + sourceName + " of pipeline " + pipelineId + " is closed");
    }
    Throwable f = schedulerFailure;
    if (f != null) {
      throw new TributaryException(
          "The KCL scheduler of source "
              + sourceName
              + " (pipeline "
              + pipelineId
              + ", application "
              + applicationName
              + ") stopped: "
              + f,
          f);
    }
  }

  @Override
  public Position fixRangeEnd(String shard, Position from, long maxRecords, long maxBytes) {
    ShardState s = owned.get(shard);
    if (s == null || s.handingOff()) {
      return from;
    }
    List<Record> taken = s.take(from, maxRecords, maxBytes);
    if (taken.isEmpty()) {
      return from;
    }
    Position until = after(taken.get(taken.size() - 1).position().position());
    prefetched.put(shard, new Prefetched(from, until, taken, s));
    return until;
  }

  @Override
  public CloseableIterator<Record> read(OffsetRange range) throws Exception {
    String shard = range.partition();
    if (range.isEmpty()) {
      return CloseableIterator.of(List.of());
    }
    ShardState s = owned.get(shard);
    Prefetched p = prefetched.remove(shard);
    if (s == null) {
      skippedRanges.increment();
      LOG.info(
          "event=kinesis_kcl_range_skipped pipeline={} source={} range={} reason=\"this instance holds no"
              + " lease for the shard; its owner reads it from the KCL checkpoint\"",
          pipelineId,
          sourceName,
          range);
      return CloseableIterator.of(List.of());
    }
    if (p != null && p.state == s && p.from.equals(range.from()) && p.until.equals(range.until())) {
      pending.put(shard, new Pending(range.until(), s));
      return CloseableIterator.of(p.records);
    }
    // A replay (or a retry of a batch whose prefetched records were handed out already): read the
    // planned range again from Kinesis, but not what the KCL checkpoint says was read before.
    Position from = range.from();
    Position floor = s.floor;
    if (floor != null && floor.compareTo(from) > 0) {
      skippedRanges.increment();
      LOG.info(
          "event=kinesis_kcl_range_cut pipeline={} source={} range={} kcl_checkpoint_after={} reason=\"the"
              + " lease's checkpoint is past the range's start\"",
          pipelineId,
          sourceName,
          range,
          floor);
      from = floor;
    }
    if (from.compareTo(range.until()) >= 0) {
      return CloseableIterator.of(List.of());
    }
    pending.put(shard, new Pending(range.until(), s));
    return rangeReader.read(new OffsetRange(shard, from, range.until()));
  }

  @Override
  public void onBatchCommitted(long batchId, List<OffsetRange> ranges) {
    prefetched.clear();
    Map<String, Pending> done = new LinkedHashMap<>(pending);
    pending.clear();
    for (Map.Entry<String, Pending> e : done.entrySet()) {
      e.getValue().state.committed(e.getValue().until, batchId);
    }
    for (ShardState s : owned.values()) {
      s.wakeAll(); // a hand-off may be waiting for this batch
    }
    // Also retry checkpoints that failed before (throttling, KCL not yet past a replayed range).
    for (ShardState s : owned.values()) {
      s.checkpointCommitted("batch " + batchId, null);
    }
  }

  /** The position just after the record at {@code p}. */
  private static Position after(Position p) {
    return Position.of(p.sequence(), p.sub() + 1);
  }

  /**
   * The lag gauge {@code tributary.kinesis.millis.behind.latest} of {@code shard} (the same meter
   * as the {@code kinesis} source's), registered while this instance holds the shard's lease.
   */
  private java.util.concurrent.atomic.AtomicLong lagOf(String shard) {
    return lag.computeIfAbsent(
        shard,
        k -> {
          var v = new java.util.concurrent.atomic.AtomicLong(-1);
          Gauge.builder(
                  "tributary.kinesis.millis.behind.latest",
                  v,
                  java.util.concurrent.atomic.AtomicLong::get)
              .description(
                  "MillisBehindLatest of the shard's last GetRecords (-1: none yet); kinesis-kcl: shards"
                      + " this instance leases")
              .tag("pipeline", pipelineId)
              .tag("source", sourceName)
              .tag("shard", k)
              .register(meters);
          return v;
        });
  }

  /** Unregisters {@code shard}'s lag gauge once this instance no longer leases it. */
  private void dropLag(String shard) {
    if (lag.remove(shard) != null && meters != null) {
      meters
          .find("tributary.kinesis.millis.behind.latest")
          .tag("pipeline", pipelineId)
          .tag("source", sourceName)
          .tag("shard", shard)
          .meters()
          .forEach(meters::remove);
    }
  }

  /** MillisBehindLatest per shard this instance leases, as of KCL's last GetRecords of it. */
  @Override
  public Map<String, Long> millisBehindLatest() {
    Map<String, Long> out = new TreeMap<>();
    lag.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** Shards this instance holds a lease for now (those KCL handed to this worker). */
  public List<String> leasedShards() {
    return List.copyOf(new TreeMap<>(owned).keySet());
  }

  /** This instance's KCL worker id. */
  public String workerId() {
    return workerId;
  }

  @Override
  public void close() throws Exception {
    if (closed) {
      return;
    }
    closed = true;
    boolean interrupted = Thread.interrupted();
    try {
      for (ShardState s : owned.values()) {
        s.wakeAll();
      }
      if (scheduler != null) {
        try {
          // Final checkpoints of what committed (shutdownRequested), then the leases are released.
          scheduler.startGracefulShutdown().get(shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
          LOG.warn(
              "event=kinesis_kcl_shutdown_incomplete pipeline={} source={} error=\"{}\" action=\"stopping the"
                  + " scheduler at once; leases expire after failover-time\"",
              pipelineId,
              sourceName,
              e.toString());
          scheduler.shutdown();
        } catch (InterruptedException e) {
          interrupted = true;
          scheduler.shutdown();
        }
      }
      if (schedulerThread != null) {
        schedulerThread.join(TimeUnit.SECONDS.toMillis(10));
      }
    } catch (InterruptedException e) {
      interrupted = true;
    } finally {
      owned.clear();
      prefetched.clear();
      if (clients != null) {
        clients.close();
        clients = null;
      }
      rangeReader.close();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    LOG.info(
        "event=kinesis_kcl_source_closed pipeline={} source={} application={} worker={}",
        pipelineId,
        sourceName,
        applicationName,
        workerId);
  }

  @Override
  public String toString() {
    return "KinesisKclSource{stream="
        + stream
        + ", application="
        + applicationName
        + ", worker="
        + workerId
        + "}";
  }

  private record Prefetched(
      Position from, Position until, List<Record> records, ShardState state) {}

  private record Pending(Position until, ShardState state) {}

  /** One lease of one shard held by this worker: KCL's processor state and the record buffer. */
  private final class ShardState {
    final String shardId;
    final ReentrantLock lock = new ReentrantLock();
    final Condition changed = lock.newCondition();
    final ArrayDeque<Record> buffer = new ArrayDeque<>();

    /** After the KCL checkpoint found when the lease was taken; null when it was a sentinel. */
    final Position floor;

    Position initial;
    Position delivered;
    Position committed;
    Position checkpointed;
    RecordProcessorCheckpointer checkpointer;
    boolean ended;
    boolean lost;
    boolean handoff;

    ShardState(String shardId, Position kclFloor, Position sinkFloor) {
      this.shardId = shardId;
      this.floor =
          sinkFloor == null || (kclFloor != null && !kclFloor.isBefore(sinkFloor))
              ? kclFloor
              : sinkFloor;
      this.initial = floor;
      this.checkpointed = kclFloor;
      // Committed to the sink by an earlier owner but not KCL-checkpointed: checkpoint it (once KCL
      // delivered that far).
      this.committed = floor == kclFloor ? null : sinkFloor;
    }

    Position initial() {
      lock.lock();
      try {
        return initial;
      } finally {
        lock.unlock();
      }
    }

    void add(List<KinesisClientRecord> records, RecordProcessorCheckpointer cp)
        throws InterruptedException {
      lock.lock();
      try {
        checkpointer = cp;
        for (KinesisClientRecord kr : records) {
          while (buffer.size() >= maxBuffered && !lost && !closed) {
            changed.await(1, TimeUnit.SECONDS);
          }
          if (lost || closed) {
            return;
          }
          Record r = toRecord(kr);
          Position p = r.position().position();
          if (initial == null) {
            initial = p;
          }
          if (p.isBefore(initial)) {
            continue; // KCL re-delivered a record before the checkpoint (aggregate): already read
          }
          buffer.addLast(r);
          delivered = after(p);
        }
      } finally {
        lock.unlock();
      }
    }

    List<Record> take(Position from, long maxRecords, long maxBytes) {
      lock.lock();
      try {
        while (!buffer.isEmpty() && buffer.peekFirst().position().position().isBefore(from)) {
          buffer.pollFirst(); // read already by a replay through GetRecords
        }
        List<Record> out = new ArrayList<>();
        long bytes = 0;
        while (!buffer.isEmpty()
            && out.size() < maxRecords
            && (out.isEmpty() || bytes < maxBytes)) {
          Record r = buffer.pollFirst();
          out.add(r);
          bytes += r.sizeInBytes();
        }
        if (!out.isEmpty()) {
          changed.signalAll();
        }
        return out;
      } finally {
        lock.unlock();
      }
    }

    void committed(Position until, long batchId) {
      lock.lock();
      try {
        if (committed == null || committed.isBefore(until)) {
          committed = until;
        }
        changed.signalAll();
      } finally {
        lock.unlock();
      }
      checkpointCommitted("batch " + batchId, null);
    }

    /**
     * Writes the KCL checkpoint of what committed, if it moved; failures are logged and retried at
     * the next commit. {@code via} is the checkpointer KCL handed to a lifecycle call, if any.
     */
    void checkpointCommitted(String why, RecordProcessorCheckpointer via) {
      Position target;
      RecordProcessorCheckpointer cp;
      lock.lock();
      try {
        target = committed;
        cp = via != null ? via : checkpointer;
        if (lost || cp == null || target == null || target.sub() == 0) {
          return;
        }
        if (checkpointed != null && !checkpointed.isBefore(target)) {
          return;
        }
      } finally {
        lock.unlock();
      }
      String seq = target.sequence().toString();
      long sub = target.sub() - 1;
      try {
        cp.checkpoint(seq, sub);
        checkpoints.increment();
        lock.lock();
        try {
          if (checkpointed == null || checkpointed.isBefore(target)) {
            checkpointed = target;
          }
        } finally {
          lock.unlock();
        }
        LOG.debug(
            "event=kinesis_kcl_checkpoint pipeline={} source={} shard={} sequence={} sub={} after={}",
            pipelineId,
            sourceName,
            shardId,
            seq,
            sub,
            why);
      } catch (ShutdownException e) {
        checkpointFailures.increment();
        markLost();
        LOG.info(
            "event=kinesis_kcl_checkpoint_refused pipeline={} source={} shard={} position={} reason=\"lease"
                + " lost; the new owner reads from the previous checkpoint (at-least-once)\"",
            pipelineId,
            sourceName,
            shardId,
            target);
      } catch (IllegalArgumentException e) {
        // KCL has not delivered up to there yet (a replayed range read by GetRecords): later.
        LOG.debug(
            "event=kinesis_kcl_checkpoint_deferred pipeline={} source={} shard={} position={} reason=\"{}\"",
            pipelineId,
            sourceName,
            shardId,
            target,
            e.getMessage());
      } catch (Exception e) {
        checkpointFailures.increment();
        LOG.warn(
            "event=kinesis_kcl_checkpoint_failed pipeline={} source={} shard={} position={} error=\"{}\""
                + " action=\"retried after the next batch commit\"",
            pipelineId,
            sourceName,
            shardId,
            target,
            e.toString());
      }
    }

    /** Waits until every delivered record committed (or the lease is lost or the source closed). */
    boolean awaitAllCommitted() throws InterruptedException {
      lock.lock();
      try {
        ended = true;
        while (!lost && !closed) {
          boolean drained =
              buffer.isEmpty()
                  && (delivered == null || (committed != null && !committed.isBefore(delivered)));
          if (drained) {
            return true;
          }
          changed.await(1, TimeUnit.SECONDS);
        }
        return false;
      } finally {
        lock.unlock();
      }
    }

    boolean isLost() {
      lock.lock();
      try {
        return lost;
      } finally {
        lock.unlock();
      }
    }

    boolean handingOff() {
      lock.lock();
      try {
        return handoff;
      } finally {
        lock.unlock();
      }
    }

    /**
     * Stops planning this shard and waits (at most {@code timeout}) until no batch holding its
     * records is in flight, so the checkpoint written next covers everything this instance will
     * commit for it: the lease then moves without records read twice.
     */
    boolean handOff(Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      lock.lock();
      try {
        handoff = true;
        while (!lost && !closed) {
          Prefetched p = prefetched.get(shardId);
          Pending q = pending.get(shardId);
          if ((p == null || p.state != this) && (q == null || q.state != this)) {
            return true;
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          changed.await(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
        }
        return !lost;
      } finally {
        lock.unlock();
      }
    }

    void markLost() {
      lock.lock();
      try {
        lost = true;
        buffer.clear();
        changed.signalAll();
      } finally {
        lock.unlock();
      }
      if (owned.remove(shardId, this)) {
        dropLag(shardId);
      }
    }

    void wakeAll() {
      lock.lock();
      try {
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    private Record toRecord(KinesisClientRecord kr) {
      ByteBuffer data = kr.data().duplicate();
      byte[] value = new byte[data.remaining()];
      data.get(value);
      long ts =
          kr.approximateArrivalTimestamp() == null
              ? -1
              : kr.approximateArrivalTimestamp().toEpochMilli();
      return new Record(
          kr.partitionKey().getBytes(StandardCharsets.UTF_8),
          value,
          ts,
          Map.of(),
          new SourcePosition(
              sourceName,
              shardId,
              Position.of(new BigInteger(kr.sequenceNumber()), kr.subSequenceNumber())));
    }
  }

  /** KCL's record processor of one shard lease; KCL calls it from one thread at a time. */
  private final class Processor implements ShardRecordProcessor {
    private ShardState state;

    @Override
    public void initialize(InitializationInput input) {
      ExtendedSequenceNumber esn = input.extendedSequenceNumber();
      Position floor = null;
      if (esn != null && !esn.isSentinelCheckpoint()) {
        floor = Position.of(new BigInteger(esn.sequenceNumber()), esn.subSequenceNumber() + 1);
      }
      Position sinkFloor = sinkPosition(input.shardId(), floor);
      state = new ShardState(input.shardId(), floor, sinkFloor);
      lagOf(input.shardId());
      ShardState previous = owned.put(input.shardId(), state);
      if (previous != null) {
        previous.markLost();
        owned.put(input.shardId(), state);
      }
      LOG.info(
          "event=kinesis_kcl_lease_taken pipeline={} source={} shard={} worker={} kcl_checkpoint={}",
          pipelineId,
          sourceName,
          input.shardId(),
          workerId,
          esn);
    }

    /**
     * The position the carrying sink committed for {@code shard}, if a sink carries positions; read
     * when this worker takes the lease. A failure to read fails KCL's initialize, which KCL retries
     * (the shard is not read before its position is known).
     */
    private Position sinkPosition(String shard, Position kclFloor) {
      SharedPositionsStore store = sharedStore;
      if (store == null) {
        return null;
      }
      Position p;
      try {
        p = store.committedPositions(positionsScope).get(shard);
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new RetriableException(
            "Kinesis KCL source "
                + sourceName
                + " of pipeline "
                + pipelineId
                + " could not read the committed position of shard "
                + shard
                + " from its sink: "
                + e,
            e);
      }
      if (p != null && (kclFloor == null || kclFloor.isBefore(p))) {
        LOG.info(
            "event=kinesis_kcl_sink_position_ahead pipeline={} source={} shard={} sink_position={}"
                + " kcl_checkpoint_after={} reason=\"an earlier owner committed past its KCL checkpoint;"
                + " starting after the sink's position\"",
            pipelineId,
            sourceName,
            shard,
            p,
            kclFloor);
      }
      return p;
    }

    @Override
    public void processRecords(ProcessRecordsInput input) {
      Long behind = input.millisBehindLatest();
      if (behind != null) {
        lagOf(state.shardId).set(behind);
      }
      try {
        state.add(input.records(), input.checkpointer());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      // A checkpoint deferred because KCL had not delivered that far yet may be possible now.
      state.checkpointCommitted("delivery", input.checkpointer());
    }

    @Override
    public void leaseLost(LeaseLostInput input) {
      state.markLost();
      LOG.info(
          "event=kinesis_kcl_lease_lost pipeline={} source={} shard={} worker={}",
          pipelineId,
          sourceName,
          state.shardId,
          workerId);
    }

    @Override
    public void shardEnded(ShardEndedInput input) {
      try {
        if (!state.awaitAllCommitted()) {
          return; // lease lost or closing: KCL retries the shard end with the next owner
        }
        input.checkpointer().checkpoint();
        checkpoints.increment();
        LOG.info(
            "event=kinesis_kcl_shard_ended pipeline={} source={} shard={} reason=\"every record committed;"
                + " checkpointed SHARD_END, KCL starts the child shards\"",
            pipelineId,
            sourceName,
            state.shardId);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        checkpointFailures.increment();
        LOG.warn(
            "event=kinesis_kcl_shard_end_checkpoint_failed pipeline={} source={} shard={} error=\"{}\"",
            pipelineId,
            sourceName,
            state.shardId,
            e.toString());
      } finally {
        if (owned.remove(state.shardId, state)) {
          dropLag(state.shardId);
        }
      }
    }

    @Override
    public void shutdownRequested(ShutdownRequestedInput input) {
      // KCL hands the lease to another worker (rebalancing) or shuts down: finish what is in
      // flight,
      // then checkpoint it, so the next owner starts exactly after what this instance committed.
      boolean quiet;
      try {
        quiet = state.handOff(handOffTimeout);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        quiet = false;
      }
      state.checkpointCommitted("shutdown", input.checkpointer());
      LOG.info(
          "event=kinesis_kcl_lease_handoff pipeline={} source={} shard={} worker={} in_flight_committed={}"
              + " checkpoint={}",
          pipelineId,
          sourceName,
          state.shardId,
          workerId,
          quiet,
          state.checkpointed);
    }
  }
}
