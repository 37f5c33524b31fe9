package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.ConfigException;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code writeStream.format("tributary").option("sink.type", "kafka")} on a local[2] Spark session
 * against the run's real Kafka broker: every field through, admission control by bytes on the way,
 * a re-run epoch skipped by its markers, and the option and column errors.
 */
@ExtendWith(KafkaBrokerExtension.class)
class TributaryKafkaSinkIT {
  private static final long BASE_TIME = System.currentTimeMillis() - 60_000;
  private final KafkaBroker kafka;
  private final SparkSession spark = LocalSpark.session();
  @TempDir Path dir;

  TributaryKafkaSinkIT(KafkaBroker kafka) {
    this.kafka = kafka;
  }

  /** Records of exactly 112 bytes (key 6, value 100, header "n" 1 + 5). */
  private void produce(String topic, int partitions, int from, int until) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "acks", "all",
                "enable.idempotence", "true"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (int i = from; i < until; i++) {
        String v = String.format("v%05d-", i) + "x".repeat(93);
        producer.send(
            new ProducerRecord<>(
                topic,
                i % partitions,
                BASE_TIME + i,
                String.format("k%05d", i).getBytes(StandardCharsets.UTF_8),
                v.getBytes(StandardCharsets.UTF_8),
                List.of(
                    new RecordHeader(
                        "n", String.format("%05d", i).getBytes(StandardCharsets.UTF_8)))));
      }
      producer.flush();
    }
  }

  private Dataset<Row> source(String topic, String option, String value) {
    return spark
        .readStream()
        .format("tributary")
        .option("source.type", "kafka")
        .option("bootstrap-servers", kafka.bootstrapServers())
        .option("topics", topic)
        .option("starting-position", "earliest")
        .option(option, value)
        .load();
  }

  private DataStreamWriter<Row> sink(Dataset<Row> df, String topic, Path cp) {
    return df.writeStream()
        .format("tributary")
        .option("sink.type", "kafka")
        .option("bootstrap-servers", kafka.bootstrapServers())
        .option("topic", topic)
        .option("partitioning", "source-partition")
        .option("checkpointLocation", cp.toString())
        .trigger(Trigger.AvailableNow());
  }

  /** The output topic as a read_committed consumer sees it. */
  private List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic) {
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                kafka.bootstrapServers(),
                "isolation.level",
                "read_committed",
                "group.id",
                "check-" + UUID.randomUUID()),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      c.partitionsFor(topic).forEach(p -> tps.add(new TopicPartition(topic, p.partition())));
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = c.endOffsets(tps);
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
        assertThat(System.nanoTime()).as("read %s to its end", topic).isLessThan(deadline);
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      return out;
    }
  }

  @Test
  void writesEveryRecordOnceWithItsFieldsAndSkipsAReRunEpochByItsMarkers() throws Exception {
    String in = "spark-sink-in";
    String out = "spark-sink-out";
    kafka.createTopic(in, 2);
    kafka.createTopic(out, 2);
    produce(in, 2, 0, 2_000);
    Path cp = dir.resolve("cp");

    // maxBytesPerTrigger 40kb with records of 112 bytes: the first batch, before any size is
    // known, takes at most 1,000 positions; then 40960 / 112 = 365 per batch.
    StreamingQuery q = sink(source(in, "maxBytesPerTrigger", "40kb"), out, cp).start();
    q.awaitTermination();
    assertThat(q.exception().isDefined()).as("%s", q.exception()).isFalse();
    List<Long> sizes = new ArrayList<>();
    List<String> avg = new ArrayList<>();
    for (var p : q.recentProgress()) {
      if (p.numInputRows() > 0) {
        sizes.add(p.numInputRows());
        avg.add(p.sources()[0].metrics().get("avgBytesPerOffset"));
      }
    }
    assertThat(sizes).as("rows per micro-batch").containsExactly(1_000L, 365L, 365L, 270L);
    assertThat(avg.subList(1, avg.size())).containsOnly("112");
    long written = 0;
    for (var p : q.recentProgress()) {
      written += Long.parseLong(p.sink().metrics().getOrDefault("recordsWritten", "0"));
    }
    assertThat(written).as("recordsWritten in the sink progress").isEqualTo(2_000);

    List<ConsumerRecord<byte[], byte[]>> records = readCommitted(out);
    assertExactlyOnce(records, 2_000);
    for (ConsumerRecord<byte[], byte[]> r : records) {
      String k = new String(r.key(), StandardCharsets.UTF_8);
      int i = Integer.parseInt(k.substring(1));
      assertThat(new String(r.value(), StandardCharsets.UTF_8))
          .isEqualTo(String.format("v%05d-", i) + "x".repeat(93));
      assertThat(r.timestamp()).isEqualTo(BASE_TIME + i);
      assertThat(r.partition()).as("source-partition routing").isEqualTo(i % 2);
      assertThat(new String(r.headers().lastHeader("n").value(), StandardCharsets.UTF_8))
          .isEqualTo(String.format("%05d", i));
    }

    // A crash after the sink's tasks committed the last epoch but before Spark's commits/N: on
    // restart Spark runs that epoch again with the same offsets, and every task finds its
    // partition's marker and writes nothing. More records then go through once.
    long last = lastBatch(cp.resolve("commits"));
    Files.delete(cp.resolve("commits").resolve(Long.toString(last)));
    Files.deleteIfExists(cp.resolve("commits").resolve("." + last + ".crc"));
    produce(in, 2, 2_000, 2_500);
    q = sink(source(in, "maxBytesPerTrigger", "40kb"), out, cp).start();
    q.awaitTermination();
    assertThat(q.exception().isDefined()).as("%s", q.exception()).isFalse();
    var rerun = q.recentProgress()[0];
    assertThat(rerun.batchId()).as("the re-run epoch").isEqualTo(last);
    assertThat(rerun.numInputRows()).isEqualTo(270);
    assertThat(rerun.sink().metrics())
        .as("the re-run epoch's tasks found their markers")
        .containsEntry("recordsSkippedAsCommitted", "270")
        .containsEntry("recordsWritten", "0");
    assertExactlyOnce(readCommitted(out), 2_500);
  }

  private static long lastBatch(Path dir) throws Exception {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.matches("\\d+"))
          .mapToLong(Long::parseLong)
          .max()
          .orElseThrow();
    }
  }

  private static void assertExactlyOnce(List<ConsumerRecord<byte[], byte[]>> records, int n) {
    Map<String, Integer> seen = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      seen.merge(new String(r.key(), StandardCharsets.UTF_8), 1, Integer::sum);
    }
    assertThat(seen.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey))
        .as("records written more than once")
        .isEmpty();
    assertThat(seen).hasSize(n);
  }

  @Test
  void optionAndColumnErrorsAreReportedWhenTheQueryStarts() throws Exception {
    String in = "spark-sink-errors";
    kafka.createTopic(in, 1);
    Dataset<Row> df = source(in, "maxRecordsPerTrigger", "10");
    Path cp = dir.resolve("cp-errors");

    assertThat(
            failure(
                () ->
                    df.writeStream()
                        .format("tributary")
                        .option("sink.type", "kafka")
                        .option("bootstrap.servers", "x:9092")
                        .option("checkpointLocation", cp.toString())
                        .start()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "Invalid options of writeStream.format(\"tributary\") (sink.type kafka)")
        .hasMessageContaining("Unknown key bootstrap.servers")
        .hasMessageContaining("Missing required key topic");

    assertThat(
            failure(
                () ->
                    df.writeStream()
                        .format("tributary")
                        .option("sink.type", "nosuch")
                        .option("checkpointLocation", cp.toString())
                        .start()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid value nosuch for sink.type: unknown type")
        .hasMessageContaining("kafka");

    assertThat(
            failure(
                () ->
                    df.writeStream()
                        .format("tributary")
                        .option("sink.type", "files")
                        .option("checkpointLocation", cp.toString())
                        .start()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid value files for sink.type: an idempotent sink");

    assertThat(
            failure(
                () ->
                    df.writeStream()
                        .format("tributary")
                        .option("sink.type", "kafka")
                        .option("source.type", "kafka")
                        .option("bootstrap-servers", kafka.bootstrapServers())
                        .option("topic", "t")
                        .option("checkpointLocation", cp.toString())
                        .start()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid key source.type together with sink.type");

    assertThat(
            failure(
                () ->
                    df.selectExpr("value", "length(value) n", "cast(partition as binary) partition")
                        .writeStream()
                        .format("tributary")
                        .option("sink.type", "kafka")
                        .option("bootstrap-servers", kafka.bootstrapServers())
                        .option("topic", "t")
                        .option("checkpointLocation", cp.toString())
                        .start()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid column n int for writeStream.format(\"tributary\"): unknown")
        .hasMessageContaining("Invalid column partition binary")
        .hasMessageContaining("wrong type");

    assertThat(
            failure(
                () ->
                    df.selectExpr("key")
                        .writeStream()
                        .format("tributary")
                        .option("sink.type", "kafka")
                        .option("bootstrap-servers", kafka.bootstrapServers())
                        .option("topic", "t")
                        .option("checkpointLocation", cp.toString())
                        .start()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Missing column value");

    // a row without a value fails its task, and so the query, saying what to do
    produce(in, 1, 0, 1);
    String out = "spark-sink-errors-out";
    kafka.createTopic(out, 1);
    assertThat(
            failure(
                () ->
                    df.selectExpr("cast(null as binary) value")
                        .writeStream()
                        .format("tributary")
                        .option("sink.type", "kafka")
                        .option("bootstrap-servers", kafka.bootstrapServers())
                        .option("topic", out)
                        .option("checkpointLocation", cp.resolve("null-value").toString())
                        .start()))
        .hasStackTraceContaining("has a null value")
        .hasStackTraceContaining("where(\"value is not null\")");
    assertThat(readCommitted(out)).isEmpty();
  }

  /**
   * The error a query start reports: thrown by {@code start()} (option errors), or the cause of the
   * query's failure when it is found on the query thread (column errors: Spark builds the write
   * there).
   */
  private static Throwable failure(java.util.concurrent.Callable<StreamingQuery> start) {
    StreamingQuery q;
    try {
      q = start.call();
    } catch (Exception e) {
      return e;
    }
    try {
      q.awaitTermination();
    } catch (org.apache.spark.sql.streaming.StreamingQueryException e) {
      return e.cause();
    }
    throw new AssertionError("the query started and ended without an error");
  }
}
