package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.baseConfig;
import static io.tributary.connector.kinesis.KinesisTestSupport.batch;
import static io.tributary.connector.kinesis.KinesisTestSupport.open;
import static io.tributary.connector.kinesis.KinesisTestSupport.put;
import static io.tributary.connector.kinesis.KinesisTestSupport.read;
import static io.tributary.connector.kinesis.KinesisTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.kinesis.internal.KplAggregation;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.Record;
import io.tributary.core.internal.DirectPlanner;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.Shard;

/** {@link KinesisDirectSource} against kinesis-mock, planned by the runtime's real planner. */
class KinesisDirectSourceIT {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private final LocalKinesis kinesis = LocalKinesis.get();
  private KinesisClient k;
  private String stream;
  private final List<KinesisDirectSource> sources = new ArrayList<>();

  @BeforeEach
  void setUp(TestInfo info) {
    k = kinesis.client();
    stream = "src-" + info.getTestMethod().orElseThrow().getName() + "-" + System.nanoTime();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (KinesisDirectSource s : sources) {
      s.close();
      s.close();
    }
    k.close();
  }

  private KinesisDirectSource source(Map<String, Object> config) throws Exception {
    KinesisDirectSource s = open(config);
    sources.add(s);
    return s;
  }

  private Map<String, Object> config() {
    return baseConfig(kinesis.endpoint(), stream);
  }

  /** Reads batches until {@code n} records arrived; returns them and the batches' ranges. */
  private List<Record> readUntil(
      DirectPlanner planner, KinesisDirectSource s, int n, List<List<OffsetRange>> plans) {
    List<Record> all = new ArrayList<>();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              KinesisTestSupport.Batch b = batch(planner, s, 0);
              plans.add(b.ranges());
              all.addAll(b.records());
              return all.size() >= n;
            });
    return all;
  }

  @Test
  void trimHorizonReadsEveryShardAndAReplayReadsExactlyThePlannedRecords() throws Exception {
    LocalKinesis.createStream(k, stream, 4);
    put(k, stream, 0, 400, 16);
    Map<String, Object> c = config();
    c.put("starting-position", "trim_horizon");
    KinesisDirectSource s = source(c);
    DirectPlanner planner = new DirectPlanner(50, 0, 1000);
    List<List<OffsetRange>> plans = new ArrayList<>();
    List<Record> all = readUntil(planner, s, 400, plans);
    assertThat(values(all)).containsExactlyInAnyOrderElementsOf(range(0, 400));
    assertOrderedPerKey(all, 16);
    // admission control: no range held more than 50 records
    assertThat(all.stream().map(r -> r.position().partition()).distinct()).hasSize(4);

    // records arriving after planning are not part of a planned range: a fresh source (a restart)
    // reads each recorded range and gets exactly what the first run got
    put(k, stream, 400, 500, 16);
    KinesisDirectSource replay = source(c);
    List<Record> again = new ArrayList<>();
    for (List<OffsetRange> plan : plans) {
      for (OffsetRange r : plan) {
        List<Record> got = read(replay, r);
        assertThat(got.size()).isLessThanOrEqualTo(50);
        again.addAll(got);
      }
    }
    assertThat(again).containsExactlyInAnyOrderElementsOf(all);
  }

  @Test
  void latestStartsAfterTheFirstListing() throws Exception {
    LocalKinesis.createStream(k, stream, 2);
    put(k, stream, 0, 50, 4);
    KinesisDirectSource s = source(config()); // latest is the default
    DirectPlanner planner = new DirectPlanner(0, 0, 1000);
    KinesisTestSupport.Batch first = batch(planner, s, 0);
    assertThat(first.records()).isEmpty();
    put(k, stream, 50, 80, 4);
    List<Record> all = readUntil(planner, s, 30, new ArrayList<>());
    assertThat(values(all)).containsExactlyInAnyOrderElementsOf(range(50, 80));
  }

  @Test
  void atTimestampAndExplicitSequenceNumbersStartWhereAsked() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    List<PutRecordsResultEntry> put1 = put(k, stream, 0, 20, 1);
    long t = System.currentTimeMillis() + 5;
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(5))
        .until(() -> System.currentTimeMillis() > t + 5);
    put(k, stream, 20, 30, 1);

    Map<String, Object> ts = config();
    ts.put("starting-position", "at_timestamp");
    ts.put("starting-timestamp", Long.toString(t));
    List<Record> byTime =
        readUntil(new DirectPlanner(0, 0, 1000), source(ts), 10, new ArrayList<>());
    assertThat(values(byTime)).containsExactlyElementsOf(range(20, 30));

    Map<String, Object> seq = config();
    seq.put("starting-position", "sequence_numbers");
    seq.put(
        "starting-sequence-numbers",
        List.of(put1.get(15).shardId() + "=" + put1.get(15).sequenceNumber()));
    List<Record> bySeq =
        readUntil(new DirectPlanner(0, 0, 1000), source(seq), 15, new ArrayList<>());
    assertThat(values(bySeq)).containsExactlyElementsOf(range(15, 30));
  }

  @Test
  void splitAndMergeMidStreamReadChildrenOnlyAfterTheirParentsEnd() throws Exception {
    LocalKinesis.createStream(k, stream, 2);
    put(k, stream, 0, 300, 20);
    Map<String, Object> c = config();
    c.put("starting-position", "trim_horizon");
    KinesisDirectSource s = source(c);
    DirectPlanner planner = new DirectPlanner(40, 0, 1000);
    List<List<OffsetRange>> plans = new ArrayList<>();
    List<Record> all = new ArrayList<>(batch(planner, s, 0).records());

    List<Shard> shards = k.listShards(b -> b.streamName(stream)).shards();
    Shard s0 = shards.get(0);
    BigInteger lo = new BigInteger(s0.hashKeyRange().startingHashKey());
    BigInteger hi = new BigInteger(s0.hashKeyRange().endingHashKey());
    k.splitShard(
        b ->
            b.streamName(stream)
                .shardToSplit(s0.shardId())
                .newStartingHashKey(lo.add(hi).shiftRight(1).toString()));
    LocalKinesis.awaitActive(k, stream);
    put(k, stream, 300, 600, 20);
    all.addAll(batch(planner, s, 0).records());
    // merge the two children of the split
    List<Shard> open =
        k.listShards(b -> b.streamName(stream)).shards().stream()
            .filter(x -> s0.shardId().equals(x.parentShardId()))
            .toList();
    assertThat(open).hasSize(2);
    k.mergeShards(
        b ->
            b.streamName(stream)
                .shardToMerge(open.get(0).shardId())
                .adjacentShardToMerge(open.get(1).shardId()));
    LocalKinesis.awaitActive(k, stream);
    put(k, stream, 600, 900, 20);
    all.addAll(readUntil(planner, s, 900 - all.size(), plans));

    assertThat(values(all)).containsExactlyInAnyOrderElementsOf(range(0, 900));
    assertOrderedPerKey(all, 20);
    // the split parent and both children ended; the merged child was read
    Set<String> read = new HashSet<>();
    all.forEach(r -> read.add(r.position().partition()));
    assertThat(read).contains(s0.shardId(), open.get(0).shardId(), open.get(1).shardId());
    List<PartitionInfo> parts = s.partitions();
    assertThat(parts.stream().filter(PartitionInfo::closed).map(PartitionInfo::id))
        .contains(s0.shardId(), open.get(0).shardId(), open.get(1).shardId());
    // after a restart (nothing remembered), planning from the end reported for a shard read to its
    // end finds the end again, with no records (the crash test caught a failure here)
    PartitionInfo parent =
        parts.stream().filter(p -> p.id().equals(s0.shardId())).findFirst().orElseThrow();
    KinesisDirectSource restarted = source(c);
    restarted.partitions();
    assertThat(restarted.fixRangeEnd(parent.id(), parent.endPosition(), 100, Long.MAX_VALUE))
        .isEqualTo(parent.endPosition());
    assertThat(restarted.partitions())
        .filteredOn(p -> p.id().equals(s0.shardId()))
        .singleElement()
        .satisfies(p -> assertThat(p.closed()).isTrue());
  }

  @Test
  void kplAggregatesAreDeaggregatedWithSubSequencePositions() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    List<KplAggregation.UserRecord> users = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      users.add(
          new KplAggregation.UserRecord(
              "user-" + i, null, Integer.toString(i).getBytes(StandardCharsets.UTF_8), Map.of()));
    }
    k.putRecord(
        b ->
            b.streamName(stream)
                .partitionKey("agg")
                .data(SdkBytes.fromByteArray(KplAggregation.encode(users))));
    put(k, stream, 5, 7, 1);
    Map<String, Object> c = config();
    c.put("starting-position", "trim_horizon");
    KinesisDirectSource s = source(c);
    DirectPlanner planner = new DirectPlanner(2, 0, 1000); // stops inside the aggregate
    List<List<OffsetRange>> plans = new ArrayList<>();
    List<Record> all = readUntil(planner, s, 7, plans);
    assertThat(values(all)).containsExactly(0, 1, 2, 3, 4, 5, 6);
    assertThat(new String(all.get(3).key(), StandardCharsets.UTF_8)).isEqualTo("user-3");
    assertThat(all.get(3).position().position().sub()).isEqualTo(3);
    assertThat(all.get(3).position().position().sequence())
        .isEqualTo(all.get(0).position().position().sequence());
    // the range that ends inside the aggregate is replayed exactly
    OffsetRange second = plans.get(1).get(0);
    assertThat(second.from().sub()).isEqualTo(2);
    KinesisDirectSource replay = source(c);
    assertThat(values(read(replay, second))).containsExactly(2, 3);
  }

  @Test
  void expiredPositionFailsLoudlyOrIsSkippedWhenDeclared() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    put(k, stream, 0, 10, 1);
    Shard shard = k.listShards(b -> b.streamName(stream)).shards().get(0);
    // A position after a record that the shard no longer holds (below its first record): what a
    // checkpoint older than the retention looks like.
    BigInteger gone = new BigInteger(shard.sequenceNumberRange().startingSequenceNumber());
    Position expired = Position.of(gone, 1);
    OffsetRange range =
        new OffsetRange(shard.shardId(), expired, Position.of(gone.add(BigInteger.TEN.pow(40)), 0));
    KinesisDirectSource strict = source(config());
    assertThatThrownBy(() -> read(strict, range))
        .isInstanceOf(DataUnavailableException.class)
        .hasMessageContaining(shard.shardId())
        .hasMessageContaining("on-expired: skip");

    Map<String, Object> c = config();
    c.put("on-expired", "skip");
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    KinesisDirectSource lenient = new KinesisDirectSource(KinesisTestSupport.sourceConfig(c));
    lenient.open(KinesisTestSupport.context("p", meters));
    sources.add(lenient);
    Position end = lenient.fixRangeEnd(shard.shardId(), expired, 100, Long.MAX_VALUE);
    assertThat(values(read(lenient, new OffsetRange(shard.shardId(), expired, end))))
        .containsExactlyElementsOf(range(0, 10));
    assertThat(
            meters
                .counter("tributary.kinesis.expired.gaps", "pipeline", "p", "source", "in")
                .count())
        .isEqualTo(1.0);
  }

  /**
   * A closed shard whose end comes only after an empty page with a next iterator (kinesalite, when
   * the split came more than a second after the shard's last record) is still read to its end, and
   * its children after it.
   */
  @Test
  void aClosedShardIsReadPastAnEmptyPageToItsEnd() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    put(k, stream, 0, 50, 5);
    Shard parent = LocalKinesis.splitFirstShard(k, stream);
    put(k, stream, 50, 100, 5);
    try (FaultProxy proxy = new FaultProxy(kinesis.endpoint())) {
      proxy.emptyPageBeforeShardEnd = true;
      Map<String, Object> c = baseConfig(proxy.endpoint(), stream);
      c.put("starting-position", "trim_horizon");
      KinesisDirectSource s = source(c);
      List<Record> all = readUntil(new DirectPlanner(0, 0, 1000), s, 100, new ArrayList<>());
      assertThat(values(all)).containsExactlyInAnyOrderElementsOf(range(0, 100));
      assertOrderedPerKey(all, 5);
      assertThat(proxy.emptyPagesBeforeEnd.get()).isPositive();
      assertThat(s.partitions())
          .filteredOn(p -> p.id().equals(parent.shardId()))
          .singleElement()
          .satisfies(p -> assertThat(p.closed()).isTrue());
    }
  }

  @Test
  void throttledGetRecordsIsRetriedWithBackoffAndCounted() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    put(k, stream, 0, 20, 1);
    try (FaultProxy proxy = new FaultProxy(kinesis.endpoint())) {
      Map<String, Object> c = baseConfig(proxy.endpoint(), stream);
      c.put("starting-position", "trim_horizon");
      c.put("throttle-backoff", "10ms");
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      KinesisDirectSource s = new KinesisDirectSource(KinesisTestSupport.sourceConfig(c));
      s.open(KinesisTestSupport.context("p", meters));
      sources.add(s);
      proxy.throttleGetRecords.set(3);
      List<Record> all = readUntil(new DirectPlanner(0, 0, 1000), s, 20, new ArrayList<>());
      assertThat(values(all)).containsExactlyElementsOf(range(0, 20));
      assertThat(proxy.throttled.get()).isEqualTo(3);
      assertThat(
              meters
                  .counter("tributary.kinesis.throttled", "pipeline", "p", "source", "in")
                  .count())
          .isEqualTo(3.0);
      // lag per shard is published
      assertThat(s.millisBehindLatest()).containsOnlyKeys(all.get(0).position().partition());
      assertThat(meters.find("tributary.kinesis.millis.behind.latest").gauge()).isNotNull();
    }
  }

  private static List<Integer> range(int from, int until) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i < until; i++) {
      out.add(i);
    }
    return out;
  }

  /** Values with the same partition key (i % keys) arrive in increasing order. */
  private static void assertOrderedPerKey(List<Record> records, int keys) {
    Map<Integer, Integer> last = new HashMap<>();
    for (Record r : records) {
      int v = Integer.parseInt(r.valueAsString());
      Integer prev = last.put(v % keys, v);
      if (prev != null) {
        assertThat(v).as("order of key %d", v % keys).isGreaterThan(prev);
      }
    }
  }
}
