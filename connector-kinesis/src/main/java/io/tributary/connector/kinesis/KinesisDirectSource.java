package io.tributary.connector.kinesis;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tributary.connector.kinesis.KinesisOptions.OnExpired;
import io.tributary.connector.kinesis.KinesisOptions.StartingPosition;
import io.tributary.connector.kinesis.internal.KinesisClients;
import io.tributary.connector.kinesis.internal.KinesisClients.Target;
import io.tributary.connector.kinesis.internal.KplAggregation;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.RangeEndByReading;
import io.tributary.core.api.Record;
import io.tributary.core.api.ReportsTimeLag;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.InvalidArgumentException;
import software.amazon.awssdk.services.kinesis.model.ListShardsRequest;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * Reads a Kinesis data stream as a {@link DirectSource}: shards are partitions, positions are
 * sequence numbers, and the end of each batch's range is fixed by reading ({@link
 * RangeEndByReading}) while the batch is planned, so {@code offsets/N} holds the exact range before
 * any sink sees a record and a replay reads exactly the same records.
 *
 * <p>Positions (as written in {@code offsets/N}): {@code "<seq>#<n>"} means "everything before
 * sub-record {@code n} of the record with sequence number {@code seq}" (a plain record is
 * sub-record 0, so the position after it is {@code <seq>#1}; records of a KPL aggregate are
 * numbered in order). Reading from it asks for AT_SEQUENCE_NUMBER {@code seq} and skips what was
 * read. {@code 0} is the shard's trim horizon, {@code "0#<millis>"} the first record at or after
 * that arrival time (how {@code latest} and {@code at-timestamp} are pinned), and {@code "<seq>"}
 * (no {@code #}) the record with that sequence number inclusive (an explicit starting position).
 *
 * <p>Resharding: {@link #partitions()} reports each shard's parents; the planner reads a child only
 * after its parents are read to their end. A shard's end is detected when GetRecords returns no
 * next iterator (not by EndingSequenceNumber, which is not the last record's number); from then on
 * the shard is reported closed with that end, and it is forgotten once Kinesis stops listing it.
 *
 * <p>Expired data: a range that starts at a record Kinesis no longer holds fails with {@link
 * DataUnavailableException}, or with {@code on-expired: skip} continues at the oldest retained
 * record, logs a warning and counts {@code tributary.kinesis.expired.gaps}. Throttling is retried
 * with exponential backoff (counted in {@code tributary.kinesis.throttled}); other transient
 * failures are retried until {@code read-timeout}. {@code tributary.kinesis.millis.behind.latest}
 * is each shard's lag as of its last GetRecords.
 *
 * <p>Memory: records read while fixing a range end are kept until that range's {@code read},
 * bounded by the planner's per-range record and byte limits (admission control); a replayed range
 * is read page by page (one GetRecords page at a time).
 *
 * <p>Thread safety: {@link #partitions()} and {@link #fixRangeEnd} are called from the batch
 * thread; {@link #read} from several reader threads at once (the SDK client is thread-safe and each
 * read has its own shard iterator).
 */
public final class KinesisDirectSource implements DirectSource, RangeEndByReading, ReportsTimeLag {
  private static final Logger LOG = LoggerFactory.getLogger(KinesisDirectSource.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  /** Consecutive empty pages while behind before fixRangeEnd gives up for this batch. */
  private static final int MAX_EMPTY_PAGES = 5;

  static final String DEDUP_TAG = "tributary-dedup-id";
  static final String HEADER_TAG_PREFIX = "header:";

  private final Target target;
  private final StartingPosition startingPosition;
  private final Long startingTimestamp;
  private final Map<String, BigInteger> startingSequences;
  private final OnExpired onExpired;
  private final int getRecordsLimit;
  private final Duration throttleBackoff;
  private final Duration readTimeout;
  private final Duration dedupWindow;
  private final KinesisOptions.Consumer consumer;
  private final String consumerName;

  private final Map<String, Position> initialPositions = new HashMap<>();
  private final Map<String, Position> ended = new ConcurrentHashMap<>();
  private final Map<String, Prefetched> prefetched = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> millisBehind = new ConcurrentHashMap<>();
  private final Map<String, Dedup> dedups = new ConcurrentHashMap<>();

  /** Each listed shard's parents (empty for none), from the last listing. */
  private final Map<String, List<String>> parentsOf = new ConcurrentHashMap<>();

  private final Map<String, EfoShard> efoShards = new HashMap<>();
  private final java.util.Set<String> closedShards = ConcurrentHashMap.newKeySet();
  private KinesisFanOut fanOut;
  private Duration efoRenewAfter;
  private boolean firstListing = true;
  private long latestPinnedAt;

  private KinesisClient client;
  private MeterRegistry meters;
  private String pipelineId = "";
  private String sourceName = "kinesis";
  private Counter throttled;
  private Counter expiredGaps;
  private Counter duplicatesDropped;
  private Counter efoSubscriptions;
  private Counter efoEvents;
  private volatile boolean closed;

  /** Creates the source from options validated by {@link KinesisOptions#SOURCE}. */
  public KinesisDirectSource(Config config) {
    KinesisOptions.checkSource(config);
    this.target =
        new Target(
            config.get(KinesisOptions.STREAM),
            config.get(KinesisOptions.REGION),
            config.get(KinesisOptions.ENDPOINT),
            config.get(KinesisOptions.ACCESS_KEY_ID),
            config.get(KinesisOptions.SECRET_ACCESS_KEY));
    this.startingPosition = config.get(KinesisOptions.STARTING_POSITION);
    String ts = config.get(KinesisOptions.STARTING_TIMESTAMP);
    this.startingTimestamp = ts == null ? null : KinesisOptions.parseTimestamp(ts);
    this.startingSequences = KinesisOptions.startingSequenceNumbers(config);
    this.onExpired = config.get(KinesisOptions.ON_EXPIRED);
    this.getRecordsLimit = config.get(KinesisOptions.GET_RECORDS_LIMIT);
    this.throttleBackoff = config.get(KinesisOptions.THROTTLE_BACKOFF);
    this.readTimeout = config.get(KinesisOptions.READ_TIMEOUT);
    this.dedupWindow = config.get(KinesisOptions.DEDUP_WINDOW);
    this.consumer = config.get(KinesisOptions.CONSUMER);
    this.consumerName = config.get(KinesisOptions.CONSUMER_NAME);
  }

  @Override
  public void open(SourceContext context) {
    this.pipelineId = context.pipelineId();
    this.sourceName = context.sourceName();
    this.meters = context.meterRegistry();
    this.throttled =
        Counter.builder("tributary.kinesis.throttled")
            .description("Kinesis calls of the source that were throttled and retried")
            .tag("pipeline", pipelineId)
            .tag("source", sourceName)
            .register(meters);
    this.expiredGaps =
        Counter.builder("tributary.kinesis.expired.gaps")
            .description("Ranges that started past retention and were skipped (on-expired: skip)")
            .tag("pipeline", pipelineId)
            .tag("source", sourceName)
            .register(meters);
    this.duplicatesDropped =
        Counter.builder("tributary.kinesis.duplicates.dropped")
            .description("Records dropped because their dedup id was seen within dedup-window")
            .tag("pipeline", pipelineId)
            .tag("source", sourceName)
            .register(meters);
    this.efoSubscriptions =
        Counter.builder("tributary.kinesis.efo.subscriptions")
            .description("SubscribeToShard calls (enhanced fan-out), renewals and retries included")
            .tag("pipeline", pipelineId)
            .tag("source", sourceName)
            .register(meters);
    this.efoEvents =
        Counter.builder("tributary.kinesis.efo.events")
            .description("SubscribeToShard events received (enhanced fan-out)")
            .tag("pipeline", pipelineId)
            .tag("source", sourceName)
            .register(meters);
    this.client = KinesisClients.create(target);
    // Fails here, naming the fix, for a missing stream, bad credentials or an unreachable endpoint.
    String streamArn;
    try {
      streamArn =
          client
              .describeStreamSummary(b -> b.streamName(target.stream()))
              .streamDescriptionSummary()
              .streamARN();
    } catch (SdkException e) {
      RuntimeException t = KinesisClients.translate("describe the stream", target, e);
      close();
      throw t;
    }
    if (consumer == KinesisOptions.Consumer.EFO) {
      String name = consumerName != null ? consumerName : defaultConsumerName(pipelineId);
      fanOut =
          new KinesisFanOut(
              target,
              name,
              throttleBackoff,
              readTimeout,
              throttled,
              efoSubscriptions,
              "pipeline=" + pipelineId + " source=" + sourceName);
      if (efoRenewAfter != null) {
        fanOut.renewAfter(efoRenewAfter);
      }
      try {
        fanOut.open(client, streamArn);
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }
    this.latestPinnedAt = System.currentTimeMillis();
    LOG.info(
        "event=kinesis_source_opened pipeline={} source={} stream={} region={} endpoint={}"
            + " starting_position={} on_expired={} dedup_window={} consumer={}",
        pipelineId,
        sourceName,
        target.stream(),
        target.region(),
        target.endpoint() == null ? "aws" : target.endpoint(),
        startingPosition,
        onExpired,
        dedupWindow,
        fanOut == null ? "polling" : "efo:" + fanOut.consumerArn());
  }

  /** The consumer name used when consumer-name is unset: valid characters of the pipeline id. */
  static String defaultConsumerName(String pipelineId) {
    String n = "tributary-" + pipelineId.replaceAll("[^a-zA-Z0-9_.-]", "_");
    return n.length() > 128 ? n.substring(0, 128) : n;
  }

  /**
   * Renews enhanced fan-out subscriptions after {@code d} instead of AWS's 5 minutes (call before
   * {@link #open}). For tests of the renewal.
   */
  void efoRenewAfter(Duration d) {
    this.efoRenewAfter = d;
  }

  @Override
  public List<PartitionInfo> partitions() throws Exception {
    List<Shard> shards = listShards();
    List<PartitionInfo> out = new ArrayList<>(shards.size());
    for (Shard s : shards) {
      String id = s.shardId();
      if (s.sequenceNumberRange() != null
          && s.sequenceNumberRange().endingSequenceNumber() != null) {
        closedShards.add(id); // closed by a split or merge: a finite shard, read with GetRecords
      }
      Position initial = initialPositions.computeIfAbsent(id, this::initialPosition);
      List<String> parents = new ArrayList<>(2);
      if (s.parentShardId() != null) {
        parents.add(s.parentShardId());
      }
      if (s.adjacentParentShardId() != null) {
        parents.add(s.adjacentParentShardId());
      }
      parentsOf.put(id, List.copyOf(parents));
      Position end = ended.get(id);
      if (end != null) {
        out.add(new PartitionInfo(id, initial, Position.max(end, initial), true, parents));
      } else {
        out.add(PartitionInfo.endUnknown(id, initial, parents));
      }
      millisBehind.computeIfAbsent(
          id,
          k -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("tributary.kinesis.millis.behind.latest", v, AtomicLong::get)
                .description("MillisBehindLatest of the shard's last GetRecords")
                .tag("pipeline", pipelineId)
                .tag("source", sourceName)
                .tag("shard", k)
                .register(meters);
            return v;
          });
    }
    firstListing = false;
    return out;
  }

  private Position initialPosition(String shardId) {
    if (!firstListing) {
      LOG.info(
          "event=kinesis_shard_discovered pipeline={} source={} shard={} initial=trim-horizon",
          pipelineId,
          sourceName,
          shardId);
      return Position.ZERO;
    }
    return switch (startingPosition) {
      case TRIM_HORIZON -> Position.ZERO;
      case LATEST -> Position.of(BigInteger.ZERO, latestPinnedAt);
      case AT_TIMESTAMP -> Position.of(BigInteger.ZERO, Math.max(1, startingTimestamp));
      case SEQUENCE_NUMBERS -> {
        BigInteger seq = startingSequences.get(shardId);
        yield seq == null ? Position.ZERO : Position.of(seq);
      }
    };
  }

  private List<Shard> listShards() {
    List<Shard> shards = new ArrayList<>();
    String next = null;
    do {
      String token = next;
      ListShardsRequest req =
          token == null
              ? ListShardsRequest.builder().streamName(target.stream()).build()
              : ListShardsRequest.builder().nextToken(token).build();
      ListShardsResponse resp = call("list the shards", () -> client.listShards(req));
      shards.addAll(resp.shards());
      next = resp.nextToken();
    } while (next != null);
    return shards;
  }

  /**
   * Runs {@code op}, retrying throttling (with backoff, counted) and transient failures until
   * {@code read-timeout}; other failures are translated into errors that say what to fix.
   */
  private <T> T call(String what, Supplier<T> op) {
    long deadline = System.nanoTime() + readTimeout.toNanos();
    long backoff = throttleBackoff.toMillis();
    while (true) {
      try {
        return op.get();
      } catch (SdkException e) {
        RuntimeException t = KinesisClients.translate(what, target, e);
        boolean throttling = KinesisClients.isThrottling(e);
        if (!(t instanceof RetriableException) || System.nanoTime() > deadline || closed) {
          throw t;
        }
        if (throttling) {
          throttled.increment();
        }
        LOG.debug(
            "event=kinesis_call_retry pipeline={} source={} what=\"{}\" throttled={} backoff_ms={} error=\"{}\"",
            pipelineId,
            sourceName,
            what,
            throttling,
            backoff,
            e.getMessage());
        try {
          TimeUnit.MILLISECONDS.sleep(backoff); // backoff between attempts, not synchronisation
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new RetriableException("Interrupted while backing off from: " + t.getMessage(), ie);
        }
        backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
      }
    }
  }

  @Override
  public Position fixRangeEnd(String shard, Position from, long maxRecords, long maxBytes) {
    Position end = ended.get(shard);
    if (end != null && from.compareTo(end) >= 0) {
      return from;
    }
    if (fanOut != null) {
      if (!closedShards.contains(shard)) {
        Position viaEfo = fixRangeEndByFanOut(shard, from, maxRecords, maxBytes);
        if (viaEfo != null) {
          return viaEfo;
        }
      } else {
        EfoShard es;
        synchronized (efoShards) {
          es = efoShards.remove(shard);
        }
        if (es != null) {
          es.sub.close(); // closed since: read to its end with GetRecords
        }
      }
    }
    ShardReader reader = new ShardReader(shard, from);
    List<Record> taken = new ArrayList<>();
    long bytes = 0;
    Position until = from;
    int emptyPages = 0;
    boolean limited = false;
    while (true) {
      // Ask for no more records than the range may still take (a KPL aggregate counts as one).
      Page page =
          reader.next((int) Math.min(getRecordsLimit, Math.max(1, maxRecords - taken.size())));
      for (int i = 0; i < page.records.size(); i++) {
        if (taken.size() >= maxRecords || (bytes >= maxBytes && !taken.isEmpty())) {
          limited = true;
          break;
        }
        Record r = page.records.get(i);
        taken.add(r);
        bytes += r.sizeInBytes();
        until = after(r.position().position());
      }
      if (limited) {
        break;
      }
      if (page.shardEnded) {
        // The end as a whole sequence number (the one after the last record's): a closed
        // partition's end is planned with sequence arithmetic, which drops sub-sequence numbers.
        until = until.sub() > 0 ? until.plus(1) : until;
        ended.put(shard, until);
        LOG.info(
            "event=kinesis_shard_read_to_end pipeline={} source={} shard={} end={}",
            pipelineId,
            sourceName,
            shard,
            until);
        break;
      }
      if (taken.size() >= maxRecords || bytes >= maxBytes) {
        break;
      }
      if (page.millisBehind == 0 && !closedShards.contains(shard)) {
        break; // caught up: what arrives later goes to the next batch
      }
      // A closed shard gets nothing new: it is read on (up to MAX_EMPTY_PAGES empty pages) until
      // Kinesis hands out no next iterator. Kinesis may answer an empty page with an iterator
      // before that null one (kinesalite does so whenever the split or merge came more than a
      // second after the shard's last record), and stopping there would never end the shard.
      if (page.records.isEmpty() && ++emptyPages >= MAX_EMPTY_PAGES) {
        break;
      }
    }
    if (!taken.isEmpty()) {
      prefetched.put(shard, new Prefetched(from, until, taken));
    }
    return until;
  }

  /**
   * {@link #fixRangeEnd} with enhanced fan-out: takes the records the shard's subscription pushed
   * (starting one at {@code from} when the shard has none there), up to the limits, until the
   * subscription is caught up, the shard ended, or no event came within a short wait. Returns null
   * when the subscription cannot start at {@code from} (Kinesis refused the position, or its first
   * record is not the one {@code from} names): the caller reads with GetRecords, which reports
   * expired data.
   */
  private Position fixRangeEndByFanOut(
      String shard, Position from, long maxRecords, long maxBytes) {
    EfoShard es;
    synchronized (efoShards) {
      es = efoShards.get(shard);
      if (es != null && !es.next.equals(from)) {
        es.sub.close(); // planned from elsewhere (a retried plan): start again at `from`
        es = null;
      }
      if (es == null) {
        es = new EfoShard(fanOut.subscribe(shard, from), from);
        efoShards.put(shard, es);
      }
    }
    List<Record> taken = new ArrayList<>();
    long bytes = 0;
    Position until = from;
    boolean limited = false;
    while (true) {
      while (!es.pending.isEmpty()) {
        if (taken.size() >= maxRecords || (bytes >= maxBytes && !taken.isEmpty())) {
          limited = true;
          break;
        }
        Record r = es.pending.poll();
        taken.add(r);
        bytes += r.sizeInBytes();
        until = after(r.position().position());
      }
      if (limited) {
        break;
      }
      if (es.ended) {
        until = until.sub() > 0 ? until.plus(1) : until;
        ended.put(shard, until);
        LOG.info(
            "event=kinesis_shard_read_to_end pipeline={} source={} shard={} end={} via=efo",
            pipelineId,
            sourceName,
            shard,
            until);
        break;
      }
      // Caught up: take what already arrived, wait for nothing. Behind: the next event is due.
      long waitMs = es.caughtUp ? 0 : es.events == 0 ? EFO_FIRST_EVENT_WAIT_MS : EFO_EVENT_WAIT_MS;
      KinesisFanOut.Event ev;
      try {
        ev = (KinesisFanOut.Event) es.sub.poll(waitMs);
      } catch (InvalidArgumentException refused) {
        if (taken.isEmpty() && es.events == 0) {
          dropEfo(shard, es, "Kinesis refused the starting position: " + refused.getMessage());
          return null;
        }
        break;
      }
      if (ev == null) {
        break;
      }
      es.events++;
      efoEvents.increment();
      LOG.debug(
          "event=kinesis_efo_event pipeline={} source={} shard={} records={} millis_behind={}"
              + " continuation={} ended={}",
          pipelineId,
          sourceName,
          shard,
          ev.records().size(),
          ev.millisBehind(),
          ev.continuation(),
          ev.shardEnded());
      AtomicLong lag = millisBehind.get(shard);
      if (lag != null) {
        lag.set(ev.millisBehind());
      }
      es.caughtUp = ev.millisBehind() == 0;
      for (software.amazon.awssdk.services.kinesis.model.Record kr : ev.records()) {
        BigInteger seq = new BigInteger(kr.sequenceNumber());
        if (!es.firstSeen) {
          es.firstSeen = true;
          if (es.start.sub() > 0
              && es.start.sequence().signum() > 0
              && !seq.equals(es.start.sequence())) {
            // the record at `from` was read before, so it must come first: it is gone (retention)
            if (taken.isEmpty()) {
              dropEfo(shard, es, "the first record of the subscription is " + seq);
              return null;
            }
          }
        }
        expand(kr, seq, shard, es.start, es.pending);
      }
      if (ev.shardEnded()) {
        es.ended = true;
      }
    }
    es.next = until;
    if (!taken.isEmpty()) {
      prefetched.put(shard, new Prefetched(from, until, taken));
    }
    return until;
  }

  private void dropEfo(String shard, EfoShard es, String why) {
    es.sub.close();
    synchronized (efoShards) {
      efoShards.remove(shard, es);
    }
    LOG.info(
        "event=kinesis_efo_fallback_to_get_records pipeline={} source={} shard={} from={} reason=\"{}\"",
        pipelineId,
        sourceName,
        shard,
        es.start,
        why);
  }

  /** Longest wait for a new subscription's first event while planning. */
  private static final long EFO_FIRST_EVENT_WAIT_MS = 2000;

  /** Longest wait for the next event of a subscription that is behind. */
  private static final long EFO_EVENT_WAIT_MS = 500;

  /**
   * The enhanced fan-out state of one shard, used by the batch thread only: the subscription, the
   * user records it delivered that no range took yet, and the position after the last one taken.
   */
  private static final class EfoShard {
    final KinesisFanOut.ShardSubscription sub;
    final Position start;
    final java.util.ArrayDeque<Record> pending = new java.util.ArrayDeque<>();
    Position next;
    int events;
    boolean caughtUp;
    boolean ended;
    boolean firstSeen;

    EfoShard(KinesisFanOut.ShardSubscription sub, Position start) {
      this.sub = sub;
      this.start = start;
      this.next = start;
    }
  }

  /** The position just after the record at {@code p}. */
  private static Position after(Position p) {
    return Position.of(p.sequence(), p.sub() + 1);
  }

  @Override
  public CloseableIterator<Record> read(OffsetRange range) {
    if (range.isEmpty()) {
      return CloseableIterator.of(List.of());
    }
    if (closed) {
      throw new IllegalStateException(
          "Kinesis source " + sourceName + " of pipeline " + pipelineId + " is closed");
    }
    Dedup dedup = dedupWindow.isZero() ? null : dedup(range.partition(), range.from());
    Prefetched p = prefetched.remove(range.partition());
    if (p != null && p.from.equals(range.from()) && p.until.equals(range.until())) {
      List<Record> out = dedup == null ? p.records : dedup.filter(p.records, range.until());
      return CloseableIterator.of(out);
    }
    return new RangeIterator(range, dedup);
  }

  private Dedup dedup(String shard, Position from) {
    Dedup d = dedups.get(shard);
    if (d == null || !d.validUpTo.equals(from)) {
      // The ids seen before `from` are unknown (first read, or a replay): rebuild them by reading
      // the window before the range, so the same range drops the same records every time.
      d = new Dedup(dedupWindow.toMillis());
      d.prime(this, shard, from);
      dedups.put(shard, d);
    }
    return d;
  }

  /**
   * The parents of {@code shard}; lists the shards first when it was not listed yet (a replay right
   * after a restart reads before any listing).
   */
  private List<String> parentsOf(String shard) {
    if (!parentsOf.containsKey(shard)) {
      for (Shard s : listShards()) {
        List<String> parents = new ArrayList<>(2);
        if (s.parentShardId() != null) {
          parents.add(s.parentShardId());
        }
        if (s.adjacentParentShardId() != null) {
          parents.add(s.adjacentParentShardId());
        }
        parentsOf.putIfAbsent(s.shardId(), List.copyOf(parents));
      }
    }
    return parentsOf.getOrDefault(shard, List.of());
  }

  @Override
  public void onBatchCommitted(long batchId, List<OffsetRange> ranges) {
    prefetched.clear(); // nothing planned is pending any more
  }

  @Override
  public void close() {
    closed = true;
    prefetched.clear();
    synchronized (efoShards) {
      efoShards.values().forEach(e -> e.sub.close());
      efoShards.clear();
    }
    if (fanOut != null) {
      fanOut.close();
      fanOut = null;
    }
    if (client != null) {
      client.close();
      client = null;
    }
  }

  /** Snapshot of each shard's MillisBehindLatest, for status pages and tests. */
  @Override
  public Map<String, Long> millisBehindLatest() {
    Map<String, Long> out = new LinkedHashMap<>();
    millisBehind.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  private record Prefetched(Position from, Position until, List<Record> records) {}

  /** One GetRecords page, expanded into user records at or after the reader's start. */
  private record Page(List<Record> records, boolean shardEnded, long millisBehind) {}

  /** Reads one shard from a position, page by page, handling expiry, throttling and KPL. */
  private final class ShardReader {
    private final String shard;
    private final Position from;
    private String iterator;
    private boolean first = true;
    private boolean ended;

    ShardReader(String shard, Position from) {
      this.shard = shard;
      this.from = from;
      this.iterator = iteratorFor(from);
    }

    private String iteratorFor(Position p) {
      GetShardIteratorRequest.Builder b =
          GetShardIteratorRequest.builder().streamName(target.stream()).shardId(shard);
      if (p.equals(Position.ZERO)) {
        b.shardIteratorType(ShardIteratorType.TRIM_HORIZON);
      } else if (p.sequence().signum() == 0) {
        b.shardIteratorType(ShardIteratorType.AT_TIMESTAMP)
            .timestamp(Instant.ofEpochMilli(p.sub()));
      } else {
        b.shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER)
            .startingSequenceNumber(p.sequence().toString());
      }
      GetShardIteratorRequest req = b.build();
      try {
        return call(
            "get a shard iterator for " + shard + " at " + p,
            () -> client.getShardIterator(req).shardIterator());
      } catch (RuntimeException e) {
        // call() translates the SDK's exception: a refused argument arrives as its cause
        boolean refused =
            e instanceof InvalidArgumentException
                || e.getCause() instanceof InvalidArgumentException;
        if (!refused && !(e instanceof ConfigException)) {
          throw e;
        }
        if (p.sub() == 0 && p.sequence().signum() > 0) {
          // A whole sequence number without a record: the end this source reports for a shard read
          // to its end (the last record's number + 1, see fixRangeEnd). Read after the record
          // before it; a missing stream fails there again with the same message.
          GetShardIteratorRequest after =
              GetShardIteratorRequest.builder()
                  .streamName(target.stream())
                  .shardId(shard)
                  .shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER)
                  .startingSequenceNumber(p.sequence().subtract(BigInteger.ONE).toString())
                  .build();
          return call(
              "get a shard iterator for " + shard + " after " + p,
              () -> client.getShardIterator(after).shardIterator());
        }
        if (!refused) {
          throw e;
        }
        if (p.sequence().signum() > 0) {
          // An AT_SEQUENCE_NUMBER Kinesis refuses: the record is past retention (or never existed).
          return expired(p, "Kinesis refused the sequence number: " + e.getMessage());
        }
        throw e;
      }
    }

    private String expired(Position p, String detail) {
      if (onExpired == OnExpired.FAIL) {
        throw new DataUnavailableException(
            "Kinesis "
                + target.describe()
                + " shard "
                + shard
                + ": position "
                + p
                + " is no longer readable ("
                + detail
                + "); the records from there on were removed by the stream's retention. Nothing was"
                + " skipped: to continue at the oldest retained record and accept the gap, set on-expired:"
                + " skip.");
      }
      expiredGaps.increment();
      LOG.warn(
          "event=kinesis_expired_gap_skipped pipeline={} source={} shard={} position={} detail=\"{}\""
              + " action=\"continuing at trim-horizon; records in between are lost\"",
          pipelineId,
          sourceName,
          shard,
          p,
          detail);
      first = false;
      GetShardIteratorRequest req =
          GetShardIteratorRequest.builder()
              .streamName(target.stream())
              .shardId(shard)
              .shardIteratorType(ShardIteratorType.TRIM_HORIZON)
              .build();
      return call(
          "get a shard iterator for " + shard + " at trim-horizon",
          () -> client.getShardIterator(req).shardIterator());
    }

    Page next() {
      return next(getRecordsLimit);
    }

    Page next(int limit) {
      if (ended || iterator == null) {
        return new Page(List.of(), true, 0);
      }
      String it = iterator;
      GetRecordsResponse resp =
          call(
              "read shard " + shard,
              () -> client.getRecords(b -> b.shardIterator(it).limit(limit)));
      iterator = resp.nextShardIterator();
      long behind = resp.millisBehindLatest() == null ? 0 : resp.millisBehindLatest();
      AtomicLong lag = millisBehind.get(shard);
      if (lag != null) {
        lag.set(behind);
      }
      List<Record> out = new ArrayList<>(resp.records().size());
      for (software.amazon.awssdk.services.kinesis.model.Record kr : resp.records()) {
        BigInteger seq = new BigInteger(kr.sequenceNumber());
        if (first) {
          first = false;
          if (from.sub() > 0 && from.sequence().signum() > 0 && !seq.equals(from.sequence())) {
            // The record at `from` was read before (positions past a record carry #n), so it
            // must come first: a later one means retention removed it and what followed.
            expired(from, "the first record Kinesis returned is " + seq);
            // on-expired: skip -> the page continues from the oldest retained record
          }
        }
        expand(kr, seq, out);
      }
      if (!resp.records().isEmpty()) {
        first = false;
      }
      if (iterator == null) {
        ended = true;
      }
      return new Page(out, ended, behind);
    }

    private void expand(
        software.amazon.awssdk.services.kinesis.model.Record kr, BigInteger seq, List<Record> out) {
      KinesisDirectSource.this.expand(kr, seq, shard, from, out);
    }
  }

  /**
   * Adds the user records of {@code kr} (one, or a KPL aggregate's) at or after {@code from} to
   * {@code out}.
   */
  private void expand(
      software.amazon.awssdk.services.kinesis.model.Record kr,
      BigInteger seq,
      String shard,
      Position from,
      java.util.Collection<Record> out) {
    byte[] data = kr.data().asByteArrayUnsafe();
    long ts =
        kr.approximateArrivalTimestamp() == null
            ? -1
            : kr.approximateArrivalTimestamp().toEpochMilli();
    List<KplAggregation.UserRecord> users = KplAggregation.decode(data);
    if (users == null) {
      Position p = Position.of(seq, 0);
      if (!p.isBefore(from)) {
        out.add(
            new Record(
                kr.partitionKey().getBytes(StandardCharsets.UTF_8),
                data,
                ts,
                Map.of(),
                new SourcePosition(sourceName, shard, p)));
      }
      return;
    }
    for (int i = 0; i < users.size(); i++) {
      Position p = Position.of(seq, i);
      if (p.isBefore(from)) {
        continue;
      }
      KplAggregation.UserRecord u = users.get(i);
      Map<String, byte[]> headers = Map.of();
      if (!u.tags().isEmpty()) {
        headers = new LinkedHashMap<>();
        for (Map.Entry<String, String> t : u.tags().entrySet()) {
          if (t.getKey().startsWith(HEADER_TAG_PREFIX) && t.getValue() != null) {
            headers.put(
                t.getKey().substring(HEADER_TAG_PREFIX.length()),
                Base64.getDecoder().decode(t.getValue()));
          } else if (t.getKey().equals(DEDUP_TAG) && t.getValue() != null) {
            headers.put(DEDUP_TAG, t.getValue().getBytes(StandardCharsets.UTF_8));
          }
        }
      }
      out.add(
          new Record(
              u.partitionKey().getBytes(StandardCharsets.UTF_8),
              u.data(),
              ts,
              headers,
              new SourcePosition(sourceName, shard, p)));
    }
  }

  /** Reads a planned range that was not prefetched (a replay): page by page up to {@code until}. */
  private final class RangeIterator implements CloseableIterator<Record> {
    private final OffsetRange range;
    private final ShardReader reader;
    private final Dedup dedup;
    private List<Record> page = List.of();
    private int index;
    private boolean done;
    private long lastProgress = System.nanoTime();

    RangeIterator(OffsetRange range, Dedup dedup) {
      this.range = range;
      this.dedup = dedup;
      this.reader = new ShardReader(range.partition(), range.from());
    }

    @Override
    public boolean hasNext() {
      while (!done && index >= page.size()) {
        if (closed) {
          throw new IllegalStateException("Kinesis source " + sourceName + " closed while reading");
        }
        Page p = reader.next();
        List<Record> in = new ArrayList<>(p.records.size());
        for (Record r : p.records) {
          if (r.position().position().compareTo(range.until()) >= 0) {
            done = true;
            break;
          }
          in.add(r);
        }
        if (!in.isEmpty()) {
          lastProgress = System.nanoTime();
          Position last = in.get(in.size() - 1).position().position();
          if (!after(last).isBefore(range.until())) {
            done = true;
          }
        }
        if (p.shardEnded) {
          done = true;
        }
        if (!done && in.isEmpty() && System.nanoTime() - lastProgress > readTimeout.toNanos()) {
          throw new RetriableException(
              "Kinesis "
                  + target.describe()
                  + " shard "
                  + shard()
                  + ": no records for "
                  + readTimeout
                  + " while reading planned range "
                  + range
                  + " (the planned records were read before, so Kinesis is lagging or failing)");
        }
        page = dedup == null ? in : dedup.filter(in, done ? range.until() : null);
        index = 0;
      }
      return index < page.size();
    }

    private String shard() {
      return range.partition();
    }

    @Override
    public Record next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return page.get(index++);
    }

    @Override
    public void close() {
      done = true;
    }
  }

  /**
   * Dedup ids seen in one shard within the window (by arrival time), valid for reading on from
   * {@link #validUpTo}.
   */
  private final class Dedup {
    private final long windowMs;
    private final LinkedHashMap<String, Long> seen = new LinkedHashMap<>();
    private Position validUpTo = Position.ZERO;

    Dedup(long windowMs) {
      this.windowMs = windowMs;
    }

    /**
     * Learns the ids of the window before {@code from} by reading it: the shard's own records
     * before {@code from}, and before them the records its parent shards (and theirs) got within
     * the window, because a copy written after a split or merge lands in a child while its original
     * is in a parent.
     */
    void prime(KinesisDirectSource src, String shard, Position from) {
      validUpTo = from;
      boolean startOfShard = from.equals(Position.ZERO);
      if (from.sequence().signum() == 0 && !startOfShard) {
        return; // a timestamp (latest, at-timestamp): nothing before it counts
      }
      // Arrival time of the first record of the range (trim horizon) or of the record at `from`.
      ShardReader probe =
          src.new ShardReader(shard, startOfShard ? Position.ZERO : Position.of(from.sequence()));
      Page p = probe.next(1);
      if (p.records.isEmpty()) {
        return;
      }
      long t0 = p.records.get(0).timestamp();
      Position start = Position.of(BigInteger.ZERO, Math.max(1, t0 - windowMs));
      primeAncestors(src, shard, start, new HashSet<>());
      if (!startOfShard) {
        readBack(src, shard, start, from);
      }
    }

    /** Remembers the window's records of the parents of {@code shard}, oldest ancestors first. */
    private void primeAncestors(
        KinesisDirectSource src, String shard, Position start, Set<String> done) {
      for (String parent : src.parentsOf(shard)) {
        if (done.add(parent) && src.parentsOf.containsKey(parent)) {
          primeAncestors(src, parent, start, done);
          readBack(src, parent, start, null); // a parent is closed: read to its end
        }
      }
    }

    /** Remembers the records of {@code shard} from {@code start} up to {@code until} or its end. */
    private void readBack(KinesisDirectSource src, String shard, Position start, Position until) {
      ShardReader back = src.new ShardReader(shard, start);
      while (true) {
        Page page = back.next();
        for (Record r : page.records) {
          if (until != null && !r.position().position().isBefore(until)) {
            return;
          }
          remember(r);
        }
        if (page.shardEnded || (page.records.isEmpty() && page.millisBehind == 0)) {
          return;
        }
      }
    }

    private boolean remember(Record r) {
      byte[] id = r.headers().get(DEDUP_TAG);
      if (id == null) {
        return true;
      }
      long t = r.timestamp();
      String key = new String(id, StandardCharsets.UTF_8);
      // forget ids older than the window (entries are in arrival order)
      var it = seen.entrySet().iterator();
      while (it.hasNext()) {
        if (it.next().getValue() < t - windowMs) {
          it.remove();
        } else {
          break;
        }
      }
      Long first = seen.get(key);
      if (first != null && first >= t - windowMs) {
        return false; // a copy within the window of the first one
      }
      // new, or a copy later than the window after the first (kept, and counted from now): the
      // decision depends only on the two arrival times, not on how far the eviction above got
      seen.remove(key);
      seen.put(key, t);
      return true;
    }

    /** Drops records seen before; advances the valid position to {@code until} when given. */
    synchronized List<Record> filter(List<Record> records, Position until) {
      List<Record> out = new ArrayList<>(records.size());
      for (Record r : records) {
        if (remember(r)) {
          out.add(r);
        } else {
          duplicatesDropped.increment();
        }
      }
      if (until != null) {
        validUpTo = until;
      } else if (!records.isEmpty()) {
        validUpTo = after(records.get(records.size() - 1).position().position());
      }
      return out;
    }
  }
}
