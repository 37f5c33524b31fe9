package io.tributary.connector.kafka;

import static io.tributary.connector.kafka.TestRecords.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Starting positions, lag-monitoring commits and secret handling of the Kafka sources against the
 * run's broker from {@link KafkaBrokerExtension}.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaSourceSettingsIT {
  private final KafkaBroker kafka;
  private final CheckedProducer producer;
  private String topic;
  private Admin admin;
  private final List<DirectSource> opened = new ArrayList<>();

  KafkaSourceSettingsIT(KafkaBroker kafka) {
    this.kafka = kafka;
    this.producer = new CheckedProducer(kafka.bootstrapServers());
  }

  @BeforeEach
  void setUp(TestInfo info) throws Exception {
    topic = "set-" + info.getTestMethod().orElseThrow().getName();
    admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    kafka.createTopic(topic, 2);
    // Partition 0: timestamps 1000, 2000, ..., 6000. Partition 1: 100, 200, 300.
    producer.send(
        0, 6, i -> new ProducerRecord<>(topic, 0, 1000L * (i + 1), null, bytes("p0-" + i)));
    producer.send(
        0, 3, i -> new ProducerRecord<>(topic, 1, 100L * (i + 1), null, bytes("p1-" + i)));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (DirectSource s : opened) {
      s.close();
    }
    admin.close();
    producer.close();
  }

  @Test
  void timestampStartsAtTheFirstRecordAtOrAfterItAndAtTheEndWhenNoneIs() throws Exception {
    DirectSource s = open(Map.of("starting-position", "timestamp", "starting-timestamp", "2500"));
    assertThat(s.partitions())
        .containsExactlyInAnyOrder(
            PartitionInfo.open(topic + "-0", 2, 6), PartitionInfo.open(topic + "-1", 3, 3));
    DirectSource iso =
        open(
            Map.of(
                "starting-position",
                "timestamp",
                "starting-timestamp",
                "1970-01-01T00:00:00.150Z"));
    assertThat(iso.partitions())
        .containsExactlyInAnyOrder(
            PartitionInfo.open(topic + "-0", 0, 6), PartitionInfo.open(topic + "-1", 1, 3));
  }

  @Test
  void explicitOffsetsApplyPerPartitionAndUnlistedPartitionsStartAtEarliest() throws Exception {
    DirectSource s =
        open(Map.of("starting-position", "offsets", "starting-offsets", List.of(topic + "-0=4")));
    assertThat(s.partitions())
        .containsExactlyInAnyOrder(
            PartitionInfo.open(topic + "-0", 4, 6), PartitionInfo.open(topic + "-1", 0, 3));
  }

  @Test
  void committedBatchesReachTheLagMonitoringGroupOnlyWhenConfigured() throws Exception {
    DirectSource plain = open(Map.of("starting-position", "earliest"));
    plain.onBatchCommitted(0, List.of(new OffsetRange(topic + "-0", 0, 2)));
    String group = "lag-" + topic;
    DirectSource monitored =
        open(Map.of("starting-position", "earliest", "commit-group-id", group));
    drain(monitored, new OffsetRange(topic + "-0", 0, 4));
    monitored.onBatchCommitted(
        1, List.of(new OffsetRange(topic + "-0", 0, 4), new OffsetRange(topic + "-1", 0, 0)));
    Map<TopicPartition, OffsetAndMetadata> offsets =
        admin
            .listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS);
    assertThat(offsets)
        .as("the batch's end offset, for the non-empty range only")
        .containsOnlyKeys(new TopicPartition(topic, 0));
    assertThat(offsets.get(new TopicPartition(topic, 0)).offset()).isEqualTo(4);
    assertThat(admin.listGroups().all().get(30, TimeUnit.SECONDS))
        .as("without commit-group-id no group is created")
        .noneMatch(g -> g.groupId().startsWith("tributary-"));
  }

  @Test
  void secretsInClientSettingsAreNeverLoggedOrShown() throws Exception {
    Map<String, Object> secrets = new HashMap<>();
    secrets.put("starting-position", "earliest");
    secrets.put("kafka.sasl.jaas.config", "org.example.Login required password=\"jaas-s3cr3t\";");
    secrets.put("kafka.ssl.key.password", "key-s3cr3t");
    secrets.put(
        "client-properties", List.of("ssl.truststore.password=trust-s3cr3t", "client.rack=r1"));
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    List<String> shown = new ArrayList<>();
    try {
      DirectSource direct = open(secrets);
      direct.partitions();
      shown.add(direct.toString());
      Map<String, Object> group = new HashMap<>(secrets);
      group.put("group-id", "g-" + topic);
      group.put("topics", topic);
      group.put("bootstrap-servers", kafka.bootstrapServers());
      KafkaGroupSource g = new KafkaGroupSource(KafkaOptions.GROUP_SOURCE.parse(group));
      shown.add(g.toString());
      g.open(context("secrets-group"));
      opened.add(g);
      g.partitions();
      Map<String, Object> sink = new HashMap<>(secrets);
      sink.remove("starting-position");
      sink.put("bootstrap-servers", kafka.bootstrapServers());
      sink.put("topic", topic);
      shown.add(new KafkaSink(KafkaOptions.SINK.parse(sink)).toString());
      shown.add(new KafkaAtLeastOnceSink(KafkaOptions.AT_LEAST_ONCE_SINK.parse(sink)).toString());
    } finally {
      System.setErr(original);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log)
        .contains("event=kafka_source_opened")
        .contains("event=kafka_group_source_opened");
    for (String text : append(shown, log)) {
      assertThat(text)
          .doesNotContain("jaas-s3cr3t")
          .doesNotContain("key-s3cr3t")
          .doesNotContain("trust-s3cr3t")
          .contains("sasl.jaas.config=******")
          .contains("ssl.truststore.password=******")
          .contains("client.rack=r1");
    }
  }

  private static List<String> append(List<String> list, String more) {
    List<String> out = new ArrayList<>(list);
    out.add(more);
    return out;
  }

  private void drain(DirectSource s, OffsetRange range) throws Exception {
    try (CloseableIterator<Record> it = s.read(range)) {
      it.forEachRemaining(r -> {});
    }
  }

  private DirectSource open(Map<String, Object> options) throws Exception {
    Map<String, Object> all = new HashMap<>(options);
    all.put("bootstrap-servers", kafka.bootstrapServers());
    all.put("topics", topic);
    KafkaDirectSource s = new KafkaDirectSource(KafkaOptions.SOURCE.parse(all));
    s.open(context("settings-it"));
    opened.add(s);
    return s;
  }

  private static SourceContext context(String pipelineId) {
    MeterRegistry registry = new SimpleMeterRegistry();
    return new SourceContext() {
      @Override
      public String pipelineId() {
        return pipelineId;
      }

      @Override
      public String sourceName() {
        return "in";
      }

      @Override
      public MeterRegistry meterRegistry() {
        return registry;
      }
    };
  }
}
