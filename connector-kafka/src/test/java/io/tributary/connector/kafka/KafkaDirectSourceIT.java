package io.tributary.connector.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * KafkaDirectSource on its own against the run's broker from {@link KafkaBrokerExtension} (a KRaft broker in a child
 * JVM, or in Docker when an engine is reachable): end offsets, discovery, retention.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaDirectSourceIT {
  private final KafkaBroker kafka;
  private String topic;
  private Admin admin;
  private KafkaDirectSource source;

  KafkaDirectSourceIT(KafkaBroker kafka) {
    this.kafka = kafka;
  }

  @BeforeEach
  void setUp(TestInfo info) throws Exception {
    topic = "src-" + info.getTestMethod().orElseThrow().getName();
    admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (source != null) {
      source.close();
      source.close();
    }
    admin.close();
  }

  @Test
  void endOffsetStopsBeforeAnOpenTransactionAndNewPartitionsStartAtEarliest() throws Exception {
    produce(0, 5, null);
    source = open("latest");
    List<PartitionInfo> first = source.partitions();
    assertThat(first).containsExactly(PartitionInfo.open(topic + "-0", 5, 5));

    Properties tx = producerProps();
    tx.put("transactional.id", "open-tx-" + topic);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(tx)) {
      p.initTransactions();
      p.beginTransaction();
      p.send(new ProducerRecord<>(topic, 0, null, bytes("uncommitted"))).get();
      produce(0, 3, null); // non-transactional records after the open transaction
      admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(2))).all().get(30, TimeUnit.SECONDS);
      produce(1, 2, null);

      List<PartitionInfo> second = source.partitions();
      assertThat(second)
          .as("partition 0 ends at the LSO (the open transaction's first offset); partition 1 is new: earliest")
          .containsExactlyInAnyOrder(PartitionInfo.open(topic + "-0", 5, 5), PartitionInfo.open(topic + "-1", 0, 2));
      p.abortTransaction();
    }
    // The abort markers are written asynchronously after abortTransaction() returns.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(source.partitions())
                    .as("the LSO moved past the abort marker; partition 1 keeps the initial offset it was found with")
                    .containsExactlyInAnyOrder(
                        PartitionInfo.open(topic + "-0", 5, 10), PartitionInfo.open(topic + "-1", 0, 2)));
    assertThat(values(source.read(new OffsetRange(topic + "-0", 5, 10))))
        .as("the aborted record and its marker take offsets 5 and 9; nothing stalls")
        .containsExactly("v0", "v1", "v2");
  }

  @Test
  void rangeDeletedByRetentionFailsWithDataUnavailable() throws Exception {
    produce(0, 10, null);
    admin
        .deleteRecords(Map.of(new TopicPartition(topic, 0), RecordsToDelete.beforeOffset(6)))
        .all()
        .get(30, TimeUnit.SECONDS);
    source = open("earliest");
    assertThat(source.partitions()).containsExactly(PartitionInfo.open(topic + "-0", 6, 10));
    assertThatThrownBy(() -> source.read(new OffsetRange(topic + "-0", 2, 8)))
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

  private Properties producerProps() {
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    return p;
  }

  private void produce(int partition, int count, String prefix) throws Exception {
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(producerProps())) {
      for (int i = 0; i < count; i++) {
        p.send(new ProducerRecord<>(topic, partition, null, bytes("v" + i))).get();
      }
    }
  }

  private static List<String> values(CloseableIterator<Record> it) {
    List<String> out = new ArrayList<>();
    try (it) {
      it.forEachRemaining(r -> out.add(r.valueAsString()));
    }
    return out;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
