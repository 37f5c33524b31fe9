package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code format("tributary")} with {@code source.type kafka} on a local[2] Spark session against
 * the run's real Kafka broker (testing-kafka: a KRaft broker in a child JVM).
 */
@ExtendWith(KafkaBrokerExtension.class)
class TributaryKafkaSourceIT {
  // recent event times: records older than the topic's retention (7 days) are deleted by the broker
  private static final long BASE_TIME = System.currentTimeMillis() - 60_000;
  private final KafkaBroker kafka;
  private final SparkSession spark = LocalSpark.session();
  @TempDir Path dir;

  TributaryKafkaSourceIT(KafkaBroker kafka) {
    this.kafka = kafka;
  }

  // a producer per call: a producer that failed in one test cannot fail the next
  private void produce(String topic, int partitions, int from, int until) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "acks", "all",
                "enable.idempotence", "true"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      send(producer, topic, partitions, from, until);
    }
    // and the listing the source plans from must see them all before a query starts
    awaitEndOffsets(topic, partitions, until);
  }

  private static void send(
      KafkaProducer<byte[], byte[]> producer, String topic, int partitions, int from, int until)
      throws InterruptedException, TimeoutException {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (int i = from; i < until; i++) {
      ProducerRecord<byte[], byte[]> r =
          new ProducerRecord<>(
              topic,
              i % partitions,
              BASE_TIME + i,
              ("k" + i).getBytes(StandardCharsets.UTF_8),
              ("v" + i).getBytes(StandardCharsets.UTF_8),
              List.of(new RecordHeader("n", Integer.toString(i).getBytes(StandardCharsets.UTF_8))));
      sent.add(producer.send(r));
    }
    producer.flush();
    // flush() also returns when sends failed: a lost record would show up later as a short batch
    for (int i = 0; i < sent.size(); i++) {
      try {
        sent.get(i).get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        // the cause in the message: a build summary prints only the message
        throw new AssertionError(
            "record " + (from + i) + " was not written to " + topic + ": " + e.getCause(), e);
      }
    }
  }

  private void awaitEndOffsets(String topic, int partitions, int until) {
    Map<TopicPartition, Long> expected = new HashMap<>();
    for (int i = 0; i < until; i++) {
      expected.merge(new TopicPartition(topic, i % partitions), 1L, Long::sum);
    }
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers", kafka.bootstrapServers(), "isolation.level", "read_committed"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      Awaitility.await("the end offsets of " + topic + " reach " + expected)
          .atMost(Duration.ofSeconds(30))
          .until(() -> c.endOffsets(expected.keySet()).equals(expected));
    }
  }

  private Dataset<Row> stream(String topic, Map<String, String> extra) {
    var reader =
        spark
            .readStream()
            .format("tributary")
            .option("source.type", "kafka")
            .option("bootstrap-servers", kafka.bootstrapServers())
            .option("topics", topic)
            .option("starting-position", "earliest");
    for (Map.Entry<String, String> e : extra.entrySet()) {
      reader = reader.option(e.getKey(), e.getValue());
    }
    return reader.load();
  }

  private static String topic(TestInfo info) {
    return "spark-" + info.getTestMethod().orElseThrow().getName();
  }

  @Test
  void readsEveryRecordWithKeyValueTimestampHeadersPartitionAndPosition(TestInfo info)
      throws Exception {
    String topic = topic(info);
    kafka.createTopic(topic, 3);
    produce(topic, 3, 0, 300);
    Dataset<Row> df = stream(topic, Map.of());
    assertThat(df.isStreaming()).isTrue();
    StructType expected =
        new StructType()
            .add("key", DataTypes.BinaryType, true)
            .add("value", DataTypes.BinaryType, false)
            .add("partition", DataTypes.StringType, false)
            .add("position", DataTypes.StringType, false)
            .add("timestamp", DataTypes.TimestampType, true)
            .add(
                "headers",
                DataTypes.createArrayType(
                    new StructType()
                        .add("key", DataTypes.StringType, false)
                        .add("value", DataTypes.BinaryType, true),
                    false),
                false);
    assertThat(df.schema()).isEqualTo(expected);

    StreamingQuery q =
        df.selectExpr(
                "cast(key as string) k",
                "cast(value as string) v",
                "partition",
                "position",
                "cast(timestamp as long) * 1000 + (cast(date_format(timestamp, 'SSS') as long)) ts",
                "cast(headers[0].value as string) n",
                "headers[0].key hk")
            .writeStream()
            .format("memory")
            .queryName("kafka_all")
            .option("checkpointLocation", dir.resolve("cp").toString())
            .trigger(Trigger.AvailableNow())
            .start();
    q.awaitTermination(120_000);
    assertThat(q.exception().isEmpty()).as("query failed: %s", q.exception()).isTrue();
    List<Row> rows = spark.sql("select * from kafka_all").collectAsList();
    assertThat(rows).hasSize(300);
    Set<String> values = new HashSet<>();
    Map<String, List<Long>> positions = new TreeMap<>();
    for (Row r : rows) {
      int i = Integer.parseInt(r.getString(1).substring(1));
      values.add(r.getString(1));
      assertThat(r.getString(0)).isEqualTo("k" + i);
      assertThat(r.getString(2)).isEqualTo(topic + "-" + (i % 3));
      assertThat(r.getLong(4)).isEqualTo(BASE_TIME + i);
      assertThat(r.getString(5)).isEqualTo(Integer.toString(i));
      assertThat(r.getString(6)).isEqualTo("n");
      positions
          .computeIfAbsent(r.getString(2), p -> new ArrayList<>())
          .add(Long.parseLong(r.getString(3)));
    }
    assertThat(values).hasSize(300);
    assertThat(positions).hasSize(3);
    for (List<Long> ps : positions.values()) {
      assertThat(ps)
          .containsExactlyInAnyOrderElementsOf(Stream.iterate(0L, x -> x + 1).limit(100).toList());
    }
  }

  @Test
  void maxRecordsPerTriggerSplitsTheBacklogAndLagIsReported(TestInfo info) throws Exception {
    String topic = topic(info);
    kafka.createTopic(topic, 2);
    produce(topic, 2, 0, 1000);
    StreamingQuery q =
        stream(topic, Map.of("maxRecordsPerTrigger", "150"))
            .selectExpr("cast(value as string) v")
            .writeStream()
            .format("memory")
            .queryName("kafka_limited")
            .option("checkpointLocation", dir.resolve("cp").toString())
            .trigger(Trigger.AvailableNow())
            .start();
    assertThat(q.awaitTermination(180_000))
        .as(
            "the AvailableNow run ends within 3 minutes (batches so far: %s)",
            q.recentProgress().length)
        .isTrue();
    assertThat(q.exception().isEmpty()).as("query failed: %s", q.exception()).isTrue();
    List<Long> perBatch = new ArrayList<>();
    List<String> behind = new ArrayList<>();
    for (StreamingQueryProgress p : q.recentProgress()) {
      if (p.numInputRows() > 0) {
        perBatch.add(p.numInputRows());
        behind.add(p.sources()[0].metrics().get("totalOffsetsBehindLatest"));
      }
    }
    assertThat(perBatch)
        .as("rows per batch; the batches: %s", progressSummary(q))
        .containsExactly(150L, 150L, 150L, 150L, 150L, 150L, 100L);
    assertThat(behind).containsExactly("850", "700", "550", "400", "250", "100", "0");
    assertThat(spark.sql("select distinct v from kafka_limited").count()).isEqualTo(1000);
  }

  private static String progressSummary(StreamingQuery q) {
    StringBuilder out = new StringBuilder();
    for (StreamingQueryProgress p : q.recentProgress()) {
      out.append("\n  batch ")
          .append(p.batchId())
          .append(" rows=")
          .append(p.numInputRows())
          .append(" start=")
          .append(p.sources()[0].startOffset())
          .append(" end=")
          .append(p.sources()[0].endOffset())
          .append(" latest=")
          .append(p.sources()[0].latestOffset());
    }
    return out.toString();
  }

  @Test
  void aSchemaOfTheUsersIsRefused(TestInfo info) {
    assertThatThrownBy(
            () ->
                spark
                    .readStream()
                    .format("tributary")
                    .schema(new StructType().add("value", DataTypes.StringType))
                    .option("source.type", "kafka")
                    .option("bootstrap-servers", kafka.bootstrapServers())
                    .option("topics", topic(info))
                    .load())
        .hasMessageContaining("schema");
  }

  @Test
  void optionErrorsSurfaceAtLoadWithEveryProblem() {
    assertThatThrownBy(
            () ->
                spark
                    .readStream()
                    .format("tributary")
                    .option("source.type", "kafka")
                    .option("topics", "x")
                    .option("isolation", "dirty")
                    .load())
        .hasMessageContaining("Missing required key bootstrap-servers")
        .hasMessageContaining("for isolation");
  }

  @Test
  void aQueryStoppedMidwayAndOneWhoseCommitWasLostWriteEachRecordOnceIntoTheFileSink(TestInfo info)
      throws Exception {
    String topic = topic(info);
    kafka.createTopic(topic, 2);
    produce(topic, 2, 0, 2000);
    Path out = dir.resolve("out");
    Path cp = dir.resolve("cp");
    // 1: a continuous query stopped while it works through the backlog in batches of 300
    StreamingQuery q1 = fileQuery(topic, out, cp, Trigger.ProcessingTime(0));
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofMinutes(2))
        .until(() -> q1.lastProgress() != null && q1.lastProgress().batchId() >= 2);
    q1.stop();
    // 2: a crash between the sink's commit and Spark's commit log: the last batch's commit is gone
    Path commits = cp.resolve("commits");
    long last;
    try (Stream<Path> files = Files.list(commits)) {
      last =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.matches("\\d+"))
              .mapToLong(Long::parseLong)
              .max()
              .orElseThrow();
    }
    Files.delete(commits.resolve(Long.toString(last)));
    Files.deleteIfExists(commits.resolve("." + last + ".crc"));
    produce(topic, 2, 2000, 3000);
    // 3: restart from the checkpoint, drain everything
    StreamingQuery q2 = fileQuery(topic, out, cp, Trigger.AvailableNow());
    q2.awaitTermination(180_000);
    assertThat(q2.exception().isEmpty()).as("query failed: %s", q2.exception()).isTrue();
    List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
    Map<String, Integer> seen = new TreeMap<>();
    for (Row r : rows) {
      seen.merge(r.getString(0), 1, Integer::sum);
    }
    assertThat(seen).hasSize(3000);
    assertThat(seen.values()).containsOnly(1);
  }

  private StreamingQuery fileQuery(String topic, Path out, Path cp, Trigger trigger)
      throws Exception {
    return stream(topic, Map.of("maxRecordsPerTrigger", "300"))
        .selectExpr("cast(value as string) v", "partition", "position")
        .writeStream()
        .format("parquet")
        .option("path", out.toString())
        .option("checkpointLocation", cp.toString())
        .trigger(trigger)
        .start();
  }
}
