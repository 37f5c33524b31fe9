package io.tributary.connector.kafka;

import static io.tributary.connector.kafka.TestRecords.bytes;
import static io.tributary.connector.kafka.TestRecords.expected;
import static io.tributary.connector.kafka.TestRecords.number;
import static io.tributary.connector.kafka.TestRecords.numbered;
import static io.tributary.connector.kafka.TestRecords.str;
import static io.tributary.connector.kafka.TestRecords.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Config;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineState;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real pipeline from topic A (KafkaDirectSource) to topic B (KafkaSink) against the run's broker
 * from {@link KafkaBrokerExtension} (a KRaft broker in a child JVM, or in Docker through
 * Testcontainers when an engine is reachable).
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaPipelineIT {
  /**
   * Event time of input record n is this + n: an hour in the past, so a time the sink's producer
   * stamped differs.
   */
  private static final long EVENT_TIME =
      System.currentTimeMillis() - Duration.ofHours(1).toMillis();

  private final KafkaBroker kafka;
  private final CheckedProducer producer;
  private String in;
  private String out;
  private String pipelineId;

  @TempDir Path checkpointDir;

  KafkaPipelineIT(KafkaBroker kafka) {
    this.kafka = kafka;
    this.producer = new CheckedProducer(kafka.bootstrapServers());
  }

  @BeforeEach
  void topics(TestInfo info) {
    String name = info.getTestMethod().orElseThrow().getName();
    in = name + "-in";
    out = name + "-out";
    pipelineId = "p-" + name;
    kafka.createTopic(in, 2);
    kafka.createTopic(out, 2);
  }

  @AfterEach
  void tearDown() {
    producer.close();
  }

  @Test
  void everyRecordReachesTheOutputTopicExactlyOnceWithKeysHeadersAndTimestamps() throws Exception {
    produce(in, 0, 100, false);
    List<Map<Integer, Integer>> perBatch = new CopyOnWriteArrayList<>();
    Pipeline p =
        pipeline(Map.of("partitioning", "source-partition"))
            .set("direct.max-records-per-partition", 15)
            .foreachBatch((id, records) -> perBatch.add(countByPartition(records)))
            .build();
    p.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 100);
    produce(in, 100, 140, false);
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 140);
    p.stopGracefully();

    List<ConsumerRecord<byte[], byte[]>> result = kafka.readCommitted(out);
    assertThat(values(result)).containsExactlyInAnyOrderElementsOf(expected(0, 140));
    for (ConsumerRecord<byte[], byte[]> r : result) {
      int n = number(r);
      assertThat(str(r.key())).isEqualTo("k" + n);
      assertThat(str(r.headers().lastHeader("h").value())).isEqualTo("h" + n);
      assertThat(r.timestampType()).isEqualTo(TimestampType.CREATE_TIME);
      assertThat(r.timestamp()).as("event time of v-%d", n).isEqualTo(EVENT_TIME + n);
      assertThat(r.partition()).as("source partition kept").isEqualTo(n % 2);
    }
    assertThat(perBatch).isNotEmpty();
    assertThat(perBatch)
        .allSatisfy(
            m -> assertThat(m.values()).allSatisfy(c -> assertThat(c).isLessThanOrEqualTo(15)));
    assertThat(perBatch.size())
        .as("70 records per partition need at least 5 batches of 15")
        .isGreaterThanOrEqualTo(5);
  }

  @Test
  void abortedTransactionsInTheInputAreSkippedWithoutStalling() throws Exception {
    produce(in, 0, 20, true);
    produceAborted(in, 1000, 1010);
    produce(in, 20, 40, true);
    produceAborted(in, 2000, 2010);
    produce(in, 40, 50, false);
    Pipeline p = pipeline(Map.of()).set("direct.max-records-per-partition", 4).build();
    p.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 50);
    p.stopGracefully();
    assertThat(values(kafka.readCommitted(out)))
        .containsExactlyInAnyOrderElementsOf(expected(0, 50));
  }

  @Test
  void failureAfterTheKafkaCommitIsNotWrittenTwiceOnRestart() throws Exception {
    produce(in, 0, 60, false);
    AtomicBoolean failed = new AtomicBoolean();
    Map<Long, Integer> seen = new ConcurrentHashMap<>();
    // The failing sink runs after the Kafka sink: batch 2 is committed in Kafka but not in the
    // checkpoint.
    Pipeline first =
        pipeline(Map.of())
            .set("direct.max-records-per-partition", 10)
            .foreachBatch(
                (id, records) -> {
                  seen.put(id, records.size());
                  if (id == 2 && failed.compareAndSet(false, true)) {
                    throw new IllegalStateException(
                        "injected failure after the Kafka commit of batch 2");
                  }
                })
            .build();
    first.start();
    assertThat(first.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(first.status().state()).isEqualTo(PipelineState.FAILED);
    int committedBeforeCrash = kafka.readCommitted(out).size();
    assertThat(committedBeforeCrash).as("batches 0..2 reached Kafka").isEqualTo(60);

    Pipeline second = pipeline(Map.of()).set("direct.max-records-per-partition", 10).build();
    second.start();
    produce(in, 60, 80, false);
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 80);
    second.stopGracefully();
    assertThat(values(kafka.readCommitted(out)))
        .containsExactlyInAnyOrderElementsOf(expected(0, 80));
  }

  /**
   * The marker topic is shared by every sink writing to it, and a {@code read_committed} read stops
   * at the first open transaction. Another sink's transaction opened after this sink's marker 0 and
   * still open hides markers 1 and 2: a restart that read only up to it would take batch 0 for the
   * last committed one and write batch 2 again. The restart must wait for that transaction instead,
   * fail as retriable naming it when it lasts longer than marker-read-timeout, and skip batch 2
   * once it ended.
   */
  @Test
  void anotherSinksOpenTransactionOnTheMarkerTopicDoesNotHideThisSinksLastBatch() throws Exception {
    produce(in, 0, 60, false);
    String markers = "markers-" + pipelineId;
    Map<String, Object> sinkOptions = Map.of("marker-topic", markers, "marker-read-timeout", "3s");
    Properties otherProps = CheckedProducer.producerProps(kafka.bootstrapServers());
    otherProps.put("transactional.id", "other-sink-" + pipelineId);
    AtomicBoolean failed = new AtomicBoolean();
    try (KafkaProducer<byte[], byte[]> other = new KafkaProducer<>(otherProps)) {
      other.initTransactions();
      // The failing sink runs after the Kafka sink: batch 2 is committed in Kafka but not in the
      // checkpoint, so the restart replays it and must find its marker.
      Pipeline first =
          pipeline(sinkOptions)
              .set("direct.max-records-per-partition", 10)
              .foreachBatch(
                  (id, records) -> {
                    if (id == 0) {
                      other.beginTransaction();
                      other
                          .send(new ProducerRecord<>(markers, bytes("other/kafka"), bytes("7")))
                          .get();
                    }
                    if (id == 2 && failed.compareAndSet(false, true)) {
                      throw new IllegalStateException(
                          "injected failure after the Kafka commit of batch 2");
                    }
                  })
              .build();
      first.start();
      assertThat(first.awaitTermination(Duration.ofSeconds(30))).isTrue();
      assertThat(first.status().state()).isEqualTo(PipelineState.FAILED);
      assertThat(kafka.readCommitted(out)).as("batches 0..2 reached Kafka").hasSize(60);

      Pipeline blocked = pipeline(sinkOptions).set("direct.max-records-per-partition", 10).build();
      assertThatThrownBy(blocked::start)
          .as("the restart waits for the other transaction, then fails as retriable")
          .isInstanceOf(RetriableException.class)
          .hasMessageContaining("marker-read-timeout")
          .hasMessageContaining("other-sink-" + pipelineId)
          .hasMessageContaining("kafka-transactions.sh find-hanging");
      assertThat(kafka.readCommitted(out)).as("batch 2 not written again").hasSize(60);
      other.abortTransaction();
    }

    Pipeline second = pipeline(sinkOptions).set("direct.max-records-per-partition", 10).build();
    second.start();
    produce(in, 60, 80, false);
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 80);
    second.stopGracefully();
    assertThat(values(kafka.readCommitted(out)))
        .containsExactlyInAnyOrderElementsOf(expected(0, 80));
  }

  @Test
  void stopNowMidStreamAndRestartOnTheSameCheckpointGivesNoDuplicates() throws Exception {
    produce(in, 0, 400, false);
    Pipeline first = pipeline(Map.of()).set("direct.max-records-per-partition", 10).build();
    first.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 100);
    first.stopNow();
    int before = kafka.readCommitted(out).size();
    assertThat(before).as("stopped before the end").isLessThan(400);

    Pipeline second = pipeline(Map.of()).set("direct.max-records-per-partition", 50).build();
    second.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 400);
    second.stopGracefully();
    assertThat(values(kafka.readCommitted(out)))
        .containsExactlyInAnyOrderElementsOf(expected(0, 400));
  }

  @Test
  void transactionLeftOpenByACrashedInstanceIsAbortedOnOpen() throws Exception {
    produce(in, 0, 10, false);
    // A "crashed" earlier instance: same transactional.id, records sent but never committed.
    Properties zombie = CheckedProducer.producerProps(kafka.bootstrapServers());
    zombie.put("transactional.id", "tributary-" + pipelineId + "-kafka");
    try (KafkaProducer<byte[], byte[]> z = new KafkaProducer<>(zombie)) {
      z.initTransactions();
      z.beginTransaction();
      z.send(new ProducerRecord<>(out, bytes("zombie"))).get();
      z.flush();
      Pipeline p = pipeline(Map.of()).build();
      p.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 10);
      p.stopGracefully();
    }
    List<String> result = values(kafka.readCommitted(out));
    assertThat(result).containsExactlyInAnyOrderElementsOf(expected(0, 10));
    assertThat(result).doesNotContain("zombie");
  }

  private Pipeline.Builder pipeline(Map<String, Object> sinkOptions) {
    Config source =
        KafkaOptions.SOURCE.parse(
            Map.of(
                "bootstrap-servers",
                kafka.bootstrapServers(),
                "topics",
                List.of(in),
                "starting-position",
                "earliest"));
    Map<String, Object> sink = new HashMap<>(sinkOptions);
    sink.put("bootstrap-servers", kafka.bootstrapServers());
    sink.put("topic", out);
    return Pipeline.builder(pipelineId)
        .checkpointDir(checkpointDir)
        .batchInterval(Duration.ofMillis(100))
        .source("in", new KafkaDirectSource(source))
        .sink("kafka", new KafkaSink(KafkaOptions.SINK.parse(sink)));
  }

  private static Map<Integer, Integer> countByPartition(List<Record> records) {
    return records.stream()
        .collect(
            Collectors.groupingBy(
                r ->
                    Integer.parseInt(
                        r.position()
                            .partition()
                            .substring(r.position().partition().lastIndexOf('-') + 1)),
                Collectors.summingInt(r -> 1)));
  }

  /**
   * Records v-from..v-(until-1), keyed k-n, header h=h-n, event time EVENT_TIME + n, record n in
   * partition n % 2; in one committed transaction when {@code transactional}.
   */
  private void produce(String topic, int from, int until, boolean transactional) throws Exception {
    IntFunction<ProducerRecord<byte[], byte[]>> record =
        n ->
            new ProducerRecord<>(
                topic,
                n % 2,
                EVENT_TIME + n,
                bytes("k" + n),
                bytes("v-" + n),
                List.of(new RecordHeader("h", bytes("h" + n))));
    if (transactional) {
      CheckedProducer.sendAndCommit(kafka.bootstrapServers(), "test-" + topic, from, until, record);
    } else {
      producer.send(from, until, record);
    }
  }

  private void produceAborted(String topic, int from, int until) throws Exception {
    CheckedProducer.sendAndAbort(
        kafka.bootstrapServers(), "test-aborted-" + topic, from, until, n -> numbered(topic, 2, n));
  }
}
