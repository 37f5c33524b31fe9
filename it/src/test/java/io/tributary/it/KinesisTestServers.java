package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
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
}
