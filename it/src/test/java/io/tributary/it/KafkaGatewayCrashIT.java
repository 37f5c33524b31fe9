package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged gateway as a separate process forwards Kafka topic A (8 partitions, 1,000,000
 * numbered 100-byte records written beforehand) to topic B with the transactional {@code kafka}
 * sink, preserving the source partition. It is killed with SIGKILL at random moments and restarted,
 * or the broker is restarted under it; a {@code read_committed} consumer of B then proves every
 * record of A is in B exactly once, in its source partition, in order.
 *
 * <p>Random moments: each kill waits until B's committed records pass a random target (seeded; the
 * seed is printed, rerun with {@code -Dkafka.crash.seed=N}), polled at a random interval, so kills
 * land anywhere inside a batch's read, write or commit.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaGatewayCrashIT {
  private static final int RECORDS = 1_000_000;

  /**
   * The broker variants: their faults are the broker's restart and SIGKILLs at 1/3 and 2/3 of the
   * stream, whose cost is the outage, not the count; the gateway SIGKILL test keeps 1,000,000.
   */
  private static final int BROKER_FAULT_RECORDS = 300_000;

  private static final int PARTITIONS = 8;
  private static final int RECORD_SIZE = 100;
  private static final int KILLS = 12;

  @TempDir Path tmp;

  @Test
  void everyRecordExactlyOnceAndInOrderAcrossSigkills(KafkaBroker broker) throws Exception {
    long seed = Long.getLong("kafka.crash.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.printf("KafkaGatewayCrashIT[sigkill]: seed=%d broker=%s%n", seed, broker.kind());
    String a = "kcrash-kill-a";
    String b = "kcrash-kill-b";
    writeInput(broker, a, b);

    int kills = 0;
    try (GatewayProcess gateway =
            new GatewayProcess(config(broker, "kcrash-kill", a, b), tmp.resolve("gw.log"));
        Verifier verifier = new Verifier(broker, b)) {
      gateway.start();
      for (int k = 0; k < KILLS; k++) {
        long step = RECORDS / (KILLS + 2);
        long target = step * (k + 1) + random.nextInt((int) step / 2);
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInSameThread()
            .pollInterval(Duration.ofMillis(5 + random.nextInt(40)))
            .failFast("gateway exited", () -> gateway.exitCode() != null)
            .until(() -> verifier.poll() >= target);
        gateway.kill();
        kills++;
        gateway.start();
      }
      finish(gateway, verifier);
      verifier.report("sigkill", kills, gateway.starts() - 1);
      assertThat(kills).isGreaterThanOrEqualTo(10);
      assertExactlyOnceKeepingLog(verifier, "sigkill");
    }
  }

  /**
   * The broker restarts (clean shutdown, same port and data) once mid-stream while the gateway
   * runs. The gateway is not restarted by the test unless it exits: its Kafka clients reconnect by
   * themselves, and a batch whose transaction fails while the broker is away fails the pipeline, so
   * the gateway exits 1 and the test starts it again on the same checkpoint; the replayed batch
   * must not be duplicated either way.
   */
  @Test
  void everyRecordExactlyOnceAndInOrderAcrossABrokerRestart(KafkaBroker broker) throws Exception {
    String a = "kcrash-broker-a";
    String b = "kcrash-broker-b";
    writeInput(broker, a, b, BROKER_FAULT_RECORDS);
    try (GatewayProcess gateway =
            new GatewayProcess(config(broker, "kcrash-broker", a, b), tmp.resolve("gw.log"));
        Verifier verifier = new Verifier(broker.bootstrapServers(), b, BROKER_FAULT_RECORDS)) {
      gateway.start();
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInSameThread()
          .until(() -> verifier.poll() >= BROKER_FAULT_RECORDS / 3);
      broker.restart();
      long afterRestart = verifier.poll();
      System.out.printf(
          "KafkaGatewayCrashIT[broker-restart]: committed in B when the broker was back=%d%n",
          afterRestart);
      assertThat(afterRestart)
          .as("the broker restart happened mid-stream")
          .isLessThan(BROKER_FAULT_RECORDS);
      List<Integer> exits = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(150))
          .pollInSameThread()
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                Integer code = gateway.exitCode();
                if (code != null) {
                  exits.add(code);
                  gateway.start();
                }
                return verifier.poll() >= BROKER_FAULT_RECORDS;
              });
      System.out.printf(
          "KafkaGatewayCrashIT[broker-restart]: gateway exits after the broker restart=%s%n",
          exits);
      finish(gateway, verifier);
      verifier.report("broker-restart", 0, gateway.starts() - 1);
      assertExactlyOnceKeepingLog(verifier, "broker-restart");
    }
  }

  /**
   * The broker is killed with SIGKILL (no clean shutdown: open transactions, unflushed logs and the
   * KRaft metadata log left as they are) twice mid-stream and started again on the same port and
   * data while the gateway runs. The gateway is never restarted: its batch retries (default retry.*
   * settings) must ride both outages out without the process exiting, and B must hold every record
   * of A exactly once, in order.
   */
  @Test
  void gatewayNeverExitsWhileTheBrokerIsSigkilledTwice(KafkaBroker broker) throws Exception {
    String a = "kcrash-bkill-a";
    String b = "kcrash-bkill-b";
    writeInput(broker, a, b, BROKER_FAULT_RECORDS);
    // Client timeouts well below the outage (the broker takes 10-30 s to come back here), so the
    // outage reaches the
    // batch path as errors instead of being waited out inside the clients: the batch retries must
    // carry it.
    Path config = config(broker, "kcrash-bkill", a, b, true);
    // Batch commits and sink events at DEBUG (about 40 lines a run), so a failure's log tells which
    // batch was written twice and after which error.
    List<String> jvm =
        List.of(
            "-Xmx512m",
            "-Dorg.slf4j.simpleLogger.log.io.tributary.connector.kafka.KafkaSink=debug",
            "-Dorg.slf4j.simpleLogger.log.io.tributary.core.internal.PipelineEngine=debug");
    try (GatewayProcess gateway = new GatewayProcess(config, tmp.resolve("gw.log"), jvm);
        Verifier verifier = new Verifier(broker.bootstrapServers(), b, BROKER_FAULT_RECORDS)) {
      gateway.start();
      for (int k = 1; k <= 2; k++) {
        long target = BROKER_FAULT_RECORDS * k / 3;
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInSameThread()
            .pollInterval(Duration.ofMillis(20))
            .failFast("gateway exited", () -> gateway.exitCode() != null)
            .until(() -> verifier.poll() >= target);
        long t0 = System.nanoTime();
        broker.killAndRestart();
        long committed = verifier.poll();
        System.out.printf(
            "KafkaGatewayCrashIT[broker-sigkill]: kill %d after %d committed records; broker back after %d ms;"
                + " committed now %d%n",
            k, target, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), committed);
        assertThat(gateway.exitCode())
            .as("gateway exit code right after broker SIGKILL %d", k)
            .isNull();
        assertThat(committed)
            .as("the broker was killed mid-stream")
            .isLessThan(BROKER_FAULT_RECORDS);
      }
      finish(gateway, verifier);
      verifier.report("broker-sigkill", 2, gateway.starts() - 1);
      assertThat(gateway.starts()).as("gateway process starts").isEqualTo(1);
      long retries;
      try (Stream<String> lines = Files.lines(tmp.resolve("gw.log"))) {
        retries = lines.filter(l -> l.contains("event=batch_retry ")).count();
      }
      System.out.printf(
          "KafkaGatewayCrashIT[broker-sigkill]: batch retries logged by the gateway=%d%n", retries);
      assertThat(retries).as("batch retries while the broker was down").isPositive();
      assertExactlyOnceKeepingLog(verifier, "broker-sigkill");
      // While the broker is away the Kafka clients would log connection notices many times a second
      // and dump their whole configuration at each producer rebuild (about 3,300 of 3,500 lines of
      // this test's log before the gateway set them to WARN, the network client to ERROR).
      List<String> log = Files.readAllLines(tmp.resolve("gw.log"));
      long kafkaInfo = log.stream().filter(l -> l.contains("[INFO] org.apache.kafka.")).count();
      long networkClient =
          log.stream().filter(l -> l.contains("org.apache.kafka.clients.NetworkClient")).count();
      System.out.printf(
          "KafkaGatewayCrashIT[broker-sigkill]: gateway log lines=%d kafka_client_info=%d"
              + " network_client=%d%n",
          log.size(), kafkaInfo, networkClient);
      assertThat(kafkaInfo).as("Kafka client INFO lines in the gateway log").isZero();
      assertThat(networkClient).as("Kafka network client lines in the gateway log").isZero();
    }
  }

  /**
   * The exactly-once check; when it fails, the gateway's log (in this test's temporary directory,
   * deleted afterwards) is first copied to {@code target/kafka-crash-logs/} so a rare failure can
   * be read after the run.
   */
  private void assertExactlyOnceKeepingLog(Verifier verifier, String variant) throws Exception {
    try {
      verifier.assertExactlyOnceInOrder();
    } catch (AssertionError e) {
      verifier.explainDuplicates(variant);
      Path kept =
          Path.of("target", "kafka-crash-logs", variant + "-" + System.nanoTime() + "-gw.log");
      Files.createDirectories(kept.getParent());
      Files.copy(tmp.resolve("gw.log"), kept);
      System.out.printf(
          "KafkaGatewayCrashIT[%s]: gateway log kept at %s%n", variant, kept.toAbsolutePath());
      printSinkEvents(variant, kept);
      throw e;
    }
  }

  /**
   * Prints the Kafka sink's and the runtime's recovery lines of a gateway log (producer restarts,
   * marker reads, skipped and retried batches), so a CI run that shows only its console output
   * still tells how a duplicate came about.
   */
  static void printSinkEvents(String variant, Path log) throws IOException {
    if (!Files.exists(log)) {
      return;
    }
    try (var lines = Files.lines(log)) {
      lines
          .filter(
              l ->
                  l.contains("event=kafka_")
                      || l.contains("event=batch_retry")
                      || l.contains("event=sink_skip"))
          .filter(l -> !l.contains("event=kafka_batch_committed"))
          .limit(300)
          .forEach(l -> System.out.printf("KafkaGatewayCrashIT[%s] gw: %s%n", variant, l));
    }
  }

  /** Waits for all records, stops the gateway with SIGTERM (exit 0), then reads B to its end. */
  private static void finish(GatewayProcess gateway, Verifier verifier) throws Exception {
    await()
        .atMost(Duration.ofSeconds(150))
        .pollInSameThread()
        .pollInterval(Duration.ofMillis(100))
        .failFast("gateway exited", () -> gateway.exitCode() != null)
        .until(() -> verifier.poll() >= verifier.records);
    assertThat(gateway.terminate(Duration.ofSeconds(60))).as("exit code after SIGTERM").isZero();
    verifier.drain();
  }

  private Path config(KafkaBroker broker, String id, String a, String b) throws Exception {
    return config(broker, id, a, b, false);
  }

  private Path config(
      KafkaBroker broker, String id, String a, String b, boolean shortClientTimeouts)
      throws Exception {
    String sourceTimeouts =
        shortClientTimeouts
            ? String.join(
                "\n",
                "      read-timeout: 5s",
                "      kafka.default.api.timeout.ms: 5000",
                "      kafka.request.timeout.ms: 3000",
                "")
            : "";
    String sinkTimeouts =
        shortClientTimeouts
            ? String.join(
                "\n",
                "        kafka.max.block.ms: 5000",
                "        kafka.request.timeout.ms: 3000",
                "        kafka.delivery.timeout.ms: 8000",
                "")
            : "";
    Path config = tmp.resolve(id + ".yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: " + id,
            "    settings:",
            "      batch-interval: 100ms",
            // 8 x 6,250 = 50,000 records (5 MB) per batch and transaction.
            "      direct.max-records-per-partition: 6250",
            "    checkpoint: " + tmp.resolve("checkpoint-" + id),
            "    source:",
            "      type: kafka",
            "      bootstrap-servers: " + broker.bootstrapServers(),
            "      topics: [" + a + "]",
            "      starting-position: earliest",
            sourceTimeouts + "    sinks:",
            "      - type: kafka",
            "        bootstrap-servers: " + broker.bootstrapServers(),
            "        topic: " + b,
            "        partitioning: source-partition",
            "        transaction-timeout: 60s",
            sinkTimeouts));
    return config;
  }

  /** Record {@code i}: partition {@code i % 8}, value {@code i} as 9 digits padded to 100 bytes. */
  static byte[] value(int i) {
    byte[] v = new byte[RECORD_SIZE];
    Arrays.fill(v, (byte) '.');
    byte[] digits = String.format("%09d", i).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(digits, 0, v, 0, digits.length);
    return v;
  }

  static int number(byte[] value) {
    return Integer.parseInt(new String(value, 0, 9, StandardCharsets.US_ASCII));
  }

  private static void writeInput(KafkaBroker broker, String a, String b) {
    writeInput(broker, a, b, RECORDS);
  }

  /** Records 0 to {@code records - 1} into A, record {@code i} into partition {@code i % 8}. */
  private static void writeInput(KafkaBroker broker, String a, String b, int records) {
    broker.createTopic(a, PARTITIONS);
    broker.createTopic(b, PARTITIONS);
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    p.put("linger.ms", "20");
    p.put("batch.size", Integer.toString(256 * 1024));
    p.put("buffer.memory", Long.toString(64L * 1024 * 1024));
    long t0 = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>(a, i % PARTITIONS, null, value(i)));
      }
      producer.flush();
    }
    System.out.printf(
        "KafkaGatewayCrashIT: wrote records=%d to %s in %d ms%n",
        records, a, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  /**
   * Reads B with {@code read_committed} from the beginning, incrementally (each {@link #poll()}
   * takes what is committed), and keeps per-record counts and per-partition order. Single-threaded.
   */
  static final class Verifier implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions = new ArrayList<>();
    private final int records;
    private final byte[] seen;
    private final long[] firstOffset;
    private final long[][] dupFirst = new long[PARTITIONS][]; // {min, max} offset of the first copy
    private final long[][] dupAgain = new long[PARTITIONS][]; // {min, max} offset of the repeat
    private final String topic;
    private final String bootstrap;
    private final int[] last = new int[PARTITIONS];
    private long read;
    private long distinct;
    private long duplicated;
    private long outOfOrder;
    private long wrongPartition;
    private long corrupt;

    Verifier(KafkaBroker broker, String topic) {
      this(broker.bootstrapServers(), topic, RECORDS);
    }

    /** Reads {@code topic} (8 partitions) expecting records 0 to {@code records - 1}. */
    Verifier(String bootstrapServers, String topic, int records) {
      this.records = records;
      this.seen = new byte[records];
      this.firstOffset = new long[records];
      this.topic = topic;
      this.bootstrap = bootstrapServers;
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrapServers);
      p.put("isolation.level", "read_committed");
      p.put("max.poll.records", "20000");
      p.put("fetch.max.bytes", Integer.toString(16 * 1024 * 1024));
      p.put("max.partition.fetch.bytes", Integer.toString(4 * 1024 * 1024));
      consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      for (int i = 0; i < PARTITIONS; i++) {
        partitions.add(new TopicPartition(topic, i));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Arrays.fill(last, -1);
    }

    /** Reads what is committed now; returns the number of distinct records seen so far. */
    long poll() {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
        read++;
        int i = number(r.value());
        if (i < 0 || i >= records || !Arrays.equals(r.value(), value(i))) {
          corrupt++;
          continue;
        }
        if (i % PARTITIONS != r.partition()) {
          wrongPartition++;
        }
        if (seen[i] == 0) {
          distinct++;
          firstOffset[i] = r.offset();
        } else {
          duplicated++;
          widen(dupFirst, r.partition(), firstOffset[i]);
          widen(dupAgain, r.partition(), r.offset());
        }
        if (seen[i] < Byte.MAX_VALUE) {
          seen[i]++;
        }
        if (i <= last[r.partition()]) {
          outOfOrder++;
        } else {
          last[r.partition()] = i;
        }
      }
      return distinct;
    }

    /** Reads up to the end of every partition (no transaction is open once the gateway stopped). */
    void drain() {
      var end = consumer.endOffsets(partitions);
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInSameThread()
          .pollInterval(Duration.ofMillis(1))
          .until(
              () -> {
                poll();
                return partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
              });
    }

    private static void widen(long[][] ranges, int partition, long offset) {
      long[] r = ranges[partition];
      if (r == null) {
        ranges[partition] = new long[] {offset, offset};
      } else {
        r[0] = Math.min(r[0], offset);
        r[1] = Math.max(r[1], offset);
      }
    }

    /**
     * When records came twice: where each copy sits in B (offset ranges per partition), and whether
     * a fresh {@code read_committed} consumer reading B from the beginning now sees them twice too
     * (a committed duplicate) or not (the incremental reader saw records of an aborted
     * transaction).
     */
    void explainDuplicates(String variant) {
      if (duplicated == 0) {
        return;
      }
      for (int p = 0; p < PARTITIONS; p++) {
        if (dupFirst[p] != null) {
          System.out.printf(
              "KafkaGatewayCrashIT[%s]: partition %d: first copies at offsets %d..%d, repeated at %d..%d%n",
              variant, p, dupFirst[p][0], dupFirst[p][1], dupAgain[p][0], dupAgain[p][1]);
        }
      }
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      p.put("isolation.level", "read_committed");
      p.put("max.poll.records", "20000");
      try (KafkaConsumer<byte[], byte[]> fresh =
          new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        List<TopicPartition> tps = new ArrayList<>(partitions);
        fresh.assign(tps);
        fresh.seekToBeginning(tps);
        var end = fresh.endOffsets(tps);
        byte[] again = new byte[records];
        long[] counts = new long[2]; // read, duplicated
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInSameThread()
            .pollInterval(Duration.ofMillis(1))
            .until(
                () -> {
                  for (ConsumerRecord<byte[], byte[]> r : fresh.poll(Duration.ofMillis(100))) {
                    counts[0]++;
                    int i = number(r.value());
                    if (i >= 0 && i < records && again[i]++ > 0) {
                      counts[1]++;
                    }
                  }
                  return tps.stream().allMatch(tp -> fresh.position(tp) >= end.get(tp));
                });
        System.out.printf(
            "KafkaGatewayCrashIT[%s]: a fresh read_committed read of %s from the beginning: read=%d"
                + " duplicated=%d (the incremental reader counted duplicated=%d)%n",
            variant, topic, counts[0], counts[1], duplicated);
      } catch (RuntimeException e) {
        System.out.printf("KafkaGatewayCrashIT[%s]: fresh re-read failed: %s%n", variant, e);
      }
    }

    long lost() {
      long lost = 0;
      for (byte c : seen) {
        if (c == 0) {
          lost++;
        }
      }
      return lost;
    }

    void report(String variant, int kills, int gatewayRestarts) {
      System.out.printf(
          "KafkaGatewayCrashIT[%s]: records=%d kills=%d gateway_restarts=%d read=%d lost=%d duplicated=%d"
              + " out_of_order=%d wrong_partition=%d corrupt=%d%n",
          variant,
          records,
          kills,
          gatewayRestarts,
          read,
          lost(),
          duplicated,
          outOfOrder,
          wrongPartition,
          corrupt);
    }

    void assertExactlyOnceInOrder() {
      assertThat(corrupt).as("corrupt records").isZero();
      assertThat(lost()).as("lost records").isZero();
      assertThat(duplicated).as("duplicated records").isZero();
      assertThat(outOfOrder).as("records out of per-partition order").isZero();
      assertThat(wrongPartition).as("records not in their source partition").isZero();
      assertThat(read).isEqualTo(records);
    }

    @Override
    public void close() {
      consumer.close();
    }
  }
}
