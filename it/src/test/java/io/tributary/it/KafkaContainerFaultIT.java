package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tributary.testing.kafka.ContainerFaults;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults only a container makes easy, under the packaged gateway (a separate process) forwarding
 * Kafka topic A to topic B with the transactional {@code kafka} sink (direct source, and the
 * group-managed one for the SIGKILL; source partition kept): the broker's container SIGKILLed and
 * left down, frozen ({@code pause}), cut off its network (a partition) and on a lossy, slow link.
 * Each fault starts mid-stream and lasts until the gateway's {@code /metrics} shows it (batch
 * retries of this pipeline counted while the broker is unreachable) or, for the degraded link,
 * until batches commit through it; then it ends. The gateway is never restarted: it must recover by
 * itself, and an independent {@code read_committed} reader of B ({@link
 * KafkaGatewayCrashIT.Verifier}) proves every record of A is in B exactly once, in its source
 * partition, in order.
 *
 * <p>Needs the broker in a container ({@link KafkaBroker#containerFaults()}: an engine answering,
 * see scripts/container-engine.sh); skipped with the local broker, which has no container.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaContainerFaultIT {
  private static final int RECORDS = 100_000;
  private static final int PARTITIONS = 8;

  @TempDir Path tmp;
  private KafkaBroker broker;
  private ContainerFaults faults;

  @BeforeEach
  void container(KafkaBroker broker) {
    assumeTrue(
        broker.containerFaults().isPresent(),
        "the broker is a local process: container faults need a container engine"
            + " (scripts/container-engine.sh)");
    this.broker = broker;
    this.faults = broker.containerFaults().orElseThrow();
  }

  /** SIGKILL of the whole container; the broker stays down until the gateway shows retries. */
  @Test
  void brokerContainerSigkilledAndLeftDown() throws Exception {
    run("kfault-kill", new Fault("container SIGKILL", faults::kill, faults::start), true);
  }

  /**
   * The same SIGKILL under the group-managed source ({@code kafka-group}): the group coordinator
   * dies with the broker, so the member must rejoin, and the group offsets go into the sink's
   * transaction with the consumer's group metadata, whose generation may change across the fault.
   */
  @Test
  void brokerContainerSigkilledUnderTheGroupSource() throws Exception {
    run(
        "kfault-group-kill",
        new Fault("container SIGKILL", faults::kill, faults::start),
        true,
        "kafka-group");
  }

  /** A hung broker: its processes frozen, its connections open, nothing answering. */
  @Test
  void brokerPaused() throws Exception {
    run("kfault-pause", new Fault("pause", faults::pause, faults::unpause), true);
  }

  /** A partition: the container disconnected from its network, then reconnected. */
  @Test
  void brokerCutOffTheNetwork() throws Exception {
    run(
        "kfault-partition",
        new Fault("network disconnect", faults::disconnect, faults::reconnect),
        true);
  }

  /** A bad link: 20 % of packets dropped each way and 4 Mbit/s out of the container. */
  @Test
  void lossySlowLink() throws Exception {
    run(
        "kfault-link",
        new Fault("20% loss, 4 Mbit/s", () -> faults.degradeLink(20, 4000), faults::restoreLink),
        false);
  }

  private record Fault(String name, Runnable begin, Runnable end) {}

  /**
   * Writes A, starts the gateway, starts the fault once a fifth of A is in B, waits while it lasts
   * for the gateway to show it, ends it, and checks B.
   *
   * @param unreachable the broker cannot answer during the fault, so the batch retries must grow;
   *     otherwise batches must still commit through the fault
   */
  private void run(String id, Fault fault, boolean unreachable) throws Exception {
    run(id, fault, unreachable, "kafka");
  }

  /**
   * Like {@link #run(String, Fault, boolean)} with the source type {@code kafka} (direct) or {@code
   * kafka-group}.
   */
  private void run(String id, Fault fault, boolean unreachable, String sourceType)
      throws Exception {
    String a = id + "-a";
    String b = id + "-b";
    writeInput(a, b);
    int adminPort = GatewayProcess.freePort();
    Path log = tmp.resolve("gw.log");
    try (GatewayProcess gateway =
            new GatewayProcess(config(id, a, b, adminPort, unreachable, sourceType), log);
        KafkaGatewayCrashIT.Verifier verifier =
            new KafkaGatewayCrashIT.Verifier(broker.bootstrapServers(), b, RECORDS)) {
      gateway.start();
      faultAndCheck(id, fault, unreachable, adminPort, gateway, verifier);
      // which phase of a batch met the fault, and after how long: the retry lines of the run
      try (Stream<String> lines = Files.lines(log)) {
        lines
            .filter(l -> l.contains("event=batch_retry"))
            .limit(4)
            .forEach(l -> System.out.printf("KafkaContainerFaultIT[%s]: %s%n", id, l));
      }
    } catch (Exception | AssertionError e) {
      // the gateway's log is in the temporary directory, deleted after the test: keep it
      Path kept = Path.of("target", "kafka-fault-logs", id + "-" + System.nanoTime() + "-gw.log");
      Files.createDirectories(kept.getParent());
      if (Files.exists(log)) {
        Files.copy(log, kept);
        System.out.printf("KafkaContainerFaultIT[%s]: gateway log kept at %s%n", id, kept);
        KafkaGatewayCrashIT.printSinkEvents(id, kept);
      }
      throw e;
    }
  }

  private void faultAndCheck(
      String id,
      Fault fault,
      boolean unreachable,
      int adminPort,
      GatewayProcess gateway,
      KafkaGatewayCrashIT.Verifier verifier)
      throws Exception {
    {
      await()
          .atMost(Duration.ofSeconds(180))
          .pollInSameThread()
          .pollInterval(Duration.ofMillis(20))
          .failFast("gateway exited", () -> gateway.exitCode() != null)
          .until(() -> verifier.poll() >= RECORDS / 5);
      double retriesBefore = retries(adminPort, id);
      long batchBefore = lastCommittedBatch(adminPort, id);
      long t0 = System.nanoTime();
      fault.begin().run();
      long begunMs = millisSince(t0);
      long atFault = verifier.poll();
      System.out.printf(
          "KafkaContainerFaultIT[%s]: fault '%s' began with %d of %d records committed in B,"
              + " batch %d, retries %.0f; applying it took %d ms%n",
          id, fault.name(), atFault, RECORDS, batchBefore, retriesBefore, begunMs);
      assertThat(atFault).as("the fault began mid-stream").isLessThan(RECORDS);
      long shownMs;
      double[] retriesDuring = new double[1];
      long[] batchDuring = new long[1];
      try {
        if (unreachable) {
          await("the gateway's /metrics counting batch retries while the broker is unreachable")
              .atMost(Duration.ofSeconds(120))
              .pollInterval(Duration.ofMillis(200))
              .failFast("gateway exited", () -> gateway.exitCode() != null)
              .until(() -> (retriesDuring[0] = retries(adminPort, id)) > retriesBefore);
        } else {
          // 3 batches took 11 to 105 s through this link (each batch's range reads open new
          // connections, whose SYNs the link drops too)
          await("batches committed through the degraded link")
              .atMost(Duration.ofSeconds(240))
              .pollInterval(Duration.ofMillis(200))
              .failFast("gateway exited", () -> gateway.exitCode() != null)
              .until(() -> (batchDuring[0] = lastCommittedBatch(adminPort, id)) >= batchBefore + 3);
        }
      } finally {
        shownMs = millisSince(t0);
        fault.end().run();
      }
      long faultMs = millisSince(t0);
      // Reported apart, as they are different waits: the gateway's reaction (shownMs - begunMs) and
      // ending the fault (faultMs - shownMs; for the SIGKILL a container start that waits for the
      // broker, 17-31 s at load 15). One sum of both once read as /metrics counting late.
      System.out.printf(
          "KafkaContainerFaultIT[%s]: fault '%s' shown by the gateway %d ms after it began (%s);"
              + " ended at +%d ms (ending took %d ms)%n",
          id,
          fault.name(),
          shownMs - begunMs,
          unreachable
              ? String.format("batch retries %.0f", retriesDuring[0])
              : "last committed batch " + batchDuring[0],
          faultMs,
          faultMs - shownMs);
      await()
          .atMost(Duration.ofSeconds(240))
          .pollInSameThread()
          .pollInterval(Duration.ofMillis(50))
          .failFast("gateway exited", () -> gateway.exitCode() != null)
          .until(() -> verifier.poll() >= RECORDS);
      String pipelines = get(adminPort, "/pipelines/" + id);
      assertThat(pipelines)
          .as("the pipeline after the fault: running, no failure")
          .contains("\"state\":\"RUNNING\"")
          .contains("\"failure\":null");
      assertThat(gateway.starts())
          .as("gateway process starts: it recovered by itself")
          .isEqualTo(1);
      assertThat(gateway.terminate(Duration.ofSeconds(60))).as("exit code after SIGTERM").isZero();
      verifier.drain();
      verifier.report(id, 0, 0);
      try {
        verifier.assertExactlyOnceInOrder();
      } catch (AssertionError e) {
        verifier.explainDuplicates(id);
        throw e;
      }
    }
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  private static double retries(int port, String id) throws IOException, InterruptedException {
    return GatewayProcess.batchRetries(port, id);
  }

  private long lastCommittedBatch(int port, String id) throws IOException, InterruptedException {
    Matcher m =
        Pattern.compile("\"lastCommittedBatch\":(-?\\d+)").matcher(get(port, "/pipelines/" + id));
    assertThat(m.find()).as("lastCommittedBatch in /pipelines/%s", id).isTrue();
    return Long.parseLong(m.group(1));
  }

  private static String get(int port, String path) throws IOException, InterruptedException {
    return GatewayProcess.adminGet(port, path);
  }

  /**
   * For the unreachable faults, client timeouts well below the faults, so an unreachable broker
   * reaches the batch path as errors (counted as retries) instead of being waited out inside the
   * clients. For the degraded link, the connectors' defaults, as a user runs them: with 5 s
   * timeouts a 20 %-lossy link (new connections' SYNs lost, segments retransmitted after growing
   * timeouts) made one of a batch's eight range reads stall past the timeout on most attempts, so
   * the batch never completed. Small batches at a 200 ms interval (at most 8,000 records each), so
   * the stream is still flowing when the fault begins.
   */
  private Path config(
      String id, String a, String b, int adminPort, boolean shortTimeouts, String sourceType)
      throws IOException {
    String sourceTimeouts =
        shortTimeouts
            ? String.join(
                "\n",
                "      read-timeout: 5s",
                "      kafka.default.api.timeout.ms: 5000",
                "      kafka.request.timeout.ms: 3000")
            : "      read-timeout: 120s";
    String sinkTimeouts =
        shortTimeouts
            ? String.join(
                "\n",
                "        kafka.max.block.ms: 5000",
                "        kafka.request.timeout.ms: 3000",
                "        kafka.delivery.timeout.ms: 8000")
            : "";
    Path config = tmp.resolve(id + ".yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "admin:",
            "  port: " + adminPort,
            "pipelines:",
            "  - id: " + id,
            "    settings:",
            "      batch-interval: 200ms",
            "      direct.max-records-per-partition: 1000",
            "    checkpoint: " + tmp.resolve("checkpoint-" + id),
            "    source:",
            "      type: " + sourceType,
            "      bootstrap-servers: " + broker.bootstrapServers(),
            "      topics: [" + a + "]",
            sourceType.equals("kafka-group") ? "      group-id: " + id + "-group" : "",
            "      starting-position: earliest",
            sourceTimeouts,
            "    sinks:",
            "      - type: kafka",
            "        bootstrap-servers: " + broker.bootstrapServers(),
            "        topic: " + b,
            "        partitioning: source-partition",
            "        transaction-timeout: 60s",
            sinkTimeouts,
            ""));
    return config;
  }

  /** Record {@code i} ({@link KafkaGatewayCrashIT#value}) into partition {@code i % 8} of A. */
  private void writeInput(String a, String b) {
    broker.createTopic(a, PARTITIONS);
    broker.createTopic(b, PARTITIONS);
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    p.put("linger.ms", "20");
    p.put("batch.size", Integer.toString(256 * 1024));
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < RECORDS; i++) {
        producer.send(new ProducerRecord<>(a, i % PARTITIONS, null, KafkaGatewayCrashIT.value(i)));
      }
      producer.flush();
    }
    // The gateway's sink has 5 s client timeouts: on a fresh broker the first transactional
    // producer waits for __transaction_state to be created (seconds on a loaded machine), so make
    // sure the transaction coordinator is up before the gateway starts.
    Properties t = new Properties();
    t.put("bootstrap.servers", broker.bootstrapServers());
    t.put("transactional.id", a + "-warm-up");
    t.put("max.block.ms", "120000");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(t, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
    }
  }
}
