package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

/**
 * The packaged gateway as a separate process reads a 4-shard Kinesis stream (kinesis-mock, npm
 * {@code kinesis-local}, as a child {@code node} process) with the direct {@code kinesis} source
 * into the exactly-once {@code files} sink, while numbered records are put in chunks between the
 * kills, shard 0 is split and the two children are merged again mid-run, and the gateway is
 * SIGKILLed 10 times at seeded random moments. Afterwards every record is in the output exactly
 * once, and the records of each partition key in their put order (children read after their
 * parents).
 *
 * <p>Size: {@value #RECORDS} records from one producer, not the 500,000 from several:
 * kinesis-mock takes about 1,000 records/s from one PutRecords loop on a quiet 2-core machine, and
 * with 4 concurrent producers next to the gateway's reads it stopped answering altogether in two
 * runs here (every call timed out; the machine's load average was above 30). 500,000 would take
 * many minutes of the CI budget; the crash coverage comes from the kills, the split and the merge,
 * not the count. Rerun with {@code -Dkinesis.crash.seed=N}.
 */
class KinesisGatewayCrashIT {
  private static final int RECORDS = 12_000;
  private static final int KEYS = 64;
  private static final int KILLS = 10;

  /** Under target/, kept after the run: the gateway's and the mock's logs for a failed run. */
  private Path tmp;

  private KinesisTestServers servers;

  @AfterEach
  void stopMock() {
    if (servers != null) {
      servers.close();
    }
  }

  @Test
  void everyRecordExactlyOnceAndInOrderPerKeyAcrossSigkillsASplitAndAMerge() throws Exception {
    long seed = Long.getLong("kinesis.crash.seed", System.nanoTime());
    Random random = new Random(seed);
    tmp = Files.createDirectories(Path.of("target", "kinesis-crash-" + seed).toAbsolutePath());
    System.out.printf("KinesisGatewayCrashIT: seed=%d work=%s%n", seed, tmp);
    servers = new KinesisTestServers(tmp);
    String endpoint = servers.startKinesis();
    String stream = "kcrash";
    Path out = tmp.resolve("out");
    try (KinesisClient k = KinesisTestServers.client(endpoint)) {
      k.createStream(b -> b.streamName(stream).shardCount(4));
      awaitActive(k, stream);
      Path config = tmp.resolve("gateway.yaml");
      Files.writeString(
          config,
          String.join(
              "\n",
              "pipelines:",
              "  - id: kcrash",
              "    settings:",
              "      batch-interval: 200ms",
              "      direct.max-records-per-partition: 1000",
              "    checkpoint: " + tmp.resolve("checkpoint"),
              "    source:",
              "      type: kinesis",
              "      stream: " + stream,
              "      endpoint: " + endpoint,
              "      access-key-id: AKIAIOSFODNN7EXAMPLE",
              "      secret-access-key: local-test-secret",
              "      starting-position: trim-horizon",
              "    sinks:",
              "      - { type: files, path: " + out + ", max-file-size: 1mb }",
              ""));

      // Production is interleaved with the kills, so every kill lands while records flow: chunk n
      // is put, the gateway writes some output, then it is killed at a random poll.
      int chunk = RECORDS / (KILLS + 1);
      int kills = 0;
      try (KinesisClient producer = KinesisTestServers.client(endpoint);
          GatewayProcess gateway = new GatewayProcess(config, tmp.resolve("gateway.log"))) {
        gateway.start();
        for (int n = 0; n < KILLS; n++) {
          put(producer, stream, n * chunk, (n + 1) * chunk);
          int linesAtStart = GatewayProcess.outputLines(out).size();
          int kill = n;
          await()
              .atMost(Duration.ofSeconds(240))
              .pollInterval(Duration.ofMillis(20 + random.nextInt(300)))
              .failFast("gateway exited", () -> gateway.exitCode() != null)
              .conditionEvaluationListener(
                  c -> {
                    if (c.getRemainingTimeInMS() < 1000) {
                      System.out.printf(
                          "KinesisGatewayCrashIT: waiting for kill %d: output=%d at_start=%d%n",
                          kill, outputLines(out), linesAtStart);
                    }
                  })
              .until(() -> GatewayProcess.outputLines(out).size() > linesAtStart);
          gateway.kill();
          kills++;
          if (n == 3) {
            split(k, stream);
          } else if (n == 6) {
            mergeChildren(k, stream);
          }
          gateway.start();
        }
        put(producer, stream, KILLS * chunk, RECORDS);
        await()
            .atMost(Duration.ofMinutes(5))
            .pollInterval(Duration.ofMillis(500))
            .failFast("gateway exited", () -> gateway.exitCode() != null)
            .until(() -> GatewayProcess.outputLines(out).size() >= RECORDS);
        assertThat(gateway.terminate(Duration.ofSeconds(60)))
            .as("exit code after SIGTERM; log:\n%s", gateway.logTail())
            .isZero();
      }

      List<String> lines = GatewayProcess.outputLines(out);
      Map<Integer, Integer> counts = new HashMap<>();
      Map<Integer, Integer> lastPerKey = new HashMap<>();
      long outOfOrder = 0;
      for (String l : lines) {
        int i = Integer.parseInt(l.trim());
        counts.merge(i, 1, Integer::sum);
        Integer prev = lastPerKey.put(i % KEYS, i);
        if (prev != null && prev >= i) {
          outOfOrder++;
        }
      }
      long duplicated = counts.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
      long lost = 0;
      for (int i = 0; i < RECORDS; i++) {
        if (!counts.containsKey(i)) {
          lost++;
        }
      }
      List<Shard> shards = k.listShards(b -> b.streamName(stream)).shards();
      System.out.printf(
          "KinesisGatewayCrashIT: records=%d kills=%d shards=%d output=%d lost=%d duplicated=%d"
              + " out_of_order=%d seed=%d%n",
          RECORDS, kills, shards.size(), lines.size(), lost, duplicated, outOfOrder, seed);
      assertThat(kills).isGreaterThanOrEqualTo(10);
      assertThat(shards).as("4 shards + 2 split children + 1 merged child").hasSize(7);
      assertThat(lost).as("lost records").isZero();
      assertThat(duplicated).as("duplicated records").isZero();
      assertThat(outOfOrder).as("records out of put order within a partition key").isZero();
    }
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

  private static int outputLines(Path out) {
    try {
      return GatewayProcess.outputLines(out).size();
    } catch (IOException e) {
      return -1;
    }
  }

  private static void split(KinesisClient k, String stream) {
    Shard s0 =
        k.listShards(b -> b.streamName(stream)).shards().stream()
            .filter(s -> s.shardId().endsWith("-000000000000"))
            .findFirst()
            .orElseThrow();
    BigInteger lo = new BigInteger(s0.hashKeyRange().startingHashKey());
    BigInteger hi = new BigInteger(s0.hashKeyRange().endingHashKey());
    k.splitShard(
        b ->
            b.streamName(stream)
                .shardToSplit(s0.shardId())
                .newStartingHashKey(lo.add(hi).shiftRight(1).toString()));
    awaitActive(k, stream);
  }

  private static void mergeChildren(KinesisClient k, String stream) {
    List<Shard> children =
        k.listShards(b -> b.streamName(stream)).shards().stream()
            .filter(s -> "shardId-000000000000".equals(s.parentShardId()))
            .toList();
    assertThat(children).hasSize(2);
    k.mergeShards(
        b ->
            b.streamName(stream)
                .shardToMerge(children.get(0).shardId())
                .adjacentShardToMerge(children.get(1).shardId()));
    awaitActive(k, stream);
  }

  private static void awaitActive(KinesisClient k, String stream) {
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                k.describeStreamSummary(b -> b.streamName(stream))
                        .streamDescriptionSummary()
                        .streamStatus()
                    == StreamStatus.ACTIVE);
  }
}
