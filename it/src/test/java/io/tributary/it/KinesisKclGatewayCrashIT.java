package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
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
import java.util.TreeMap;
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
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;

/**
 * Two packaged gateways as separate processes share a 4-shard Kinesis stream (kinesis-mock) through
 * the {@code kinesis-kcl} source (one KCL application, its lease table in dynalite) and write into
 * one Kafka topic with the transactional {@code kafka} sink, which carries each batch's shard
 * positions in its transaction ({@code exactly-once: true}). They are SIGKILLed in turn (seeded);
 * after each kill the test waits until a lease of the killed instance moved to the survivor (read
 * from the lease table), then restarts the killed one. Numbered records are put between the kills,
 * so every kill lands while records flow. A {@code read_committed} consumer of the output topic
 * then finds every record exactly once, and each partition key's records in put order.
 *
 * <p>While both run, the admin API of one gateway reports {@code MillisBehindLatest} of the shards
 * it leases (metric {@code tributary_kinesis_millis_behind_latest}).
 *
 * <p>Size: {@value #RECORDS} records and {@value #KILLS} kills (KCL timings shortened:
 * failover-time 3 s, leader lock 6 s). Each kill costs a lease takeover and a gateway restart (a
 * fresh application's leases are created by the source before KCL starts, so KCL's random 1 to 30 s
 * first-sync wait is not paid). The test takes minutes, not seconds, on a loaded 2-core machine (6
 * kills: 880 s at load 20). Rerun with {@code -Dkinesis.kcl.crash.seed=N}.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KinesisKclGatewayCrashIT {
  private static final int RECORDS = 20_000;
  private static final int KEYS = 64;
  private static final int KILLS = 4;
  private static final int OUT_PARTITIONS = 4;
  private static final Pattern LAG =
      Pattern.compile(
          "^tributary_kinesis_millis_behind_latest\\{[^}]*shard=\"([^\"]+)\"[^}]*} ([0-9.eE+-]+)$",
          Pattern.MULTILINE);
  private static final Pattern STATUS_LAG =
      Pattern.compile(
          "\\{\\s*\"partition\"\\s*:\\s*\"([^\"]+)\"[^{}]*\"millisBehindLatest\"\\s*:\\s*(-?[0-9]+)");

  @Test
  void everyRecordExactlyOnceWhileTwoGatewaysAreKilledInTurnAndLeasesMove(KafkaBroker broker)
      throws Exception {
    long seed = Long.getLong("kinesis.kcl.crash.seed", System.nanoTime());
    Random random = new Random(seed);
    Path tmp = Files.createDirectories(Path.of("target", "kcl-crash-" + seed).toAbsolutePath());
    System.out.printf("KinesisKclGatewayCrashIT: seed=%d work=%s%n", seed, tmp);
    String stream = "kclcrash";
    String app = "kclcrash-app";
    String out = "kclcrash-out";
    broker.createTopic(out, OUT_PARTITIONS);
    try (KinesisTestServers servers = new KinesisTestServers(tmp)) {
      String kinesis = servers.startKinesis();
      String dynamo = servers.startDynamo();
      try (KinesisClient k = KinesisTestServers.client(kinesis);
          DynamoDbClient d = dynamo(dynamo)) {
        k.createStream(b -> b.streamName(stream).shardCount(4));
        KinesisTestServers.awaitActive(k, stream);
        int adminA = GatewayProcess.freePort();
        List<GatewayProcess> gateways = new ArrayList<>();
        List<String> ids = List.of("kcl-a", "kcl-b");
        try (Verifier verifier = new Verifier(broker.bootstrapServers(), out);
            GatewayProcess a =
                new GatewayProcess(
                    config(tmp, "kcl-a", adminA, broker, kinesis, dynamo, stream, app, out),
                    tmp.resolve("kcl-a.log"));
            GatewayProcess b =
                new GatewayProcess(
                    config(tmp, "kcl-b", 0, broker, kinesis, dynamo, stream, app, out),
                    tmp.resolve("kcl-b.log"))) {
          gateways.add(a);
          gateways.add(b);
          int chunk = RECORDS / (KILLS + 2);
          put(k, stream, 0, chunk);
          // A first, B once A's KCL worker holds every lease: two KCL 3.5.1 workers initializing
          // a fresh lease table at the same moment can leave one failing forever ("Failed to create
          // migration state", then "AssignmentMode is not initialized" on every retry).
          a.start();
          await()
              .atMost(Duration.ofSeconds(90))
              .pollInterval(Duration.ofMillis(200))
              .failFast("gateway A exited", () -> a.exitCode() != null)
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
          for (int n = 0; n < KILLS; n++) {
            // Counted before the chunk is put: the gateways may commit all of it, and the reader
            // read it, before the wait below begins.
            long atStart = verifier.poll();
            put(k, stream, (n + 1) * chunk, (n + 2) * chunk);
            // The victim alternates, but must hold a lease for the kill to move one.
            Map<String, String> before = owners(d, app);
            int v = n % 2;
            if (!before.containsValue(ids.get(v))) {
              v = 1 - v;
            }
            GatewayProcess victim = gateways.get(v);
            GatewayProcess survivor = gateways.get(1 - v);
            String survivorId = ids.get(1 - v);
            long target = atStart + 1 + random.nextInt(chunk / 4);
            await()
                .atMost(Duration.ofSeconds(60))
                .pollInSameThread()
                .pollInterval(Duration.ofMillis(5 + random.nextInt(60)))
                .failFast("a gateway exited", () -> a.exitCode() != null || b.exitCode() != null)
                .until(() -> verifier.poll() >= target);
            victim.kill();
            kills++;
            // A lease of the killed instance moves to the survivor (KCL takes them over one at a
            // time, after failover-time and, when the killed one led, the leader lock's expiry),
            // then the killed one restarts.
            int[] moved = {0};
            await()
                .atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(200))
                .failFast("the survivor exited", () -> survivor.exitCode() != null)
                .until(
                    () -> {
                      verifier.poll();
                      Map<String, String> now = owners(d, app);
                      moved[0] =
                          (int)
                              before.entrySet().stream()
                                  .filter(e -> !e.getValue().equals(survivorId))
                                  .filter(e -> survivorId.equals(now.get(e.getKey())))
                                  .count();
                      return moved[0] > 0;
                    });
            moves += moved[0];
            victim.start();
          }
          put(k, stream, (KILLS + 1) * chunk, RECORDS);
          await()
              .atMost(Duration.ofSeconds(90))
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
          System.out.printf(
              "KinesisKclGatewayCrashIT: records=%d kills=%d leases_moved=%d read=%d lost=%d"
                  + " duplicated=%d out_of_order=%d starts_after_sink_position=%d seed=%d%n",
              RECORDS,
              kills,
              moves,
              verifier.read,
              verifier.lost(),
              verifier.duplicated,
              verifier.outOfOrder,
              aheadOfKcl,
              seed);
          assertThat(kills).isEqualTo(KILLS);
          assertThat(moves).as("leases moved by the kills").isGreaterThanOrEqualTo(KILLS);
          assertThat(verifier.corrupt).as("corrupt records").isZero();
          assertThat(verifier.lost()).as("lost records").isZero();
          assertThat(verifier.duplicated).as("duplicated records").isZero();
          assertThat(verifier.outOfOrder).as("records out of put order within a key").isZero();
        }
      }
    }
  }

  private static long count(Path dir, String event) throws Exception {
    long n = 0;
    for (String id : List.of("kcl-a", "kcl-b")) {
      try (Stream<String> lines = Files.lines(dir.resolve(id + ".log"))) {
        n += lines.filter(l -> l.contains(event)).count();
      }
    }
    return n;
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
      throws Exception {
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
            "      direct.max-records-per-partition: 500",
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
            "      failover-time: 3s",
            "      leader-lease-duration: 6s",
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

  /** The lease owner of each shard (KCL's lease table; other items of the table skipped). */
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

  /** Puts the numbers [from, until), key {@code k<i % KEYS>}, in order, 250 per request. */
  private static void put(KinesisClient k, String stream, int from, int until) {
    List<PutRecordsRequestEntry> batch = new ArrayList<>();
    for (int i = from; i < until; i++) {
      batch.add(
          PutRecordsRequestEntry.builder()
              .partitionKey("k" + (i % KEYS))
              .data(SdkBytes.fromString(Integer.toString(i), StandardCharsets.US_ASCII))
              .build());
      if (batch.size() == 250 || i == until - 1) {
        List<PutRecordsRequestEntry> entries = List.copyOf(batch);
        PutRecordsResponse r = k.putRecords(b -> b.streamName(stream).records(entries));
        if (r.failedRecordCount() != null && r.failedRecordCount() > 0) {
          // resending would break the per-key order this test checks; the mock never fails one
          throw new IllegalStateException("kinesis-mock failed " + r.failedRecordCount());
        }
        batch.clear();
      }
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
