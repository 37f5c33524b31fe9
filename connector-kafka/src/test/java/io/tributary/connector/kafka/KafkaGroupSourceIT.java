package io.tributary.connector.kafka;

import static io.tributary.connector.kafka.TestRecords.expected;
import static io.tributary.connector.kafka.TestRecords.numbered;
import static io.tributary.connector.kafka.TestRecords.str;
import static io.tributary.connector.kafka.TestRecords.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Record;
import io.tributary.core.runtime.Pipeline;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group-managed source ({@code kafka-group}) with the transactional Kafka sink: two instances
 * of one pipeline (two {@link Pipeline}s in this JVM with their own ids and checkpoints, one group)
 * against the run's broker from {@link KafkaBrokerExtension}. The output is checked with a {@code
 * read_committed} consumer. The group source with a sink that is not Kafka's is in {@link
 * KafkaGroupSourceFilesIT}.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaGroupSourceIT {
  private static final int PARTITIONS = 4;

  private final KafkaBroker kafka;
  private final List<Pipeline> running = new ArrayList<>();
  private final CheckedProducer producer;
  private String in;
  private String out;
  private String group;
  private Admin admin;

  @TempDir Path dir;

  KafkaGroupSourceIT(KafkaBroker kafka) {
    this.kafka = kafka;
    this.producer = new CheckedProducer(kafka.bootstrapServers());
  }

  @BeforeEach
  void topics(TestInfo info) {
    String name = info.getTestMethod().orElseThrow().getName();
    in = "g-" + name + "-in";
    out = "g-" + name + "-out";
    group = "g-" + name;
    admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    kafka.createTopic(in, PARTITIONS);
    kafka.createTopic(out, PARTITIONS);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Pipeline p : running) {
      p.stopNow();
      p.awaitTermination(Duration.ofSeconds(30));
    }
    admin.close();
    producer.close();
  }

  @Test
  void rebalanceBetweenTwoInstancesLosesAndDuplicatesNothing() throws Exception {
    produce(0, 1200, PARTITIONS);
    List<Map<String, Integer>> batchesA = new CopyOnWriteArrayList<>();
    List<Map<String, Integer>> batchesB = new CopyOnWriteArrayList<>();
    Pipeline a = start("a", 10, batchesA);
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 200);
    // B joins mid-stream: cooperative rebalancing moves some of A's partitions to B between A's
    // batches.
    Pipeline b = start("b", 10, batchesB);
    await().atMost(Duration.ofSeconds(30)).until(() -> b.status().recordsOut() > 0);
    int beforeLeave = kafka.readCommitted(out).size();
    assertThat(beforeLeave).as("still mid-stream when A leaves").isLessThan(1200);
    // A leaves mid-stream: B takes all partitions over from the offsets A committed in its
    // transactions.
    a.stopGracefully();
    assertThat(a.awaitTermination(Duration.ofSeconds(30))).isTrue();
    long doneByA = a.status().recordsOut();
    produce(1200, 1400, PARTITIONS);
    await().atMost(Duration.ofSeconds(60)).until(() -> kafka.readCommitted(out).size() >= 1400);
    b.stopGracefully();
    assertThat(b.awaitTermination(Duration.ofSeconds(30))).isTrue();

    assertThat(values(kafka.readCommitted(out)))
        .containsExactlyInAnyOrderElementsOf(expected(0, 1400));
    assertThat(doneByA).as("A did part of the work").isPositive();
    assertThat(b.status().recordsOut()).as("B did the rest").isPositive();
    assertThat(batchesA).allSatisfy(m -> assertThat(m.values()).allMatch(n -> n <= 10));
    assertThat(batchesB).allSatisfy(m -> assertThat(m.values()).allMatch(n -> n <= 10));
    assertThat(partitionsSeen(batchesA)).as("A had all partitions at first").hasSize(PARTITIONS);
    assertThat(partitionsSeen(batchesB)).as("B got all partitions in the end").hasSize(PARTITIONS);
    Map<TopicPartition, OffsetAndMetadata> offsets =
        admin
            .listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS);
    assertThat(offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum())
        .as("the group's offsets moved with the transactions to the end of the input")
        .isEqualTo(1400);
  }

  @Test
  void crashedInstanceReplaysOnlyWhatNobodyElseCommitted() throws Exception {
    produce(0, 800, PARTITIONS);
    Pipeline a = start("a", 10, null);
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 100);
    // A "crashes": its last planned batch has no commit in its checkpoint, its transaction may be
    // left open.
    a.stopNow();
    assertThat(a.awaitTermination(Duration.ofSeconds(30))).isTrue();
    running.remove(a);
    Pipeline b = start("b", 10, null);
    await().atMost(Duration.ofSeconds(30)).until(() -> b.status().recordsOut() >= 200);
    // A comes back on its checkpoint and replays its last planned batch while B owns (some of) its
    // partitions.
    Pipeline a2 = start("a", 10, null);
    produce(800, 1000, PARTITIONS);
    await().atMost(Duration.ofSeconds(60)).until(() -> kafka.readCommitted(out).size() >= 1000);
    a2.stopGracefully();
    b.stopGracefully();
    assertThat(a2.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(b.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(values(kafka.readCommitted(out)))
        .containsExactlyInAnyOrderElementsOf(expected(0, 1000));
  }

  @Test
  void expelledInstanceIsFencedAndItsBatchAbandonedWithoutLoss() throws Exception {
    produce(0, 400, PARTITIONS);
    AtomicBoolean stall = new AtomicBoolean();
    CountDownLatch stalled = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    // A short max.poll.interval.ms: a member that does not poll for 3 s is expelled at the next
    // rebalance.
    Map<String, Object> impatient = Map.of("kafka.max.poll.interval.ms", 3000);
    Pipeline a =
        start(
            "a",
            10,
            null,
            impatient,
            (id, records) -> {
              if (stall.get() && !records.isEmpty() && stalled.getCount() > 0) {
                stalled.countDown();
                if (!release.await(60, TimeUnit.SECONDS)) {
                  throw new IllegalStateException("test never released the stalled batch");
                }
              }
              return records;
            });
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 40);
    stall.set(true);
    assertThat(stalled.await(30, TimeUnit.SECONDS)).isTrue();
    // B joins while A is stuck in a batch: A misses the rebalance, is expelled, and B takes every
    // partition over from
    // the offsets A committed last, including the ranges A holds in its stalled batch.
    Pipeline b = start("b", 10, null, impatient, null);
    await().atMost(Duration.ofSeconds(60)).until(() -> kafka.readCommitted(out).size() >= 400);
    // A wakes up as a zombie: its transaction carries offsets of a stale generation and is refused;
    // it abandons the
    // partitions it lost and goes on as a new member.
    release.countDown();
    produce(400, 500, PARTITIONS);
    await().atMost(Duration.ofSeconds(60)).until(() -> kafka.readCommitted(out).size() >= 500);
    a.stopGracefully();
    b.stopGracefully();
    assertThat(a.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(b.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(a.failure()).isEmpty();
    assertThat(values(kafka.readCommitted(out)))
        .containsExactlyInAnyOrderElementsOf(expected(0, 500));
  }

  @Test
  void partitionsAddedWhileRunningAndAbortedInputTransactionsAreReadExactlyOnce() throws Exception {
    produce(0, 40, PARTITIONS);
    produceAborted(5000, 5020, PARTITIONS);
    Pipeline a = start("a", 0, null);
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 40);
    kafka.increasePartitions(in, 6);
    produceTransactional(40, 100, 6);
    produceAborted(6000, 6030, 6);
    produce(100, 130, 6);
    await().atMost(Duration.ofSeconds(60)).until(() -> kafka.readCommitted(out).size() >= 130);
    a.stopGracefully();
    assertThat(a.awaitTermination(Duration.ofSeconds(30))).isTrue();
    List<String> result = values(kafka.readCommitted(out));
    assertThat(result).containsExactlyInAnyOrderElementsOf(expected(0, 130));
    assertThat(kafka.readCommitted(out).stream().map(r -> str(r.key())))
        .as("records of the new partitions 4 and 5 arrived")
        .contains("k4", "k5", "k124", "k125");
  }

  /** Starts an instance of the pipeline: own id and checkpoint, shared group. */
  private Pipeline start(String instance, int maxPerPartition, List<Map<String, Integer>> batches) {
    return start(instance, maxPerPartition, batches, Map.of(), null);
  }

  private Pipeline start(
      String instance,
      int maxPerPartition,
      List<Map<String, Integer>> batches,
      Map<String, Object> extraSource,
      io.tributary.core.runtime.BatchTransform hook) {
    Map<String, Object> src = new HashMap<>();
    src.put("bootstrap-servers", kafka.bootstrapServers());
    src.put("topics", List.of(in));
    src.put("group-id", group);
    src.put("starting-position", "earliest");
    src.put("group-join-timeout", "10s");
    // Fast rebalances and partition discovery for the test; also exercises the kafka.*
    // pass-through.
    src.put("kafka.heartbeat.interval.ms", 100);
    src.put("kafka.metadata.max.age.ms", 500);
    src.putAll(extraSource);
    Map<String, Object> sink = Map.of("bootstrap-servers", kafka.bootstrapServers(), "topic", out);
    Pipeline.Builder b =
        Pipeline.builder(group + "-" + instance)
            .checkpointDir(dir.resolve(instance))
            .batchInterval(Duration.ofMillis(100))
            .source("in", new KafkaGroupSource(KafkaOptions.GROUP_SOURCE.parse(src)))
            .sink("kafka", new KafkaSink(KafkaOptions.SINK.parse(sink)));
    if (maxPerPartition > 0) {
      b.set("direct.max-records-per-partition", maxPerPartition);
    }
    if (batches != null) {
      b.transform(
          (id, records) -> {
            batches.add(countByPartition(records));
            return records;
          });
    }
    if (hook != null) {
      b.transform(hook);
    }
    Pipeline p = b.build();
    p.start();
    running.add(p);
    return p;
  }

  private static Map<String, Integer> countByPartition(List<Record> records) {
    return records.stream()
        .collect(
            Collectors.groupingBy(r -> r.position().partition(), Collectors.summingInt(r -> 1)));
  }

  private static List<String> partitionsSeen(List<Map<String, Integer>> batches) {
    return batches.stream().flatMap(m -> m.keySet().stream()).distinct().toList();
  }

  /**
   * Records v-from..v-(until-1) into {@code in}, keyed k-n, record n in partition n % partitions.
   */
  private void produce(int from, int until, int partitions) throws Exception {
    producer.send(from, until, n -> numbered(in, partitions, n));
  }

  private void produceTransactional(int from, int until, int partitions) throws Exception {
    CheckedProducer.sendAndCommit(
        kafka.bootstrapServers(), "test-" + in, from, until, n -> numbered(in, partitions, n));
  }

  private void produceAborted(int from, int until, int partitions) throws Exception {
    CheckedProducer.sendAndAbort(
        kafka.bootstrapServers(),
        "test-aborted-" + in,
        from,
        until,
        n -> numbered(in, partitions, n));
  }
}
