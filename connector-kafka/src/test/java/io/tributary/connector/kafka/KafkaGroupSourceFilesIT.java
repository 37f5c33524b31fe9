package io.tributary.connector.kafka;

import static io.tributary.connector.kafka.TestRecords.expected;
import static io.tributary.connector.kafka.TestRecords.numbered;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import io.tributary.core.sinks.RollingFileSink;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group-managed source ({@code kafka-group}) with a sink that is not Kafka's: the {@code files}
 * sink ({@link RollingFileSink}), against the run's broker from {@link KafkaBrokerExtension}. The
 * README promises at-least-once for this combination: with no Kafka transaction to carry them, the
 * source commits the batch's offsets to the group after the batch's checkpoint commit, and the
 * partitions' next owner starts there.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaGroupSourceFilesIT {
  private static final int PARTITIONS = 4;

  private final KafkaBroker kafka;
  private final List<Pipeline> running = new ArrayList<>();
  private final CheckedProducer producer;
  private String in;
  private String group;
  private Admin admin;

  @TempDir Path dir;

  KafkaGroupSourceFilesIT(KafkaBroker kafka) {
    this.kafka = kafka;
    this.producer = new CheckedProducer(kafka.bootstrapServers());
  }

  @BeforeEach
  void topics(TestInfo info) {
    String name = info.getTestMethod().orElseThrow().getName();
    in = "gf-" + name + "-in";
    group = "gf-" + name;
    admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    kafka.createTopic(in, PARTITIONS);
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
  void everyRecordIsWrittenAndGroupOffsetsAdvanceAfterEachBatchCommitUpToTheEndOffsets()
      throws Exception {
    produce(0, 400);
    Path filesA = dir.resolve("files-a");
    // For each batch with records: the group's committed offsets while the batch is being written
    // (after the files
    // sink wrote it, before its checkpoint commit), and how many records the batches before it had.
    List<long[]> committedWhileWriting = new CopyOnWriteArrayList<>();
    AtomicLong writtenBefore = new AtomicLong();
    Pipeline a =
        start(
            "a",
            filesA,
            b ->
                b.foreachBatch(
                    (id, records) -> {
                      if (!records.isEmpty()) {
                        committedWhileWriting.add(
                            new long[] {id, committedSum(), writtenBefore.get()});
                        writtenBefore.addAndGet(records.size());
                      }
                    }));
    await().atMost(Duration.ofSeconds(30)).until(() -> lines(filesA).size() >= 400);
    produce(400, 500);
    await().atMost(Duration.ofSeconds(30)).until(() -> lines(filesA).size() >= 500);
    // The last batch's offsets are committed just after its files are published.
    await().atMost(Duration.ofSeconds(30)).until(() -> committedSum() == 500);
    a.stopGracefully();
    assertThat(a.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(a.failure()).isEmpty();

    assertThat(lines(filesA))
        .as("a clean run writes each record once")
        .containsExactlyInAnyOrderElementsOf(expected(0, 500));
    assertThat(committedWhileWriting)
        .as("25 records per partition and batch: at least 5 batches")
        .hasSizeGreaterThanOrEqualTo(5);
    assertThat(committedWhileWriting)
        .as(
            "while batch N is written the group holds exactly the end offsets of the batches before N: nothing"
                + " committed before the batch commit, and every earlier batch committed after its own")
        .allSatisfy(
            c ->
                assertThat(c[1])
                    .as("committed offsets (sum) while writing batch %d", c[0])
                    .isEqualTo(c[2]));
    Map<TopicPartition, OffsetAndMetadata> committed = committed();
    assertThat(offsets(committed))
        .as("committed offsets equal the end offsets after draining")
        .isEqualTo(endOffsets());
    assertThat(committed.values())
        .as("committed after a batch of instance a, tagged with it")
        .allSatisfy(o -> assertThat(o.metadata()).matches("tributary:" + group + "-a:\\d+"));
  }

  @Test
  void nextOwnerOfThePartitionsStartsAtTheOffsetsCommittedAfterTheBatches() throws Exception {
    produce(0, 100);
    Path filesA = dir.resolve("files-a");
    Pipeline a = start("a", filesA, b -> b);
    await().atMost(Duration.ofSeconds(30)).until(() -> committedSum() == 100);
    a.stopGracefully();
    assertThat(a.awaitTermination(Duration.ofSeconds(30))).isTrue();
    assertThat(lines(filesA)).containsExactlyInAnyOrderElementsOf(expected(0, 100));

    // Another instance, with an empty checkpoint of its own and starting-position earliest: only
    // the group's offsets
    // tell it where to go on.
    produce(100, 160);
    Path filesB = dir.resolve("files-b");
    start("b", filesB, b -> b);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> lines(filesB).size() >= 60 && committedSum() == 160);
    assertThat(lines(filesB)).containsExactlyInAnyOrderElementsOf(expected(100, 160));
  }

  /**
   * Values in the published files of {@code filesDir}, in file name order (hidden temp files
   * ignored).
   */
  private static List<String> lines(Path filesDir) throws IOException {
    if (!Files.isDirectory(filesDir)) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(filesDir)) {
      for (Path f :
          files.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList()) {
        out.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private Map<TopicPartition, OffsetAndMetadata> committed() throws Exception {
    return admin
        .listConsumerGroupOffsets(group)
        .partitionsToOffsetAndMetadata()
        .get(30, TimeUnit.SECONDS);
  }

  /**
   * The input carries no transactions, so the offsets committed sum up to the number of records
   * read.
   */
  private long committedSum() throws Exception {
    return committed().values().stream().mapToLong(OffsetAndMetadata::offset).sum();
  }

  private static Map<TopicPartition, Long> offsets(
      Map<TopicPartition, OffsetAndMetadata> committed) {
    return committed.entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
  }

  private Map<TopicPartition, Long> endOffsets() throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      latest.put(new TopicPartition(in, p), OffsetSpec.latest());
    }
    return admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
  }

  private Pipeline start(String instance, Path filesDir, UnaryOperator<Pipeline.Builder> extra) {
    Map<String, Object> src = new HashMap<>();
    src.put("bootstrap-servers", kafka.bootstrapServers());
    src.put("topics", List.of(in));
    src.put("group-id", group);
    src.put("starting-position", "earliest");
    src.put("group-join-timeout", "10s");
    src.put("kafka.heartbeat.interval.ms", 100);
    Pipeline.Builder b =
        Pipeline.builder(group + "-" + instance)
            .checkpointDir(dir.resolve("checkpoint-" + instance))
            .batchInterval(Duration.ofMillis(100))
            .set("direct.max-records-per-partition", 25)
            .source("in", new KafkaGroupSource(KafkaOptions.GROUP_SOURCE.parse(src)))
            .sink("files", RollingFileSink.builder(filesDir).build());
    Pipeline p = extra.apply(b).build();
    p.start();
    running.add(p);
    return p;
  }

  /** Records v-from..v-(until-1) into {@code in}, keyed k-n, record n in partition n % 4. */
  private void produce(int from, int until) throws Exception {
    producer.send(from, until, n -> numbered(in, PARTITIONS, n));
  }
}
