package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.baseConfig;
import static io.tributary.connector.kinesis.KinesisTestSupport.batch;
import static io.tributary.connector.kinesis.KinesisTestSupport.put;
import static io.tributary.connector.kinesis.KinesisTestSupport.read;
import static io.tributary.connector.kinesis.KinesisTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.core.internal.DirectPlanner;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ConsumerStatus;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * Enhanced fan-out ({@code consumer: efo}) of {@link KinesisDirectSource} against kinesis-mock,
 * which serves RegisterStreamConsumer and SubscribeToShard (h2c: HTTP/2 with prior knowledge on its
 * plain port) but sends no ChildShards event when a subscribed shard is split (the source reads
 * closed shards with GetRecords, so resharding works here too).
 */
class KinesisFanOutIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private final LocalKinesis kinesis = LocalKinesis.get();
  private KinesisClient k;
  private String stream;
  private final List<KinesisDirectSource> sources = new ArrayList<>();

  @BeforeEach
  void setUp(TestInfo info) {
    k = kinesis.client();
    stream = "efo-" + info.getTestMethod().orElseThrow().getName() + "-" + System.nanoTime();
  }

  @AfterEach
  void tearDown() {
    for (KinesisDirectSource s : sources) {
      s.close();
    }
    k.close();
  }

  private Map<String, Object> efo(String consumerName) {
    Map<String, Object> c = baseConfig(kinesis.endpoint(), stream);
    c.put("consumer", "efo");
    c.put("consumer-name", consumerName);
    return c;
  }

  private KinesisDirectSource open(
      Map<String, Object> config, SimpleMeterRegistry meters, Duration renewAfter) {
    KinesisDirectSource s = new KinesisDirectSource(KinesisTestSupport.sourceConfig(config));
    if (renewAfter != null) {
      s.efoRenewAfter(renewAfter);
    }
    sources.add(s);
    s.open(KinesisTestSupport.context("p", meters));
    return s;
  }

  private static double count(SimpleMeterRegistry m, String name) {
    return m.counter(name, "pipeline", "p", "source", "in").count();
  }

  private static List<Record> readUntil(
      DirectPlanner planner, KinesisDirectSource s, int n, List<List<OffsetRange>> plans) {
    List<Record> all = new ArrayList<>();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(10))
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
  void readsEveryShardByFanOutAndAReplayAfterACrashReadsExactlyThePlannedRecords()
      throws Exception {
    LocalKinesis.createStream(k, stream, 2);
    put(k, stream, 0, 150, 8);
    Map<String, Object> c = efo("c1");
    c.put("starting-position", "trim_horizon");
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    KinesisDirectSource s = open(c, meters, null);
    String arn =
        k.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamARN();
    assertThat(
            k.describeStreamConsumer(b -> b.streamARN(arn).consumerName("c1"))
                .consumerDescription()
                .consumerStatus())
        .isEqualTo(ConsumerStatus.ACTIVE);

    DirectPlanner planner = new DirectPlanner(40, 0, 1000);
    List<List<OffsetRange>> plans = new ArrayList<>();
    List<Record> first = readUntil(planner, s, 150, plans);
    // records arriving while subscribed are pushed on the open subscriptions
    double subscribed = count(meters, "tributary.kinesis.efo.subscriptions");
    put(k, stream, 150, 200, 8);
    List<Record> all = new ArrayList<>(first);
    all.addAll(readUntil(planner, s, 50, plans));
    assertThat(values(all)).containsExactlyInAnyOrderElementsOf(range(0, 200));
    assertOrderedPerKey(all, 8);
    assertThat(count(meters, "tributary.kinesis.efo.events")).isGreaterThan(0);
    assertThat(count(meters, "tributary.kinesis.efo.subscriptions"))
        .as("the subscriptions stayed open across batches")
        .isEqualTo(subscribed)
        .isEqualTo(2.0);
    assertThat(s.millisBehindLatest()).hasSize(2);

    // crash: the source is gone without a word; a new one replays every planned range (from
    // offsets/N) and reads exactly what was planned, although more records arrived since
    s.close();
    put(k, stream, 200, 230, 8);
    KinesisDirectSource replay = open(c, new SimpleMeterRegistry(), null);
    List<Record> again = new ArrayList<>();
    for (List<OffsetRange> plan : plans) {
      for (OffsetRange r : plan) {
        List<Record> got = read(replay, r);
        assertThat(got.size()).isLessThanOrEqualTo(40);
        again.addAll(got);
      }
    }
    assertThat(again).containsExactlyInAnyOrderElementsOf(all);
    // and planning on from the last planned ends (the subscription restarts there) reads the rest
    DirectPlanner resumed = new DirectPlanner(40, 0, 1000);
    for (List<OffsetRange> plan : plans) {
      resumed.advance(plan);
    }
    assertThat(values(readUntil(resumed, replay, 30, new ArrayList<>())))
        .containsExactlyInAnyOrderElementsOf(range(200, 230));
  }

  @Test
  void everyStartingPositionUnderFanOut() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    List<PutRecordsResultEntry> put1 = put(k, stream, 0, 20, 1);
    long t = System.currentTimeMillis() + 5;
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(5))
        .until(() -> System.currentTimeMillis() > t + 5);
    put(k, stream, 20, 30, 1);

    Map<String, Object> ts = efo("c-ts");
    ts.put("starting-position", "at_timestamp");
    ts.put("starting-timestamp", Long.toString(t));
    assertThat(
            values(
                readUntil(
                    new DirectPlanner(0, 0, 1000),
                    open(ts, new SimpleMeterRegistry(), null),
                    10,
                    new ArrayList<>())))
        .containsExactlyElementsOf(range(20, 30));

    Map<String, Object> seq = efo("c-seq");
    seq.put("starting-position", "sequence_numbers");
    seq.put(
        "starting-sequence-numbers",
        List.of(put1.get(15).shardId() + "=" + put1.get(15).sequenceNumber()));
    assertThat(
            values(
                readUntil(
                    new DirectPlanner(0, 0, 1000),
                    open(seq, new SimpleMeterRegistry(), null),
                    15,
                    new ArrayList<>())))
        .containsExactlyElementsOf(range(15, 30));

    SimpleMeterRegistry latestMeters = new SimpleMeterRegistry();
    KinesisDirectSource latest = open(efo("c-latest"), latestMeters, null);
    DirectPlanner planner = new DirectPlanner(0, 0, 1000);
    assertThat(batch(planner, latest, 0).records()).isEmpty();
    put(k, stream, 30, 45, 1);
    assertThat(values(readUntil(planner, latest, 15, new ArrayList<>())))
        .containsExactlyElementsOf(range(30, 45));
    assertThat(count(latestMeters, "tributary.kinesis.efo.events")).isGreaterThan(0);
  }

  @Test
  void subscriptionsAreRenewedFromTheContinuationWithoutLossOrRepeat() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    Map<String, Object> c = efo("c-renew");
    c.put("starting-position", "trim_horizon");
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    // renewed after 1 ms: every batch that took an event of the current subscription renews it
    // from that event's continuation sequence number (AWS ends each subscription after 5 minutes)
    KinesisDirectSource s = open(c, meters, Duration.ofMillis(1));
    DirectPlanner planner = new DirectPlanner(25, 0, 1000);
    List<Record> all = new ArrayList<>();
    for (int wave = 0; wave < 3; wave++) {
      put(k, stream, wave * 50, wave * 50 + 50, 1);
      all.addAll(readUntil(planner, s, 50, new ArrayList<>()));
    }
    assertThat(values(all)).containsExactlyElementsOf(range(0, 150));
    // one subscription per wave at least (ResourceInUse retries, while kinesis-mock still holds the
    // cancelled one, add more)
    assertThat(count(meters, "tributary.kinesis.efo.subscriptions")).isGreaterThanOrEqualTo(3);
  }

  @Test
  void aSplitUnderFanOutReadsEveryRecordOnceParentFirst() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    put(k, stream, 0, 100, 10);
    Map<String, Object> c = efo("c-reshard");
    c.put("starting-position", "trim_horizon");
    KinesisDirectSource s = open(c, new SimpleMeterRegistry(), null);
    DirectPlanner planner = new DirectPlanner(30, 0, 1000);
    // the parent is split while most of its records are still unread
    List<Record> all = new ArrayList<>(readUntil(planner, s, 1, new ArrayList<>()));
    assertThat(all.size()).isLessThanOrEqualTo(30);
    Shard s0 = k.listShards(b -> b.streamName(stream)).shards().get(0);
    BigInteger lo = new BigInteger(s0.hashKeyRange().startingHashKey());
    BigInteger hi = new BigInteger(s0.hashKeyRange().endingHashKey());
    k.splitShard(
        b ->
            b.streamName(stream)
                .shardToSplit(s0.shardId())
                .newStartingHashKey(lo.add(hi).shiftRight(1).toString()));
    LocalKinesis.awaitActive(k, stream);
    put(k, stream, 100, 200, 10);
    List<Shard> children =
        k.listShards(b -> b.streamName(stream)).shards().stream()
            .filter(x -> s0.shardId().equals(x.parentShardId()))
            .toList();
    assertThat(children).hasSize(2);
    all.addAll(readUntil(planner, s, 200 - all.size(), new ArrayList<>()));
    assertThat(values(all)).containsExactlyInAnyOrderElementsOf(range(0, 200));
    // per key, the parent's records come before the children's (a child is planned only after its
    // parent was read to its end, with GetRecords once ListShards reports it closed)
    assertOrderedPerKey(all, 10);
    List<String> shardOrder = all.stream().map(r -> r.position().partition()).toList();
    assertThat(shardOrder.lastIndexOf(s0.shardId()))
        .isEqualTo(99)
        .isLessThan(shardOrder.indexOf(children.get(0).shardId()))
        .isLessThan(shardOrder.indexOf(children.get(1).shardId()));
  }

  @Test
  void anEndpointWithoutFanOutIsAClearErrorNamingPolling() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    try (FaultProxy proxy = new FaultProxy(kinesis.endpoint())) {
      proxy.refuseFanOut = true;
      Map<String, Object> c = baseConfig(proxy.endpoint(), stream);
      c.put("consumer", "efo");
      assertThatThrownBy(() -> open(c, new SimpleMeterRegistry(), null))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("does not serve enhanced fan-out")
          .hasMessageContaining("RegisterStreamConsumer")
          .hasMessageContaining("consumer: polling");
      // the same endpoint reads with polling
      Map<String, Object> p = baseConfig(proxy.endpoint(), stream);
      p.put("starting-position", "trim_horizon");
      put(k, stream, 0, 5, 1);
      assertThat(
              values(
                  readUntil(
                      new DirectPlanner(0, 0, 1000),
                      open(p, new SimpleMeterRegistry(), null),
                      5,
                      new ArrayList<>())))
          .containsExactlyElementsOf(range(0, 5));
    }
    Map<String, Object> misplaced = baseConfig(kinesis.endpoint(), stream);
    misplaced.put("consumer-name", "x");
    assertThatThrownBy(() -> new KinesisDirectSource(KinesisTestSupport.sourceConfig(misplaced)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("consumer: efo");
  }

  private static List<Integer> range(int from, int until) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i < until; i++) {
      out.add(i);
    }
    return out;
  }

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
