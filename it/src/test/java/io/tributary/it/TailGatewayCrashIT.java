package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged gateway as a separate process follows 20 growing log files with the {@code
 * files-tail} source and writes every line to the exactly-once rolling {@code files} sink (and, in
 * a shorter variant, to the transactional {@code kafka} sink). A writer appends numbered lines to
 * the 20 files at a steady pace (some lines in two writes, so the source sees half lines) and
 * rotates them as logrotate does, by rename ({@code app-07.log} becomes {@code app-07.log.3}, the
 * next write creates a new {@code app-07.log}) and by copytruncate (copied to {@code app-07.log.4},
 * then truncated in place), while the gateway is killed with SIGKILL at random moments (at least 5
 * times) and restarted; the writer goes on while it is down. Afterwards every line must be in the
 * output exactly once.
 *
 * <p>The writer never writes between a copytruncate's copy and its truncation: lines written there
 * are lost by copytruncate's design (logrotate's documentation says so), whatever reads the file.
 *
 * <p>Random moments: each kill waits until the writer passed a random target and the gateway
 * committed output since its last start, polled at a random interval (seeded; the seed is printed,
 * rerun with {@code -Dtail.crash.seed=N}).
 */
class TailGatewayCrashIT {
  private static final int FILES = 20;
  private static final int LINES = 16_000;
  private static final int KILLS = 6;
  private static final int LINES_PER_TICK = 20;
  private static final long TICK_MILLIS = 50;

  /** A file is rotated every this many of its own lines. */
  private static final int ROTATE_EVERY = 100;

  @TempDir Path tmp;

  @Test
  void everyLineOfTwentyRotatedGrowingFilesIsWrittenExactlyOnceAcrossSigkills() throws Exception {
    Path out = tmp.resolve("out");
    run(
        "files",
        "      - { type: files, path: " + out + ", max-file-size: 256kb }",
        () -> GatewayProcess.outputLines(out),
        LINES,
        LINES_PER_TICK,
        KILLS);
  }

  /**
   * The same into the transactional {@code kafka} sink (shorter: 4,000 lines at 160 lines/s, 5
   * kills), checked with a {@code read_committed} consumer.
   */
  @Test
  @ExtendWith(KafkaBrokerExtension.class)
  void everyLineExactlyOnceIntoTheTransactionalKafkaSinkAcrossSigkills(KafkaBroker broker)
      throws Exception {
    String topic = "tail-crash-out";
    broker.createTopic(topic, 1);
    try (CommittedLines committed = new CommittedLines(broker.bootstrapServers(), topic)) {
      run(
          "kafka",
          String.join(
              "\n",
              "      - type: kafka",
              "        bootstrap-servers: " + broker.bootstrapServers(),
              "        topic: " + topic,
              "        transaction-timeout: 60s"),
          committed::lines,
          4_000,
          8,
          5);
    }
  }

  /** Lines of the sink's output so far. */
  interface Output {
    List<String> lines() throws Exception;
  }

  private void run(
      String sinkName, String sinkYaml, Output output, int total, int perTick, int killCount)
      throws Exception {
    long seed = Long.getLong("tail.crash.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.printf("TailGatewayCrashIT[%s]: seed=%d%n", sinkName, seed);
    Path in = Files.createDirectories(tmp.resolve("logs"));
    Path config = tmp.resolve("gateway.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: tcrash",
            "    settings:",
            "      batch-interval: 200ms",
            "    checkpoint: " + tmp.resolve("checkpoint"),
            "    source:",
            "      type: files-tail",
            "      paths: [" + in + "]",
            "      file-pattern: \"app-*.log*\"",
            "    sinks:",
            sinkYaml,
            ""));

    AtomicInteger written = new AtomicInteger();
    int[] perFile = new int[FILES];
    int[] rotations = new int[FILES];
    AtomicInteger renames = new AtomicInteger();
    AtomicInteger copytruncates = new AtomicInteger();
    Random writerRandom = new Random(seed + 1);
    ScheduledExecutorService writer =
        Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "tributary-tcrash-writer-1"));
    int kills = 0;
    Path log = tmp.resolve("gateway.log");
    try (GatewayProcess gateway = new GatewayProcess(config, log)) {
      gateway.start();
      java.util.concurrent.ScheduledFuture<?> writing =
          writer.scheduleAtFixedRate(
              () -> {
                try {
                  for (int i = 0; i < perTick && written.get() < total; i++) {
                    int n = written.get();
                    int f = writerRandom.nextInt(FILES);
                    Path file = in.resolve(name(f));
                    String text = line(n) + "\n";
                    if (writerRandom.nextInt(8) == 0) {
                      int cut = 1 + writerRandom.nextInt(text.length() - 1);
                      append(file, text.substring(0, cut));
                      append(file, text.substring(cut));
                    } else {
                      append(file, text);
                    }
                    written.incrementAndGet();
                    if (++perFile[f] % ROTATE_EVERY == 0) {
                      Path rotated = in.resolve(name(f) + "." + (++rotations[f]));
                      if (writerRandom.nextBoolean()) {
                        Files.move(file, rotated, StandardCopyOption.ATOMIC_MOVE);
                        renames.incrementAndGet();
                      } else {
                        Files.copy(file, rotated);
                        Files.write(file, new byte[0], StandardOpenOption.TRUNCATE_EXISTING);
                        copytruncates.incrementAndGet();
                      }
                    }
                  }
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              },
              0,
              TICK_MILLIS,
              TimeUnit.MILLISECONDS);
      for (int k = 0; k < killCount; k++) {
        int target =
            total * (k + 1) / (killCount + 1)
                + random.nextInt(total / (killCount * 3))
                - total / (killCount * 6);
        int linesAtStart = output.lines().size();
        try {
          await()
              .atMost(Duration.ofSeconds(90))
              .pollInterval(Duration.ofMillis(20 + random.nextInt(400)))
              .until(
                  () -> {
                    if (writing.isDone()) {
                      writing.get(); // the writer's failure, if it failed
                    }
                    int now = output.lines().size();
                    // The last start finished starting (a Kafka consumer may still be catching
                    // up with what the killed instance committed, so growth alone does not say
                    // the new one runs), and output since, or (slow machine, writer done) all.
                    return written.get() >= target
                        && started(log) >= gateway.starts()
                        && (now > linesAtStart || now >= total);
                  });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          throw new AssertionError(
              "kill "
                  + k
                  + ": written="
                  + written.get()
                  + " target="
                  + target
                  + " output="
                  + output.lines().size()
                  + " at start="
                  + linesAtStart
                  + "; gateway log:\n"
                  + gateway.logTail(),
              e);
        }
        gateway.kill();
        kills++;
        gateway.start();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> written.get() == total);
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> output.lines().size() >= total);
      // SIGTERM only once the last start is up (its shutdown hook installed): the output may be
      // complete before the gateway started again.
      try {
        await()
            .atMost(Duration.ofSeconds(120))
            .failFast("gateway exited", () -> gateway.exitCode() != null)
            .until(() -> started(log) >= gateway.starts());
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        throw new AssertionError(
            "the gateway's last start did not finish; log:\n" + gateway.logTail(), e);
      }
      assertThat(gateway.terminate(Duration.ofSeconds(60)))
          .as("exit code after SIGTERM; log:\n%s", gateway.logTail())
          .isZero();
    } finally {
      writer.shutdownNow();
      writer.awaitTermination(10, TimeUnit.SECONDS);
    }

    List<String> lines = output.lines();
    Map<String, Integer> counts = new HashMap<>();
    for (String l : lines) {
      counts.merge(l, 1, Integer::sum);
    }
    long duplicated = counts.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
    long lost = 0;
    for (int n = 0; n < total; n++) {
      if (!counts.containsKey(line(n))) {
        lost++;
      }
    }
    System.out.printf(
        "TailGatewayCrashIT[%s]: files=%d lines=%d renames=%d copytruncates=%d kills=%d output=%d"
            + " lost=%d duplicated=%d seed=%d%n",
        sinkName,
        FILES,
        total,
        renames.get(),
        copytruncates.get(),
        kills,
        lines.size(),
        lost,
        duplicated,
        seed);
    assertThat(kills).isGreaterThanOrEqualTo(killCount);
    assertThat(renames.get()).isPositive();
    assertThat(copytruncates.get()).isPositive();
    assertThat(lost).as("lost lines (seed %d)", seed).isZero();
    assertThat(duplicated).as("duplicated lines (seed %d)", seed).isZero();
    assertThat(counts.keySet()).as("only lines written").hasSize(total);
    assertThat(lines).hasSize(total);
  }

  /** A {@code read_committed} consumer of the sink's topic, collecting every value as text. */
  static final class CommittedLines implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<String> lines = new ArrayList<>();

    CommittedLines(String bootstrapServers, String topic) {
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrapServers);
      p.put("isolation.level", "read_committed");
      consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
    }

    List<String> lines() {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
        lines.add(new String(r.value(), StandardCharsets.UTF_8));
      }
      return List.copyOf(lines);
    }

    @Override
    public void close() {
      consumer.close();
    }
  }

  /** How many starts of the gateway logged that they finished starting. */
  private static long started(Path log) throws IOException {
    // ISO-8859-1: a process killed mid-line may leave half a UTF-8 sequence.
    return Files.readAllLines(log, StandardCharsets.ISO_8859_1).stream()
        .filter(l -> l.contains("event=gateway_started"))
        .count();
  }

  private static void append(Path f, String text) throws IOException {
    Files.writeString(
        f, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private static String name(int f) {
    return String.format("app-%02d.log", f);
  }

  private static String line(int n) {
    return String.format("line-%06d", n);
  }
}
