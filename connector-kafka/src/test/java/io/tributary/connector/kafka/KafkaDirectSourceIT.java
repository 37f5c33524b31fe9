package io.tributary.connector.kafka;

import static io.tributary.connector.kafka.TestRecords.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * KafkaDirectSource on its own against the run's broker from {@link KafkaBrokerExtension} (a KRaft
 * broker in a child JVM, or in Docker when an engine is reachable): end offsets, discovery,
 * retention.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaDirectSourceIT {
  private final KafkaBroker kafka;
  private final CheckedProducer producer;
  private String topic;
  private Admin admin;
  private KafkaDirectSource source;

  KafkaDirectSourceIT(KafkaBroker kafka) {
    this.kafka = kafka;
    this.producer = new CheckedProducer(kafka.bootstrapServers());
  }

  @BeforeEach
  void setUp(TestInfo info) {
    topic = "src-" + info.getTestMethod().orElseThrow().getName();
    admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    kafka.createTopic(topic, 1);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (source != null) {
      source.close();
      source.close();
    }
    admin.close();
    producer.close();
  }

  @Test
  void endOffsetStopsBeforeAnOpenTransactionAndNewPartitionsStartAtEarliest() throws Exception {
    produce(0, 5);
    source = open("latest");
    List<PartitionInfo> first = source.partitions();
    assertThat(first).containsExactly(PartitionInfo.open(topic + "-0", 5, 5));

    Properties tx = CheckedProducer.producerProps(kafka.bootstrapServers());
    tx.put("transactional.id", "open-tx-" + topic);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(tx)) {
      p.initTransactions();
      p.beginTransaction();
      p.send(new ProducerRecord<>(topic, 0, null, bytes("uncommitted"))).get();
      produce(0, 3); // non-transactional records after the open transaction
      kafka.increasePartitions(topic, 2);
      produce(1, 2);

      List<PartitionInfo> second = source.partitions();
      assertThat(second)
          .as(
              "partition 0 ends at the LSO (the open transaction's first offset); partition 1 is new: earliest")
          .containsExactlyInAnyOrder(
              PartitionInfo.open(topic + "-0", 5, 5), PartitionInfo.open(topic + "-1", 0, 2));
      p.abortTransaction();
    }
    // The abort markers are written asynchronously after abortTransaction() returns.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(source.partitions())
                    .as(
                        "the LSO moved past the abort marker; partition 1 keeps the initial offset it was found with")
                    .containsExactlyInAnyOrder(
                        PartitionInfo.open(topic + "-0", 5, 10),
                        PartitionInfo.open(topic + "-1", 0, 2)));
    assertThat(values(source.read(new OffsetRange(topic + "-0", 5, 10))))
        .as("the aborted record and its marker take offsets 5 and 9; nothing stalls")
        .containsExactly("v0", "v1", "v2");
  }

  @Test
  void rangeDeletedByRetentionFailsWithDataUnavailable() throws Exception {
    produce(0, 10);
    admin
        .deleteRecords(Map.of(new TopicPartition(topic, 0), RecordsToDelete.beforeOffset(6)))
        .all()
        .get(30, TimeUnit.SECONDS);
    source = open("earliest");
    assertThat(source.partitions()).containsExactly(PartitionInfo.open(topic + "-0", 6, 10));
    // Found by the first fetch (no log-start lookup per range): thrown by the iterator, before any
    // record.
    assertThatThrownBy(() -> values(source.read(new OffsetRange(topic + "-0", 2, 8))))
        .isInstanceOf(DataUnavailableException.class)
        .hasMessageContaining("Kafka topic " + topic + " partition 0")
        .hasMessageContaining("[2, 8)")
        .hasMessageContaining("log start offset is now 6")
        .hasMessageContaining("retention");
    // The consumer is free again after the failure: a later range reads fine, with positions.
    try (CloseableIterator<Record> it = source.read(new OffsetRange(topic + "-0", 6, 8))) {
      Record r = it.next();
      assertThat(r.position()).isEqualTo(new SourcePosition("in", topic + "-0", 6));
      assertThat(r.valueAsString()).isEqualTo("v6");
      assertThat(it.next().position().offset()).isEqualTo(7);
      assertThat(it.hasNext()).isFalse();
    }
  }

  private KafkaDirectSource open(String startingPosition) throws Exception {
    KafkaDirectSource s =
        new KafkaDirectSource(
            KafkaOptions.SOURCE.parse(
                Map.of(
                    "bootstrap-servers", kafka.bootstrapServers(),
                    "topics", topic,
                    "starting-position", startingPosition)));
    MeterRegistry registry = new SimpleMeterRegistry();
    s.open(
        new SourceContext() {
          @Override
          public String pipelineId() {
            return "direct-it";
          }

          @Override
          public String sourceName() {
            return "in";
          }

          @Override
          public MeterRegistry meterRegistry() {
            return registry;
          }
        });
    return s;
  }

  /** Records v0..v(count-1) into {@code partition}, no key. */
  private void produce(int partition, int count) throws Exception {
    producer.send(0, count, i -> new ProducerRecord<>(topic, partition, null, bytes("v" + i)));
  }

  private static List<String> values(CloseableIterator<Record> it) {
    List<String> out = new ArrayList<>();
    try (it) {
      it.forEachRemaining(r -> out.add(r.valueAsString()));
    }
    return out;
  }
}
