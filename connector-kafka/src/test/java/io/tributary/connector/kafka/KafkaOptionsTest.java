package io.tributary.connector.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.connector.kafka.KafkaOptions.Partitioning;
import io.tributary.connector.kafka.internal.KafkaClients;
import io.tributary.connector.kafka.internal.RecordRouting;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Record;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.SourceFactory;
import io.tributary.core.api.SourcePosition;
import io.tributary.core.api.TributaryException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class KafkaOptionsTest {

  @Test
  void factoriesAreFoundByServiceLoaderWithTheirGuarantees() {
    assertThat(ServiceLoader.load(SourceFactory.class).stream().map(p -> p.get().type()))
        .contains("kafka", "kafka-group");
    Map<String, Guarantee> sinks =
        ServiceLoader.load(SinkFactory.class).stream()
            .map(ServiceLoader.Provider::get)
            .collect(java.util.stream.Collectors.toMap(SinkFactory::type, SinkFactory::guarantee));
    assertThat(sinks)
        .containsEntry("kafka", Guarantee.EXACTLY_ONCE_TRANSACTIONAL)
        .containsEntry("kafka-at-least-once", Guarantee.AT_LEAST_ONCE);
  }

  @Test
  void sourceDefaultsAreReadCommittedAndLatest() {
    Config c =
        KafkaOptions.SOURCE.parse(Map.of("bootstrap-servers", "127.0.0.1:9092", "topics", "a, b"));
    assertThat(c.get(KafkaOptions.TOPICS)).containsExactly("a", "b");
    assertThat(c.get(KafkaOptions.ISOLATION)).isEqualTo(KafkaOptions.Isolation.READ_COMMITTED);
    assertThat(c.get(KafkaOptions.STARTING_POSITION))
        .isEqualTo(KafkaOptions.StartingPosition.LATEST);
    assertThat(KafkaOptions.clientProperties(c)).isEmpty();
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    assertThatThrownBy(
            () ->
                KafkaOptions.SOURCE.parse(
                    Map.of(
                        "starting-position",
                        "middle",
                        "max-poll-records",
                        0,
                        "isolation",
                        "dirty")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bootstrap-servers")
        .hasMessageContaining("topics")
        .hasMessageContaining("starting-position")
        .hasMessageContaining("max-poll-records")
        .hasMessageContaining("isolation");
  }

  @Test
  void passThroughClientSettingsAreCheckedWithTheClientsOwnDeclarationsAtValidation() {
    // What `run` refused before while `validate` let it through: the clients' own ConfigDefs now
    // check each kafka.* value (and each client-properties entry) when the config is parsed.
    assertThatThrownBy(
            () ->
                KafkaOptions.SOURCE.parse(
                    Map.of(
                        "bootstrap-servers", "b:1",
                        "topics", "t",
                        "kafka.security.protocol", "PLAINTXT")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "Invalid value PLAINTXT for kafka.security.protocol: refused by the Kafka client")
        .hasMessageContaining("SASL_SSL");
    assertThatThrownBy(
            () ->
                KafkaOptions.GROUP_SOURCE.parse(
                    Map.of(
                        "bootstrap-servers", "b:1",
                        "topics", "t",
                        "group-id", "g",
                        "kafka.session.timeout.ms", "soon")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "Invalid value soon for kafka.session.timeout.ms: refused by the Kafka client")
        .hasMessageContaining("expected: a int value");
    assertThatThrownBy(
            () ->
                KafkaOptions.SINK.parse(
                    Map.of(
                        "bootstrap-servers",
                        "b:1",
                        "topic",
                        "t",
                        "client-properties",
                        List.of("acks=some"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("acks=some is refused by the Kafka client");
    // A secret's value is never echoed, even when the client refuses it.
    assertThatThrownBy(
            () ->
                KafkaOptions.SINK.parse(
                    Map.of(
                        "bootstrap-servers", "b:1",
                        "topic", "t",
                        "kafka.ssl.key.password", "",
                        "kafka.sasl.login.refresh.window.factor", "hunter2-not-a-number")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("kafka.sasl.login.refresh.window.factor")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
    // Names no client declares (interceptor or callback settings) and valid values pass.
    Config ok =
        KafkaOptions.SINK.parse(
            Map.of(
                "bootstrap-servers", "b:1",
                "topic", "t",
                "kafka.security.protocol", "SASL_SSL",
                "kafka.linger.ms", "5",
                "kafka.my.interceptor.setting", "anything"));
    assertThat(KafkaOptions.clientProperties(ok)).containsEntry("linger.ms", "5");
  }

  @Test
  void clientPropertiesPassThroughAsNameValueEntries() {
    Config c =
        KafkaOptions.SINK.parse(
            Map.of(
                "bootstrap-servers", "b:1",
                "topic", "t",
                "client-properties",
                    List.of("security.protocol=SASL_SSL", "sasl.jaas.config=a b=c;")));
    assertThat(KafkaOptions.clientProperties(c))
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.jaas.config", "a b=c;");
    assertThat(
            KafkaClients.properties("b:1", KafkaOptions.clientProperties(c), Map.of("acks", "all")))
        .containsEntry("bootstrap.servers", "b:1")
        .containsEntry("acks", "all")
        .containsEntry("security.protocol", "SASL_SSL");
    assertThatThrownBy(
            () ->
                KafkaOptions.SINK.parse(
                    Map.of(
                        "bootstrap-servers",
                        "b",
                        "topic",
                        "t",
                        "client-properties",
                        List.of("=x"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not name=value");
  }

  @Test
  void partitionIdsRoundTripEvenWithDashesInTheTopicName() {
    TopicPartition tp = new TopicPartition("my-topic-v2", 12);
    assertThat(KafkaClients.partitionId(tp)).isEqualTo("my-topic-v2-12");
    assertThat(KafkaClients.topicPartition("my-topic-v2-12")).isEqualTo(tp);
    assertThatThrownBy(() -> KafkaClients.topicPartition("nodash"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KafkaClients.topicPartition("t-x"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sourcePartitioningKeepsThePartitionNumberAndRefusesATooSmallTopic() {
    RecordRouting routing = new RecordRouting("out", Partitioning.SOURCE_PARTITION);
    Record r =
        new Record(
            "k".getBytes(StandardCharsets.UTF_8),
            "v".getBytes(StandardCharsets.UTF_8),
            42L,
            Map.of("h", new byte[] {1}),
            new SourcePosition("in", "events-3", 7));
    ProducerRecord<byte[], byte[]> pr = routing.toProducerRecord(r, 4);
    assertThat(pr.partition()).isEqualTo(3);
    assertThat(pr.timestamp()).isEqualTo(42L);
    assertThat(pr.headers().lastHeader("h").value()).containsExactly(1);
    assertThatThrownBy(() -> routing.toProducerRecord(r, 2))
        .isInstanceOf(TributaryException.class)
        .hasMessageContaining("has 2 partitions")
        .hasMessageContaining("partitioning: key");
    assertThat(new RecordRouting("out", Partitioning.KEY).toProducerRecord(r, 0).partition())
        .isNull();
  }

  @Test
  void kafkaPrefixedKeysPassThroughAndWinOverClientProperties() {
    Map<String, Object> raw = new java.util.HashMap<>();
    raw.put("bootstrap-servers", "b:1");
    raw.put("topics", "t");
    raw.put("group-id", "g");
    raw.put("client-properties", List.of("security.protocol=SSL", "client.rack=r1"));
    raw.put("kafka.security.protocol", "SASL_SSL");
    raw.put("kafka.ssl.truststore.location", "/etc/kafka/truststore.jks");
    raw.put("kafka.sasl.jaas.config", "x required password=\"p\";");
    for (io.tributary.core.api.ConfigSpec spec :
        List.of(
            KafkaOptions.SOURCE,
            KafkaOptions.GROUP_SOURCE,
            KafkaOptions.SINK,
            KafkaOptions.AT_LEAST_ONCE_SINK)) {
      Map<String, Object> forSpec = new java.util.HashMap<>(raw);
      if (spec != KafkaOptions.GROUP_SOURCE) {
        forSpec.remove("group-id");
      }
      if (spec == KafkaOptions.SINK || spec == KafkaOptions.AT_LEAST_ONCE_SINK) {
        forSpec.remove("topics");
        forSpec.put("topic", "t");
      }
      assertThat(KafkaOptions.clientProperties(spec.parse(forSpec)))
          .containsEntry("security.protocol", "SASL_SSL")
          .containsEntry("client.rack", "r1")
          .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.jks")
          .containsEntry("sasl.jaas.config", "x required password=\"p\";");
    }
  }

  @Test
  void aMalformedClientPropertyNeverEchoesASecretOfTheSameList() {
    Map<String, Object> raw =
        Map.of(
            "bootstrap-servers",
            "b:9092",
            "topics",
            "t",
            "client-properties",
            List.of(
                "security.protocol SASL_SSL",
                "sasl.jaas.config=x.Login required password=\"hunter2\";"),
            "kafka.ssl.key.password",
            "k3y-pass");
    assertThatThrownBy(() -> KafkaOptions.SOURCE.parse(raw))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("client-properties")
        .hasMessageContaining("not name=value")
        .satisfies(
            e -> assertThat(e.getMessage()).doesNotContain("hunter2").doesNotContain("k3y-pass"));
  }

  @Test
  void describedSettingsMaskEverySecretLookingName() {
    Map<String, String> settings = new java.util.LinkedHashMap<>();
    settings.put("security.protocol", "SASL_SSL");
    settings.put("sasl.jaas.config", "jaas-value");
    settings.put("ssl.keystore.password", "ks-value");
    settings.put("ssl.key.password", "k-value");
    settings.put("basic.auth.user.info.secret", "s-value");
    settings.put("ssl.keystore.key", "pem-value");
    assertThat(Secrets.describe(settings))
        .isEqualTo(
            "{security.protocol=SASL_SSL, sasl.jaas.config=******, ssl.keystore.password=******,"
                + " ssl.key.password=******, basic.auth.user.info.secret=******, ssl.keystore.key=******}");
  }

  @Test
  void startingPositionsTimestampAndOffsetsNeedTheirKeys() {
    Map<String, Object> base = Map.of("bootstrap-servers", "b:1", "topics", "t");
    Map<String, Object> ts = new java.util.HashMap<>(base);
    ts.put("starting-position", "timestamp");
    assertThatThrownBy(() -> new KafkaDirectSource(KafkaOptions.SOURCE.parse(ts)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("starting-timestamp");
    ts.put("starting-timestamp", "yesterday");
    assertThatThrownBy(() -> KafkaOptions.SOURCE.parse(ts))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not a timestamp");
    ts.put("starting-timestamp", "2026-01-31T12:00:00Z");
    assertThat(KafkaOptions.parseTimestamp("2026-01-31T12:00:00Z")).isEqualTo(1769860800000L);
    assertThat(new KafkaDirectSource(KafkaOptions.SOURCE.parse(ts)).toString())
        .contains("TIMESTAMP");
    Map<String, Object> offs = new java.util.HashMap<>(base);
    offs.put("starting-position", "offsets");
    assertThatThrownBy(() -> new KafkaDirectSource(KafkaOptions.SOURCE.parse(offs)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("starting-offsets");
    offs.put("starting-offsets", List.of("my-topic-3=12", "bad"));
    assertThatThrownBy(() -> KafkaOptions.SOURCE.parse(offs))
        .hasMessageContaining("entry bad is not topic-N=offset");
    offs.put("starting-offsets", List.of("my-topic-3=12"));
    assertThat(KafkaOptions.startingOffsets(KafkaOptions.SOURCE.parse(offs)))
        .containsExactly(Map.entry("my-topic-3", 12L));
  }

  @Test
  void groupCommitMetadataIsRecognisedOnlyForTheSamePipeline() {
    String meta =
        io.tributary.connector.kafka.internal.GroupOffsetsHandoff.commitMetadata("clicks-a", 42);
    assertThat(
            io.tributary.connector.kafka.internal.GroupOffsetsHandoff.committedBy(meta, "clicks-a"))
        .isTrue();
    assertThat(
            io.tributary.connector.kafka.internal.GroupOffsetsHandoff.committedBy(meta, "clicks"))
        .isFalse();
    assertThat(
            io.tributary.connector.kafka.internal.GroupOffsetsHandoff.committedBy(
                meta, "clicks-a:4"))
        .isFalse();
    assertThat(
            io.tributary.connector.kafka.internal.GroupOffsetsHandoff.committedBy(null, "clicks-a"))
        .isFalse();
    assertThat(
            io.tributary.connector.kafka.internal.GroupOffsetsHandoff.committedBy("", "clicks-a"))
        .isFalse();
  }
}
