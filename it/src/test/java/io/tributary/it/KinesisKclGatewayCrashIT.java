package io.tributary.it;

import static io.tributary.it.KinesisTestServers.failed;
import static io.tributary.it.KinesisTestServers.loadAverage;
import static io.tributary.it.KinesisTestServers.mergeChildren;
import static io.tributary.it.KinesisTestServers.putAll;
import static io.tributary.it.KinesisTestServers.split;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * Two packaged gateways as separate processes share a 4-shard Kinesis stream through the {@code
 * kinesis-kcl} source (one KCL application, its lease table in dynalite) and write into one Kafka
 * topic with the transactional {@code kafka} sink, which carries each batch's shard positions in
 * its transaction ({@code exactly-once: true}). {@value #PRODUCERS} producers put {@value #RECORDS}
 * numbered records while the gateways are SIGKILLed {@value #KILLS} times, alternately, at seeded
 * moments while records flow; shard 0 is split after the fourth kill and its two children merged
 * after the seventh, both while the survivor runs. After each kill the test waits until a lease of
 * the killed instance moved to the survivor (read from the lease table), then restarts the killed
 * one. A {@code read_committed} consumer of the output topic then finds every record exactly once,
 * and each partition key's records in put order (children after their parents).
 *
 * <p>While both run, the admin API of one gateway reports {@code MillisBehindLatest} of the shards
 * it leases (metric {@code tributary_kinesis_millis_behind_latest}).
 *
 * <p>Server: kinesalite (npm, in memory) through
 * connector-kinesis/testservers/kinesalite-server.js, as {@link KinesisGatewayCrashIT}:
 * kinesis-mock took 190-250 records/s from PutRecords here, far too slow for 500,000 records. The
 * wrapper adds the {@code ChildShards} kinesalite leaves out of a closed shard's last GetRecords:
 * KCL needs them to end a parent and create its children's leases (connector-kinesis's
 * KinesaliteKclReshardIT tests that). Clients and gateways use JSON ({@code
 * aws.cborEnabled=false}).
 *
 * <p>Test-only KCL timings, so that a kill costs seconds: {@code failover-time: 3s} (a lease not
 * renewed for 3 s is given away), {@code leader-lease-duration: 4s} (the leader lock of a killed
 * leader expires after 4 s), {@code lease-assignment-interval: 1s} (the leader assigns expired
 * leases every second; KCL's default is twice failover-time). The producers are paced by the kills
 * (the records go in {@code KILLS + 2} chunks, kill n after chunk n, the producers about two chunks
 * ahead of the last kill), so every kill lands while records flow (it waits for the reader to see
 * new records) and the producers keep putting while a lease moves and the killed gateway restarts.
 * A kill also waits until the other gateway's source opened since its last start, so the leases
 * have somewhere to move. Rerun with {@code -Dkinesis.kcl.crash.seed=N}; the test prints its time,
 * kinesalite's CPU time and the load average.
 *
 * <p>Each producer owns the keys {@code k % PRODUCERS == p} and puts them in increasing order, so
 * the per-key order is the number order.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KinesisKclGatewayCrashIT {
  private static final String CBOR = "aws.cborEnabled";
  private static final int RECORDS = 500_000;
  private static final int KEYS = 64;
  private static final int KILLS = 10;
  private static final int PRODUCERS = 2;
  private static final int OUT_PARTITIONS = 4;

  /**
   * The records are put in KILLS + 2 chunks; kill n comes after chunk n, while n + 2 may be put.
   */
  private static final int CHUNK = RECORDS / (KILLS + 2);

  private static final Pattern LAG =
      Pattern.compile(
          "^tributary_kinesis_millis_behind_latest\\{[^}]*shard=\"([^\"]+)\"[^}]*} ([0-9.eE+-]+)$",
          Pattern.MULTILINE);
  private static final Pattern STATUS_LAG =
      Pattern.compile(
          "\\{\\s*\"partition\"\\s*:\\s*\"([^\"]+)\"[^{}]*\"millisBehindLatest\"\\s*:\\s*(-?[0-9]+)");
  private static final Pattern SHARD_ENDED =
      Pattern.compile("event=kinesis_kcl_shard_ended .*shard=(shardId-[0-9]+)");

  @Test
  void everyRecordExactlyOnceWhileTwoGatewaysAreKilledInTurnAcrossASplitAndAMerge(
      KafkaBroker broker) throws Exception {
    long seed = Long.getLong("kinesis.kcl.crash.seed", System.nanoTime());
    Random random = new Random(seed);
    Path tmp = Files.createDirectories(Path.of("target", "kcl-crash-" + seed).toAbsolutePath());
    System.out.printf(
        "KinesisKclGatewayCrashIT: seed=%d work=%s load=%s%n", seed, tmp, loadAverage());
    long started = System.nanoTime();
    String stream = "kclcrash";
    String app = "kclcrash-app";
    String out = "kclcrash-out";
    broker.createTopic(out, OUT_PARTITIONS);
    String cborBefore = System.setProperty(CBOR, "false"); // kinesalite: JSON; restored below
    ExecutorService producers = Executors.newFixedThreadPool(PRODUCERS);
    try (KinesisTestServers servers = new KinesisTestServers(tmp)) {
      String kinesis = servers.startKinesalite();
      String dynamo = servers.startDynamo();
      try (KinesisClient k = KinesisTestServers.client(kinesis);
          DynamoDbClient d = dynamo(dynamo)) {
        k.createStream(b -> b.streamName(stream).shardCount(4));
        KinesisTestServers.awaitActive(k, stream);
        int adminA = GatewayProcess.freePort();
        List<String> ids = List.of("kcl-a", "kcl-b");
        List<String> jvm = List.of("-Xmx512m", "-D" + CBOR + "=false");
        try (Verifier verifier = new Verifier(broker.bootstrapServers(), out);
            GatewayProcess a =
                new GatewayProcess(
                    config(tmp, "kcl-a", adminA, broker, kinesis, dynamo, stream, app, out),
                    tmp.resolve("kcl-a.log"),
                    jvm);
            GatewayProcess b =
                new GatewayProcess(
                    config(tmp, "kcl-b", 0, broker, kinesis, dynamo, stream, app, out),
                    tmp.resolve("kcl-b.log"),
                    jvm)) {
          List<GatewayProcess> gateways = List.of(a, b);
          List<LogWatch> opened =
              List.of(
                  new LogWatch(tmp.resolve("kcl-a.log"), "event=kinesis_kcl_source_opened"),
                  new LogWatch(tmp.resolve("kcl-b.log"), "event=kinesis_kcl_source_opened"));

          // The producers run through the whole test, at most two chunks ahead of the kills.
          AtomicInteger produced = new AtomicInteger();
          Gate gate = new Gate(2 * CHUNK);
          List<Future<?>> putting = new ArrayList<>();
          for (int p = 0; p < PRODUCERS; p++) {
            int producer = p;
            putting.add(
                producers.submit(
                    () -> {
                      try (KinesisClient c = KinesisTestServers.client(kinesis)) {
                        put(c, stream, producer, produced, gate);
                      }
                      return null;
                    }));
          }

          // A first, B once A's KCL worker holds every lease: two KCL 3.5.1 workers initializing
          // a fresh lease table at the same moment can leave one failing forever ("Failed to create
          // migration state", then "AssignmentMode is not initialized" on every retry).
          a.start();
          await()
              .atMost(Duration.ofSeconds(90))
              .pollInterval(Duration.ofMillis(200))
              .failFast("gateway A exited", () -> a.exitCode() != null)
              .failFast("a producer failed", () -> failed(putting))
              .until(
                  () -> {
                    Map<String, String> o = owners(d, app);
                    return o.size() == 4 && o.values().stream().allMatch("kcl-a"::equals);
                  });
          b.start();
          // The lag per shard of the leases gateway A holds, from its admin API: the Prometheus
          // metric and the pipeline's status JSON (what the status page shows) name the same
          // shards, each read at least once.
          Map<String, Double> lag = new TreeMap<>();
          Map<String, Long> statusLag = new TreeMap<>();
          await()
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(200))
              .until(
                  () -> {
                    lag.clear();
                    statusLag.clear();
                    Matcher m = LAG.matcher(GatewayProcess.adminGet(adminA, "/metrics"));
                    while (m.find()) {
                      lag.put(m.group(1), Double.parseDouble(m.group(2)));
                    }
                    Matcher s =
                        STATUS_LAG.matcher(GatewayProcess.adminGet(adminA, "/pipelines/kcl-a"));
                    while (s.find()) {
                      statusLag.put(s.group(1), Long.parseLong(s.group(2)));
                    }
                    return !lag.isEmpty()
                        && lag.keySet().equals(statusLag.keySet())
                        && lag.values().stream().allMatch(v -> v >= 0)
                        && statusLag.values().stream().allMatch(v -> v >= 0);
                  });
          System.out.printf(
              "KinesisKclGatewayCrashIT: millis behind latest at A: metrics=%s status=%s%n",
              lag, statusLag);
          assertThat(lag.values()).allSatisfy(v -> assertThat(v).isBetween(0.0, 600_000.0));

          int kills = 0;
          int moves = 0;
          List<Long> moveMillis = new ArrayList<>();
          for (int n = 0; n < KILLS; n++) {
            int v = n % 2;
            GatewayProcess victim = gateways.get(v);
            GatewayProcess survivor = gateways.get(1 - v);
            String victimId = ids.get(v);
            String survivorId = ids.get(1 - v);
            LogWatch survivorOpened = opened.get(1 - v);
            // Kill n: chunk n is put, the reader sees records committed since this wait began
            // (records flow), the survivor's source opened since its last start, and the victim
            // holds a lease (checked last: a lease-table scan).
            long atStart = verifier.poll();
            long flowing = atStart + 1 + random.nextInt(CHUNK / 8);
            long producedBefore = (long) CHUNK * (n + 1);
            // a reader that caught up with the gate gets records to read: the limit stays ahead
            gate.open(Math.max((long) CHUNK * (n + 2), flowing + CHUNK / 2));
            Map<String, String> before = new TreeMap<>();
            int kill = n;
            await()
                .atMost(Duration.ofSeconds(180))
                .pollInSameThread()
                .pollInterval(Duration.ofMillis(5 + random.nextInt(60)))
                .failFast("a gateway exited", () -> a.exitCode() != null || b.exitCode() != null)
                .failFast("a producer failed", () -> failed(putting))
                .conditionEvaluationListener(
                    c -> {
                      if (c.getRemainingTimeInMS() < 1000) {
                        System.out.printf(
                            "KinesisKclGatewayCrashIT: waiting for kill %d: read=%d flowing=%d"
                                + " produced=%d survivor_opened=%d starts=%d%n",
                            kill,
                            verifier.distinct,
                            flowing,
                            produced.get(),
                            survivorOpened.count,
                            survivor.starts());
                      }
                    })
                .until(
                    () -> {
                      if (verifier.poll() < flowing
                          || produced.get() < producedBefore
                          || survivorOpened.poll() < survivor.starts()) {
                        return false;
                      }
                      before.clear();
                      before.putAll(owners(d, app));
                      return before.containsValue(victimId);
                    });
            long killedAt = System.nanoTime();
            victim.kill();
            kills++;
            gate.open(2 * CHUNK + (long) CHUNK * kills);
            if (n == 3) {
              split(k, stream);
            } else if (n == 6) {
              mergeChildren(k, stream);
            }
            // A lease of the killed instance moves to the survivor (after failover-time and, when
            // the killed one led, the leader lock's expiry), then the killed one restarts.
            int[] moved = {0};
            await()
                .atMost(Duration.ofSeconds(120))
                .pollInSameThread()
                .pollInterval(Duration.ofMillis(200))
                .failFast("the survivor exited", () -> survivor.exitCode() != null)
                .failFast("a producer failed", () -> failed(putting))
                .until(
                    () -> {
                      verifier.poll();
                      Map<String, String> now = owners(d, app);
                      moved[0] =
                          (int)
                              before.entrySet().stream()
                                  .filter(e -> e.getValue().equals(victimId))
                                  .filter(e -> survivorId.equals(now.get(e.getKey())))
                                  .count();
                      return moved[0] > 0;
                    });
            moves += moved[0];
            moveMillis.add((System.nanoTime() - killedAt) / 1_000_000);
            victim.start();
          }
          gate.open(Long.MAX_VALUE);
          for (Future<?> f : putting) {
            f.get(5, TimeUnit.MINUTES);
          }
          System.out.printf(
              "KinesisKclGatewayCrashIT: all %d records put after %d s%n",
              RECORDS, (System.nanoTime() - started) / 1_000_000_000);
          await()
              .atMost(Duration.ofMinutes(5))
              .pollInSameThread()
              .pollInterval(Duration.ofMillis(100))
              .failFast("a gateway exited", () -> a.exitCode() != null || b.exitCode() != null)
              .until(() -> verifier.poll() >= RECORDS);
          for (GatewayProcess g : gateways) {
            assertThat(g.terminate(Duration.ofSeconds(60)))
                .as("exit code after SIGTERM; log:\n%s", g.logTail())
                .isZero();
          }
          verifier.drain();
          long aheadOfKcl = count(tmp, "event=kinesis_kcl_sink_position_ahead");
          Set<String> ended = endedShards(tmp);
          ended.addAll(shardEndLeases(d, app));
          List<Shard> shards = k.listShards(r -> r.streamName(stream)).shards();
          System.out.printf(
              "KinesisKclGatewayCrashIT: records=%d kills=%d leases_moved=%d move_ms=%s shards=%d"
                  + " ended=%s read=%d lost=%d duplicated=%d out_of_order=%d"
                  + " starts_after_sink_position=%d seed=%d seconds=%d kinesalite_cpu_seconds=%d"
                  + " load=%s%n",
              RECORDS,
              kills,
              moves,
              moveMillis,
              shards.size(),
              ended,
              verifier.read,
              verifier.lost(),
              verifier.duplicated,
              verifier.outOfOrder,
              aheadOfKcl,
              seed,
              (System.nanoTime() - started) / 1_000_000_000,
              servers.kinesaliteCpuSeconds(),
              loadAverage());
          assertThat(kills).isEqualTo(KILLS);
          assertThat(a.starts()).as("starts of A").isEqualTo(1 + KILLS / 2);
          assertThat(b.starts()).as("starts of B").isEqualTo(1 + KILLS / 2);
          assertThat(moves).as("leases moved by the kills").isGreaterThanOrEqualTo(KILLS);
          assertThat(shards).as("4 shards + 2 split children + 1 merged child").hasSize(7);
          // the split parent and both children reached their end in KCL (ChildShards worked):
          // the source's log line, or KCL's SHARD_END checkpoint in the lease table
          List<String> closed =
              shards.stream()
                  .filter(s -> s.sequenceNumberRange().endingSequenceNumber() != null)
                  .map(Shard::shardId)
                  .toList();
          assertThat(closed).hasSize(3);
          assertThat(ended).as("shards KCL ended").containsAll(closed);
          assertThat(verifier.corrupt).as("corrupt records").isZero();
          assertThat(verifier.lost()).as("lost records").isZero();
          assertThat(verifier.duplicated).as("duplicated records").isZero();
          assertThat(verifier.outOfOrder).as("records out of put order within a key").isZero();
        }
      }
    } finally {
      producers.shutdownNow();
      if (cborBefore == null) {
        System.clearProperty(CBOR);
      } else {
        System.setProperty(CBOR, cborBefore);
      }
    }
  }

  private static long count(Path dir, String event) throws IOException {
    long n = 0;
    for (String id : List.of("kcl-a", "kcl-b")) {
      try (Stream<String> lines = Files.lines(dir.resolve(id + ".log"))) {
        n += lines.filter(l -> l.contains(event)).count();
      }
    }
    return n;
  }

  /** The shards either gateway's source checkpointed at their end (split or merged parents). */
  private static Set<String> endedShards(Path dir) throws IOException {
    Set<String> ended = new TreeSet<>();
    for (String id : List.of("kcl-a", "kcl-b")) {
      try (Stream<String> lines = Files.lines(dir.resolve(id + ".log"))) {
        lines.forEach(
            l -> {
              Matcher m = SHARD_ENDED.matcher(l);
              if (m.find()) {
                ended.add(m.group(1));
              }
            });
      }
    }
    return ended;
  }

  /** The shards whose lease KCL checkpointed at SHARD_END (KCL may delete such leases later). */
  private static Set<String> shardEndLeases(DynamoDbClient d, String table) {
    Set<String> ended = new TreeSet<>();
    for (Map<String, AttributeValue> item : d.scanPaginator(b -> b.tableName(table)).items()) {
      AttributeValue key = item.get("leaseKey");
      AttributeValue checkpoint = item.get("checkpoint");
      if (key != null
          && key.s() != null
          && key.s().startsWith("shardId-")
          && checkpoint != null
          && "SHARD_END".equals(checkpoint.s())) {
        ended.add(key.s());
      }
    }
    return ended;
  }

  private static Path config(
      Path tmp,
      String id,
      int adminPort,
      KafkaBroker broker,
      String kinesis,
      String dynamo,
      String stream,
      String app,
      String out)
      throws IOException {
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
            "      direct.max-records-per-partition: 2500",
            "    checkpoint: " + tmp.resolve("checkpoint-" + id),
            "    source:",
            "      type: kinesis-kcl",
            "      application-name: " + app,
            "      stream: " + stream,
            "      endpoint: " + kinesis,
            "      dynamodb-endpoint: " + dynamo,
            "      access-key-id: " + KinesisTestServers.ACCESS_KEY,
            "      secret-access-key: " + KinesisTestServers.SECRET_KEY,
            "      starting-position: trim-horizon",
            "      exactly-once: true",
            // test-only timings (see the class comment)
            "      failover-time: 3s",
            "      leader-lease-duration: 4s",
            "      lease-assignment-interval: 1s",
            "      shard-sync-interval: 2s",
            "      poll-interval: 200ms",
            "      shutdown-timeout: 10s",
            "    sinks:",
            "      - type: kafka",
            "        bootstrap-servers: " + broker.bootstrapServers(),
            "        topic: " + out,
            "        transaction-timeout: 10s",
            "        marker-read-timeout: 30s",
            ""));
    return config;
  }

  /**
   * The lease owner of each open shard (KCL's lease table; ended shards and other items skipped).
   */
  private static Map<String, String> owners(DynamoDbClient d, String table) {
    Map<String, String> owners = new TreeMap<>();
    Iterable<Map<String, AttributeValue>> items;
    try {
      items = d.scanPaginator(b -> b.tableName(table)).items().stream().toList();
    } catch (ResourceNotFoundException e) {
      return owners; // the first gateway has not created the lease table yet
    }
    for (Map<String, AttributeValue> item : items) {
      AttributeValue key = item.get("leaseKey");
      AttributeValue owner = item.get("leaseOwner");
      AttributeValue checkpoint = item.get("checkpoint");
      if (key != null
          && key.s() != null
          && key.s().startsWith("shardId-")
          && !(checkpoint != null && "SHARD_END".equals(checkpoint.s()))) {
        owners.put(key.s(), owner == null || owner.s() == null ? "" : owner.s());
      }
    }
    return owners;
  }

  /**
   * Puts the numbers of producer {@code p} (those whose key {@code i % KEYS} is {@code p} modulo
   * {@link #PRODUCERS}), key {@code k<i % KEYS>}, in increasing order, 500 per request, each
   * request once the gate lets the count through.
   */
  private static void put(KinesisClient k, String stream, int p, AtomicInteger produced, Gate gate)
      throws InterruptedException {
    List<PutRecordsRequestEntry> batch = new ArrayList<>();
    for (int i = 0; i < RECORDS; i++) {
      if ((i % KEYS) % PRODUCERS != p) {
        continue;
      }
      batch.add(
          PutRecordsRequestEntry.builder()
              .partitionKey("k" + (i % KEYS))
              .data(SdkBytes.fromString(Integer.toString(i), StandardCharsets.US_ASCII))
              .build());
      if (batch.size() == 500) {
        gate.await(produced.get() + batch.size());
        putAll(k, stream, batch, produced);
      }
    }
    if (!batch.isEmpty()) {
      putAll(k, stream, batch, produced);
    }
  }

  private static DynamoDbClient dynamo(String endpoint) {
    return DynamoDbClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(
                AwsBasicCredentials.create(
                    KinesisTestServers.ACCESS_KEY, KinesisTestServers.SECRET_KEY)))
        .httpClient(ApacheHttpClient.builder().build())
        .build();
  }

  /**
   * How many records the producers may have put: they wait in {@link #await} until {@link #open}
   * raised the limit past their count. Thread-safe (a monitor).
   */
  private static final class Gate {
    private long limit;

    Gate(long limit) {
      this.limit = limit;
    }

    synchronized void open(long newLimit) {
      limit = Math.max(limit, newLimit);
      notifyAll();
    }

    synchronized void await(long count) throws InterruptedException {
      while (count > limit) {
        wait();
      }
    }
  }

  /**
   * Counts the lines of a growing log file that contain {@code marker}, reading only what was
   * appended since the last {@link #poll()}. Single-threaded.
   */
  private static final class LogWatch {
    private final Path file;
    private final String marker;
    private long offset;
    private final StringBuilder partial = new StringBuilder();
    int count;

    LogWatch(Path file, String marker) {
      this.file = file;
      this.marker = marker;
    }

    int poll() throws IOException {
      if (!Files.exists(file)) {
        return count;
      }
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
        long length = f.length();
        if (length <= offset) {
          return count;
        }
        byte[] bytes = new byte[(int) Math.min(length - offset, 8 << 20)];
        f.seek(offset);
        f.readFully(bytes);
        offset += bytes.length;
        partial.append(new String(bytes, StandardCharsets.UTF_8));
      }
      int nl;
      while ((nl = partial.indexOf("\n")) >= 0) {
        if (partial.substring(0, nl).contains(marker)) {
          count++;
        }
        partial.delete(0, nl + 1);
      }
      return count;
    }
  }

  /**
   * Reads the output topic with {@code read_committed} from the beginning, incrementally: counts
   * per record number and the order of each partition key's records. Single-threaded.
   */
  private static final class Verifier implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions = new ArrayList<>();
    private final byte[] seen = new byte[RECORDS];
    private final Map<String, Integer> lastPerKey = new HashMap<>();
    long read;
    long distinct;
    long duplicated;
    long outOfOrder;
    long corrupt;

    Verifier(String bootstrap, String topic) {
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      p.put("isolation.level", "read_committed");
      p.put("max.poll.records", "5000");
      consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      for (int i = 0; i < OUT_PARTITIONS; i++) {
        partitions.add(new TopicPartition(topic, i));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
    }

    long poll() {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(20))) {
        read++;
        int i;
        try {
          i = Integer.parseInt(new String(r.value(), StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
          corrupt++;
          continue;
        }
        String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
        if (i < 0 || i >= RECORDS || !key.equals("k" + (i % KEYS))) {
          corrupt++;
          continue;
        }
        if (seen[i]++ == 0) {
          distinct++;
        } else {
          duplicated++;
        }
        Integer prev = lastPerKey.put(key, i);
        if (prev != null && prev >= i) {
          outOfOrder++;
        }
      }
      return distinct;
    }

    /** Reads to the end of every partition (no transaction is open once the gateways stopped). */
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

    long lost() {
      long lost = 0;
      for (byte c : seen) {
        if (c == 0) {
          lost++;
        }
      }
      return lost;
    }

    @Override
    public void close() {
      consumer.close();
    }
  }
}
