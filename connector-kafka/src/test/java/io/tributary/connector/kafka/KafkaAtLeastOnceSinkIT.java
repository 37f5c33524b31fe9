package io.tributary.connector.kafka;

import static io.tributary.connector.kafka.TestRecords.bytes;
import static io.tributary.connector.kafka.TestRecords.expected;
import static io.tributary.connector.kafka.TestRecords.number;
import static io.tributary.connector.kafka.TestRecords.str;
import static io.tributary.connector.kafka.TestRecords.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Config;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;
import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineState;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real pipeline from topic A ({@link KafkaDirectSource}) to topic B through the {@code
 * kafka-at-least-once} sink ({@link KafkaAtLeastOnceSink}, created through its {@link SinkFactory}
 * found by {@link ServiceLoader}, as the gateway does), against the run's broker from {@link
 * KafkaBrokerExtension}.
 *
 * <p>Input record {@code n} is {@code v-n} in partition {@code n % 3} with key {@code user-(n % 7)}
 * (so every key comes from every input partition), headers {@code h=h-n} and {@code trace=t-n}, and
 * the event time {@link #EVENT_TIME} {@code + n}, an hour in the past, so a timestamp the sink's
 * producer stamped itself would not match.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaAtLeastOnceSinkIT {
  private static final int PARTITIONS = 3;
  private static final int KEYS = 7;
  private static final long EVENT_TIME =
      System.currentTimeMillis() - Duration.ofHours(1).toMillis();

  private final KafkaBroker kafka;
  private final CheckedProducer producer;
  private String in;
  private String out;
  private String pipelineId;

  @TempDir Path checkpointDir;

  KafkaAtLeastOnceSinkIT(KafkaBroker kafka) {
    this.kafka = kafka;
    this.producer = new CheckedProducer(kafka.bootstrapServers());
  }

  @BeforeEach
  void topics(TestInfo info) {
    String name = info.getTestMethod().orElseThrow().getName();
    in = "alo-" + name + "-in";
    out = "alo-" + name + "-out";
    pipelineId = "alo-" + name;
    kafka.createTopic(in, PARTITIONS);
    kafka.createTopic(out, PARTITIONS);
  }

  @AfterEach
  void tearDown() {
    producer.close();
  }

  @Test
  void cleanRunWritesEveryRecordOnceWithKeysHeadersTimestampsAndOnePartitionPerKey()
      throws Exception {
    produce(0, 300);
    Pipeline p = pipeline(Map.of()).set("direct.max-records-per-partition", 25).build();
    p.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 300);
    produce(300, 360);
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 360);
    p.stopGracefully();
    assertThat(p.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(p.failure()).isEmpty();

    List<ConsumerRecord<byte[], byte[]>> result = kafka.readCommitted(out);
    assertThat(values(result))
        .as("a clean run writes each record once")
        .containsExactlyInAnyOrderElementsOf(expected(0, 360));
    result.forEach(KafkaAtLeastOnceSinkIT::assertKeyHeadersAndTimestampKept);
    Map<String, Set<Integer>> partitionsByKey =
        result.stream()
            .collect(
                Collectors.groupingBy(
                    r -> str(r.key()),
                    Collectors.mapping(ConsumerRecord::partition, Collectors.toSet())));
    assertThat(partitionsByKey).hasSize(KEYS);
    partitionsByKey.forEach(
        (key, partitions) ->
            assertThat(partitions)
                .as(
                    "every record of key %s, read from all %d input partitions, in the partition Kafka's default"
                        + " partitioner gives the key",
                    key, PARTITIONS)
                .containsExactly(Utils.toPositive(Utils.murmur2(bytes(key))) % PARTITIONS));
    assertThat(result.stream().map(ConsumerRecord::partition).distinct().count())
        .as("the keys spread over more than one output partition")
        .isGreaterThan(1);
  }

  @Test
  void sourcePartitionModeKeepsEachRecordInItsInputPartition() throws Exception {
    produce(0, 120);
    Pipeline p =
        pipeline(Map.of("partitioning", "source-partition"))
            .set("direct.max-records-per-partition", 15)
            .build();
    p.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= 120);
    p.stopGracefully();
    assertThat(p.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(p.failure()).isEmpty();

    List<ConsumerRecord<byte[], byte[]>> result = kafka.readCommitted(out);
    assertThat(values(result)).containsExactlyInAnyOrderElementsOf(expected(0, 120));
    result.forEach(KafkaAtLeastOnceSinkIT::assertKeyHeadersAndTimestampKept);
    for (ConsumerRecord<byte[], byte[]> r : result) {
      assertThat(r.partition())
          .as("output partition of %s", str(r.value()))
          .isEqualTo(number(r) % PARTITIONS);
    }
    assertThat(result)
        .as(
            "some records are in another partition than their key's hash gives, so the mode made a difference")
        .anySatisfy(
            r ->
                assertThat(r.partition())
                    .isNotEqualTo(Utils.toPositive(Utils.murmur2(r.key())) % PARTITIONS));
  }

  @Test
  void batchWrittenButNotCommittedIsWrittenAgainOnRestartAndNothingIsLost() throws Exception {
    produce(0, 90);
    AtomicBoolean failed = new AtomicBoolean();
    List<String> batch2 = new CopyOnWriteArrayList<>();
    // The failing sink runs after the Kafka sink: batch 2 is in the output topic but not committed
    // in the checkpoint.
    Pipeline first =
        pipeline(Map.of())
            .set("direct.max-records-per-partition", 10)
            .foreachBatch(
                (id, records) -> {
                  if (id == 2 && failed.compareAndSet(false, true)) {
                    records.forEach(r -> batch2.add(r.valueAsString()));
                    throw new IllegalStateException("injected failure after batch 2 reached Kafka");
                  }
                })
            .build();
    first.start();
    assertThat(first.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(first.status().state()).isEqualTo(PipelineState.FAILED);
    assertThat(batch2).as("batch 2 had records").isNotEmpty();
    assertThat(values(kafka.readCommitted(out)))
        .containsExactlyInAnyOrderElementsOf(expected(0, 90));

    Pipeline second = pipeline(Map.of()).set("direct.max-records-per-partition", 10).build();
    second.start();
    produce(90, 120);
    int total = 120 + batch2.size();
    await().atMost(Duration.ofSeconds(30)).until(() -> kafka.readCommitted(out).size() >= total);
    second.stopGracefully();
    assertThat(second.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(second.failure()).isEmpty();

    List<String> expected = new ArrayList<>(expected(0, 120));
    expected.addAll(batch2);
    List<ConsumerRecord<byte[], byte[]>> result = kafka.readCommitted(out);
    assertThat(values(result))
        .as("every record at least once; exactly the replayed batch 2 twice")
        .containsExactlyInAnyOrderElementsOf(expected);
    result.forEach(KafkaAtLeastOnceSinkIT::assertKeyHeadersAndTimestampKept);
  }

  private static void assertKeyHeadersAndTimestampKept(ConsumerRecord<byte[], byte[]> r) {
    int n = number(r);
    assertThat(str(r.key())).as("key of v-%d", n).isEqualTo("user-" + n % KEYS);
    assertThat(str(r.headers().lastHeader("h").value()))
        .as("header h of v-%d", n)
        .isEqualTo("h-" + n);
    assertThat(str(r.headers().lastHeader("trace").value()))
        .as("header trace of v-%d", n)
        .isEqualTo("t-" + n);
    assertThat(r.timestampType()).isEqualTo(TimestampType.CREATE_TIME);
    assertThat(r.timestamp()).as("event time of v-%d", n).isEqualTo(EVENT_TIME + n);
  }

  private Pipeline.Builder pipeline(Map<String, Object> sinkOptions) {
    Config source =
        KafkaOptions.SOURCE.parse(
            Map.of(
                "bootstrap-servers", kafka.bootstrapServers(),
                "topics", List.of(in),
                "starting-position", "earliest"));
    Map<String, Object> sink = new HashMap<>(sinkOptions);
    sink.put("bootstrap-servers", kafka.bootstrapServers());
    sink.put("topic", out);
    return Pipeline.builder(pipelineId)
        .checkpointDir(checkpointDir)
        .batchInterval(Duration.ofMillis(100))
        .source("in", new KafkaDirectSource(source))
        .sink("out", atLeastOnceSink(sink));
  }

  /** The sink the gateway builds for {@code type: kafka-at-least-once}. */
  private static Sink atLeastOnceSink(Map<String, Object> options) {
    SinkFactory factory =
        ServiceLoader.load(SinkFactory.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(f -> f.type().equals("kafka-at-least-once"))
            .findFirst()
            .orElseThrow();
    Sink sink = factory.create("out", factory.options().parse(options));
    assertThat(sink).isInstanceOf(KafkaAtLeastOnceSink.class);
    return sink;
  }

  /** Records v-from..v-(until-1) as described in the class comment. */
  private void produce(int from, int until) throws Exception {
    producer.send(
        from,
        until,
        n ->
            new ProducerRecord<>(
                in,
                n % PARTITIONS,
                EVENT_TIME + n,
                bytes("user-" + n % KEYS),
                bytes("v-" + n),
                List.of(
                    new RecordHeader("h", bytes("h-" + n)),
                    new RecordHeader("trace", bytes("t-" + n)))));
  }
}
