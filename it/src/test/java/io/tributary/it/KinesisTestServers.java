package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

/**
 * The local Kinesis and DynamoDB servers of the it/ tests: kinesalite (npm, in memory; {@link
 * #startKinesalite()}) and dynalite (npm, in memory), from connector-kinesis/testservers (installed
 * by {@code npm ci} in .ci/run, or here when missing), each a child {@code node} process on a free
 * loopback port with its log in the test's work directory. {@link #close()} stops them. (The it/
 * tests left kinesis-mock, which connector-kinesis's own tests use: it took 190-250 records/s from
 * PutRecords here, far too slow for their 500,000 records.)
 *
 * <p>Thread safety: not thread-safe; one test thread.
 */
final class KinesisTestServers implements AutoCloseable {
  static final String ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
  static final String SECRET_KEY = "local-test-secret";

  private final Path work;
  private Process kinesalite;
  private Process dynalite;

  KinesisTestServers(Path work) {
    this.work = work;
  }

  private Path nodeModules() throws IOException, InterruptedException {
    Path nm =
        Path.of(System.getProperty("kinesis.testservers", "../connector-kinesis/testservers"))
            .toAbsolutePath()
            .normalize()
            .resolve("node_modules");
    if (!Files.isDirectory(nm.resolve("kinesis-local"))
        || !Files.isDirectory(nm.resolve("dynalite"))
        || !Files.isDirectory(nm.resolve("kinesalite"))) {
      Process npm =
          new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
              .directory(nm.getParent().toFile())
              .redirectErrorStream(true)
              .redirectOutput(work.resolve("npm-ci.log").toFile())
              .start();
      assertThat(npm.waitFor(5, TimeUnit.MINUTES) && npm.exitValue() == 0)
          .as("npm ci in %s (node and npm are needed; see .ci/run)", nm.getParent())
          .isTrue();
    }
    return nm;
  }

  /**
   * Starts kinesalite (in memory, on 127.0.0.1 through {@code kinesalite-server.js}); returns its
   * endpoint. Its clients must use JSON, not CBOR ({@code -Daws.cborEnabled=false}, or the
   * environment variable {@code CBOR_ENABLED=false}): the SDK cannot read kinesalite's CBOR
   * responses. Differences from AWS that matter to a reader: ListShards ignores {@code
   * ShardFilter}, no UpdateShardCount, no enhanced fan-out, a closed shard's null next iterator may
   * come only after an empty page; a closed shard's EndingSequenceNumber is real. kinesalite itself
   * sends no {@code ChildShards} in a closed shard's last GetRecords; the wrapper adds them (KCL
   * needs them to end a parent shard and create its children's leases).
   */
  String startKinesalite() throws IOException, InterruptedException {
    Path nm = nodeModules();
    int port = GatewayProcess.freePort();
    Process p =
        new ProcessBuilder(
                "node",
                nm.resolve("../kinesalite-server.js").normalize().toString(),
                "--port",
                Integer.toString(port),
                "--shardLimit",
                "100",
                "--createStreamMs",
                "50",
                "--updateStreamMs",
                "50",
                "--deleteStreamMs",
                "50")
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("kinesalite.log").toFile())
            .start();
    kinesalite = p;
    awaitOpen(p, port, "kinesalite");
    return "http://127.0.0.1:" + port;
  }

  /** The CPU time kinesalite has used so far (for the test's report), or -1 when unknown. */
  long kinesaliteCpuSeconds() {
    return kinesalite == null
        ? -1
        : kinesalite.info().totalCpuDuration().map(Duration::toSeconds).orElse(-1L);
  }

  /** Starts dynalite (in memory); returns its endpoint. */
  String startDynamo() throws IOException, InterruptedException {
    Path nm = nodeModules();
    int port = GatewayProcess.freePort();
    Process p =
        new ProcessBuilder(
                "node",
                nm.resolve("../dynalite-server.js").normalize().toString(),
                "--host",
                "127.0.0.1",
                "--port",
                Integer.toString(port),
                "--createTableMs",
                "50",
                "--updateTableMs",
                "50",
                "--deleteTableMs",
                "50")
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("dynalite.log").toFile())
            .start();
    dynalite = p;
    awaitOpen(p, port, "dynalite");
    return "http://127.0.0.1:" + port;
  }

  private static void awaitOpen(Process p, int port, String what) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .failFast(what + " exited", () -> !p.isAlive())
        .until(() -> isOpen(port));
  }

  private static boolean isOpen(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static KinesisClient client(String endpoint) {
    return KinesisClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .httpClient(ApacheHttpClient.builder().build())
        .build();
  }

  static void awaitActive(KinesisClient k, String stream) {
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

  @Override
  public void close() {
    for (Process p : new Process[] {kinesalite, dynalite}) {
      if (p != null) {
        p.destroy();
        try {
          if (!p.waitFor(5, TimeUnit.SECONDS)) {
            p.destroyForcibly();
          }
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** Puts {@code batch} in one PutRecords, adds its size to {@code produced} and clears it. */
  static void putAll(
      KinesisClient k, String stream, List<PutRecordsRequestEntry> batch, AtomicInteger produced) {
    List<PutRecordsRequestEntry> entries = List.copyOf(batch);
    PutRecordsResponse r = k.putRecords(b -> b.streamName(stream).records(entries));
    if (r.failedRecordCount() != null && r.failedRecordCount() > 0) {
      // resending would break the per-key order this test checks; kinesalite never fails one
      throw new IllegalStateException("kinesalite failed " + r.failedRecordCount());
    }
    produced.addAndGet(entries.size());
    batch.clear();
  }

  /** Throws the failure of a producer that ended with one; false otherwise. */
  static boolean failed(List<Future<?>> putting) throws Exception {
    for (Future<?> f : putting) {
      if (f.isDone()) {
        f.get(); // throws the producer's failure
      }
    }
    return false;
  }

  /** The 1-minute load average, to read the time taken against. */
  static String loadAverage() {
    return String.format(
        "%.1f",
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
  }

  /** Splits shard 0 at the middle of its hash range and waits until the stream is active. */
  static void split(KinesisClient k, String stream) {
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

  /** Merges the two children of shard 0 and waits until the stream is active. */
  static void mergeChildren(KinesisClient k, String stream) {
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
}
