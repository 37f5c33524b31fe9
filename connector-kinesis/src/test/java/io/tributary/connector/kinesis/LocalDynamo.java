package io.tributary.connector.kinesis;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * The test run's DynamoDB server for KCL's lease tables: dynalite (npm, pinned in {@code
 * testservers/package.json}, in memory) started once per test JVM, stopped by a shutdown hook: in a
 * container of the local image when a container engine answers ({@link KinesisServerSelection},
 * {@link ServerContainer}), else as a child {@code node} process on a free loopback port.
 *
 * <p>Known difference from AWS (see the shared notes): dynalite cannot add an index with
 * UpdateTable; the {@code kinesis-kcl} source creates its lease table with KCL 3's index in one
 * CreateTable, so this does not matter.
 *
 * <p>Thread safety: {@link #get()} is synchronized; the instance is immutable.
 */
final class LocalDynamo {
  private static LocalDynamo instance;

  /** dynalite's port inside the container. */
  static final int CONTAINER_PORT = 8000;

  private final Process process;
  private final ServerContainer container;
  private final String host;
  private final int port;

  private LocalDynamo(Process process, int port) {
    this.process = process;
    this.container = null;
    this.host = "127.0.0.1";
    this.port = port;
  }

  private LocalDynamo(ServerContainer container) {
    this.process = null;
    this.container = container;
    this.host = container.host();
    this.port = container.port(CONTAINER_PORT);
  }

  /** dynalite's arguments besides host and port: quick table operations. */
  private static final List<String> SETTINGS =
      List.of("--createTableMs", "50", "--updateTableMs", "50", "--deleteTableMs", "50");

  static synchronized LocalDynamo get() {
    if (instance == null) {
      try {
        instance = start();
      } catch (IOException e) {
        throw new IllegalStateException("Could not start dynalite: " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      LocalDynamo started = instance;
      Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "dynalite-stop"));
    }
    return instance;
  }

  private static LocalDynamo start() throws IOException, InterruptedException {
    String image = KinesisServerSelection.image();
    if (image != null) {
      return new LocalDynamo(
          ServerContainer.start(image, "dynamodb", Map.of(), SETTINGS, CONTAINER_PORT));
    }
    Path nm = LocalKinesis.nodeModules();
    Path logDir = Path.of("target").toAbsolutePath();
    Files.createDirectories(logDir);
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = LocalKinesis.freePort();
      Path log = logDir.resolve("dynalite-" + port + ".log");
      List<String> cmd = new ArrayList<>();
      cmd.addAll(
          List.of(
              "node",
              nm.resolve("../dynalite-server.js").normalize().toString(),
              "--host",
              "127.0.0.1",
              "--port",
              Integer.toString(port)));
      cmd.addAll(SETTINGS);
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      IOException refused = LocalKinesis.awaitPort(p, port, Duration.ofSeconds(30));
      if (refused == null) {
        return new LocalDynamo(p, port);
      }
      p.destroyForcibly();
      last = new IOException("dynalite did not open port " + port + "; log: " + log, refused);
    }
    throw last;
  }

  void stop() {
    if (container != null) {
      container.close();
    } else {
      LocalKinesis.stop(process);
    }
  }

  /** {@code local} (child process) or {@code container image=...}. */
  String kind() {
    return container == null ? "local" : "container image=" + container.image();
  }

  String endpoint() {
    return "http://" + host + ":" + port;
  }

  DynamoDbClient client() {
    return DynamoDbClient.builder()
        .endpointOverride(URI.create(endpoint()))
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(
                AwsBasicCredentials.create(LocalKinesis.ACCESS_KEY, LocalKinesis.SECRET_KEY)))
        .httpClient(ApacheHttpClient.builder().build())
        .build();
  }
}
