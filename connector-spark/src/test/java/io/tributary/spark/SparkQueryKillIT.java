package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Spark query (Tributary kafka source into Spark's parquet sink) in a child JVM, SIGKILLed three
 * times (in the middle of a batch, right after a commit, and while more records arrive) and
 * restarted from its checkpoint each time: the output holds every record exactly once.
 */
@ExtendWith(KafkaBrokerExtension.class)
class SparkQueryKillIT {
  private static final int RECORDS = 40_000;
  private final KafkaBroker kafka;
  @TempDir Path dir;

  SparkQueryKillIT(KafkaBroker kafka) {
    this.kafka = kafka;
  }

  @Test
  void aQueryKilledThreeTimesWritesEveryRecordExactlyOnce() throws Exception {
    String topic = "spark-kill";
    kafka.createTopic(topic, 2);
    produce(topic, 0, RECORDS / 2);
    Path out = dir.resolve("out");
    Path cp = dir.resolve("cp");
    Path log = dir.resolve("child.log");

    // 1: killed while a batch is planned but not committed
    Process p = start(out, cp, log, "continuous");
    await()
        .atMost(Duration.ofMinutes(3))
        .until(
            () -> batches(cp, "commits") >= 1 && batches(cp, "offsets") > batches(cp, "commits"));
    kill(p);
    int committed = batches(cp, "commits");

    // 2: killed once a further batch committed
    p = start(out, cp, log, "continuous");
    int target = committed + 1;
    await().atMost(Duration.ofMinutes(3)).until(() -> batches(cp, "commits") >= target);
    kill(p);

    // 3: killed while new records arrive
    p = start(out, cp, log, "continuous");
    int target3 = batches(cp, "commits") + 1;
    produce(topic, RECORDS / 2, RECORDS);
    await().atMost(Duration.ofMinutes(3)).until(() -> batches(cp, "commits") >= target3);
    kill(p);

    // last run drains everything and stops
    p = start(out, cp, log, "available-now");
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("the last run finishes").isTrue();
    assertThat(p.exitValue()).as("the last run's exit; its log:\n%s", tail(log)).isZero();

    List<Row> rows = LocalSpark.session().read().parquet(out.toString()).collectAsList();
    Map<String, Integer> seen = new HashMap<>();
    for (Row r : rows) {
      seen.merge(r.getString(0), 1, Integer::sum);
    }
    List<String> twice = new ArrayList<>();
    seen.forEach(
        (v, n) -> {
          if (n > 1) {
            twice.add(v);
          }
        });
    assertThat(twice).as("records written more than once").isEmpty();
    assertThat(seen).hasSize(RECORDS);
  }

  private Process start(Path out, Path cp, Path log, String mode) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    for (String a : System.getProperty("tributary.spark.child.jvm.args", "").split(" ")) {
      if (!a.isBlank() && !a.startsWith("-Xmx")) {
        cmd.add(a);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(CrashQueryMain.class.getName());
    cmd.add(kafka.bootstrapServers());
    cmd.add("spark-kill");
    cmd.add(out.toString());
    cmd.add(cp.toString());
    cmd.add(mode);
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.PIPE)
        .start();
  }

  private static void kill(Process p) throws InterruptedException {
    p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no stop of the query
    assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
  }

  private static int batches(Path cp, String dir) throws Exception {
    Path d = cp.resolve(dir);
    if (!Files.isDirectory(d)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(d)) {
      return (int) s.filter(f -> f.getFileName().toString().matches("\\d+")).count();
    }
  }

  private void produce(String topic, int from, int until) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "acks", "all",
                "enable.idempotence", "true",
                "linger.ms", "5"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (int i = from; i < until; i++) {
        producer.send(
            new ProducerRecord<>(topic, i % 2, null, ("r" + i).getBytes(StandardCharsets.UTF_8)));
      }
      producer.flush();
    }
  }

  private static String tail(Path log) throws Exception {
    if (!Files.exists(log)) {
      return "(no log)";
    }
    List<String> lines = Files.readAllLines(log);
    return String.join(
        File.separator.equals("/") ? "\n" : System.lineSeparator(),
        lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }
}
