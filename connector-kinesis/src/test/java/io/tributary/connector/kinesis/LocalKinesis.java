package io.tributary.connector.kinesis;

import java.io.File;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

/**
 * The test run's Kinesis server: etspaceman's kinesis-mock (npm {@code kinesis-local}, pinned in
 * {@code testservers/package.json}) started once per test JVM, stopped by a shutdown hook: in a
 * container of the local image when a container engine answers ({@link KinesisServerSelection},
 * {@link ServerContainer}), else as a child {@code node} process on free loopback ports. {@code npm
 * ci} runs first when {@code testservers/node_modules} is missing (CI runs it in {@code .ci/run}).
 *
 * <p>Known differences from AWS (see the shared notes): a closed shard's EndingSequenceNumber is
 * Long.MAX, so the source detects a shard's end by a null NextShardIterator; enhanced fan-out does
 * not carry resharding.
 *
 * <p>Thread safety: {@link #get()} is synchronized; the instance is immutable.
 */
final class LocalKinesis {
  static final String ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
  static final String SECRET_KEY = "local-test-secret";
  private static LocalKinesis instance;

  /** kinesis-mock's ports inside the container (HTTP, HTTPS). */
  static final int CONTAINER_PORT = 4568;

  static final int CONTAINER_TLS_PORT = 4567;

  private final Process process;
  private final ServerContainer container;
  private final String host;
  private final int port;
  private final int tlsPort;
  private final Path log;

  private LocalKinesis(Process process, int port, int tlsPort, Path log) {
    this.tlsPort = tlsPort;
    this.process = process;
    this.container = null;
    this.host = "127.0.0.1";
    this.port = port;
    this.log = log;
  }

  private LocalKinesis(ServerContainer container) {
    this.process = null;
    this.container = container;
    this.host = container.host();
    this.port = container.port(CONTAINER_PORT);
    this.tlsPort = container.port(CONTAINER_TLS_PORT);
    this.log = container.logFile();
  }

  static synchronized LocalKinesis get() {
    if (instance == null) {
      try {
        instance = start();
      } catch (IOException e) {
        throw new IllegalStateException("Could not start kinesis-mock: " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      LocalKinesis started = instance;
      Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "kinesis-mock-stop"));
    }
    return instance;
  }

  static Path testServers() {
    return Path.of(System.getProperty("tributary.kinesis.testservers", "testservers"))
        .toAbsolutePath();
  }

  /** Runs {@code npm ci} in testservers/ when node_modules is missing. */
  static Path nodeModules() throws IOException, InterruptedException {
    Path dir = testServers();
    Path nm = dir.resolve("node_modules");
    if (!Files.isDirectory(nm.resolve("kinesis-local"))
        || !Files.isDirectory(nm.resolve("dynalite"))
        || !Files.isDirectory(nm.resolve("kinesalite"))) {
      Process npm =
          new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("npm-ci.log").toFile())
              .start();
      if (!npm.waitFor(5, TimeUnit.MINUTES) || npm.exitValue() != 0) {
        throw new IOException(
            "npm ci in "
                + dir
                + " failed (see npm-ci.log there): the Kinesis tests need node and npm (Debian: apt-get install"
                + " nodejs npm)");
      }
    }
    return nm;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** kinesis-mock's settings: quick stream operations, room for the tests' shards. */
  static Map<String, String> settings() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("LOG_LEVEL", "WARN");
    for (String d :
        List.of(
            "CREATE_STREAM_DURATION",
            "DELETE_STREAM_DURATION",
            "SPLIT_SHARD_DURATION",
            "MERGE_SHARDS_DURATION",
            "UPDATE_SHARD_COUNT_DURATION",
            "REGISTER_STREAM_CONSUMER_DURATION",
            "DEREGISTER_STREAM_CONSUMER_DURATION",
            "START_STREAM_ENCRYPTION_DURATION",
            "STOP_STREAM_ENCRYPTION_DURATION")) {
      env.put(d, "50ms");
    }
    env.put("SHARD_LIMIT", "100");
    return env;
  }

  private static LocalKinesis start() throws IOException, InterruptedException {
    String image = KinesisServerSelection.image();
    if (image != null) {
      return new LocalKinesis(
          ServerContainer.start(
              image, "kinesis", settings(), List.of(), CONTAINER_PORT, CONTAINER_TLS_PORT));
    }
    Path nm = nodeModules();
    Path logDir = Path.of("target").toAbsolutePath();
    Files.createDirectories(logDir);
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int tls = freePort();
      int plain = freePort();
      Path log = logDir.resolve("kinesis-mock-" + plain + ".log");
      ProcessBuilder pb =
          new ProcessBuilder("node", nm.resolve("kinesis-local/main.js").toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      var env = pb.environment();
      env.put("KINESIS_MOCK_TLS_PORT", Integer.toString(tls));
      env.put("KINESIS_MOCK_PLAIN_PORT", Integer.toString(plain));
      env.put("KINESIS_MOCK_CERT_PATH", nm.resolve("kinesis-local/server.json").toString());
      env.putAll(settings());
      Process p = pb.start();
      IOException refused = awaitPort(p, plain, Duration.ofSeconds(60));
      if (refused == null) {
        return new LocalKinesis(p, plain, tls, log);
      }
      p.destroyForcibly();
      last = new IOException("kinesis-mock did not open port " + plain + "; log: " + log, refused);
    }
    throw last;
  }

  void stop() {
    if (container != null) {
      container.close();
    } else {
      stop(process);
    }
  }

  /** {@code local} (child process) or {@code container image=...}. */
  String kind() {
    return container == null ? "local" : "container image=" + container.image();
  }

  /** The server's container when it runs in one. */
  Optional<ServerContainer> container() {
    return Optional.ofNullable(container);
  }

  /**
   * Polls until a child server accepts connections on {@code port}: null once it does, else the
   * last refusal (the process exited or {@code timeout} passed). Shared with {@link LocalDynamo}.
   */
  static IOException awaitPort(Process p, int port, Duration timeout) throws InterruptedException {
    IOException last = new IOException("the process exited before opening port " + port);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline && p.isAlive()) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return null;
      } catch (IOException e) {
        last = e;
        TimeUnit.MILLISECONDS.sleep(50); // polling a child process's port: no event to wait on
      }
    }
    return last;
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  static void stop(Process process) {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  String endpoint() {
    return "http://" + host + ":" + port;
  }

  int port() {
    return port;
  }

  /**
   * The port where kinesis-mock speaks HTTPS, with its own certificate (not trusted by the JVM).
   */
  int tlsPort() {
    return tlsPort;
  }

  File log() {
    return log.toFile();
  }

  KinesisClient client() {
    return client(endpoint());
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

  /** Creates {@code stream} with {@code shards} shards and waits until it is ACTIVE. */
  static void createStream(KinesisClient k, String stream, int shards) {
    k.createStream(b -> b.streamName(stream).shardCount(shards));
    awaitActive(k, stream);
  }

  /**
   * Splits the stream's first listed shard at the middle of its hash range and waits until the
   * stream is active again; returns that (now closing) parent shard.
   */
  static Shard splitFirstShard(KinesisClient k, String stream) {
    Shard parent = k.listShards(b -> b.streamName(stream)).shards().get(0);
    BigInteger lo = new BigInteger(parent.hashKeyRange().startingHashKey());
    BigInteger hi = new BigInteger(parent.hashKeyRange().endingHashKey());
    k.splitShard(
        b ->
            b.streamName(stream)
                .shardToSplit(parent.shardId())
                .newStartingHashKey(lo.add(hi).shiftRight(1).toString()));
    awaitActive(k, stream);
    return parent;
  }

  static void awaitActive(KinesisClient k, String stream) {
    org.awaitility.Awaitility.await()
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
