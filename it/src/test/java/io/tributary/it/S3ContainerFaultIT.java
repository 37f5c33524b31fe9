package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import io.tributary.testing.kafka.EngineContainerFaults;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The S3 files pipeline under faults only a container makes easy: the packaged gateway (a separate
 * process) reads new objects under {@code s3a://faults/in/} from s3proxy in a container (objects
 * kept on the container's file system, so they survive a SIGKILL) into the local {@code files}
 * sink, while the S3 server's container is SIGKILLed and left down, frozen ({@code pause}) and cut
 * off its network, one fault after the other, each starting while a segment of new objects is being
 * read. Each fault lasts until the gateway's {@code /metrics} shows it (batch retries of the
 * pipeline), then ends; the gateway is never restarted. The output files, read independently, hold
 * every line of every object exactly once.
 *
 * <p>Needs a container engine and the local s3proxy image ({@code scripts/container-engine.sh},
 * {@code scripts/container-images.sh}); skipped otherwise, like {@link KafkaContainerFaultIT}.
 */
class S3ContainerFaultIT {
  private static final String ACCESS_KEY = "tributary-fault-access";
  private static final String SECRET_KEY = "tributary-fault-secret";
  private static final String BUCKET = "faults";
  private static final int SEGMENT_OBJECTS = 60;
  private static final int LINES = 25;
  private static final int S3_PORT = 8080;

  @TempDir Path tmp;
  private GenericContainer<?> container;
  private EngineContainerFaults faults;
  private URI endpoint;

  @BeforeEach
  void startServer() throws IOException {
    String image = System.getProperty("tributary.s3proxy.image", "");
    assumeTrue(
        !image.isBlank() && engineHasImage(image),
        "no container engine with the image "
            + image
            + " (scripts/container-engine.sh, scripts/container-images.sh)");
    int hostPort = GatewayProcess.freePort();
    container =
        new GenericContainer<>(DockerImageName.parse(image))
            .withEnv("S3_ACCESS_KEY", ACCESS_KEY)
            .withEnv("S3_SECRET_KEY", SECRET_KEY)
            .withEnv("S3_BLOBSTORE", "filesystem")
            .withEnv("LOG_LEVEL", "warn")
            .withExposedPorts(S3_PORT)
            .withCreateContainerCmdModifier(
                cmd ->
                    cmd.getHostConfig()
                        .withPortBindings(
                            List.of(
                                new PortBinding(
                                    Ports.Binding.bindIpAndPort("127.0.0.1", hostPort),
                                    new ExposedPort(S3_PORT)))))
            .waitingFor(
                Wait.forHttp("/")
                    .forPort(S3_PORT)
                    .forStatusCodeMatching(code -> code > 0)
                    .withStartupTimeout(Duration.ofMinutes(3)));
    container.start();
    endpoint = URI.create("http://127.0.0.1:" + hostPort);
    faults = new EngineContainerFaults(container, "s3", this::awaitAnswering, this);
    try (S3Client s3 = client()) {
      s3.createBucket(b -> b.bucket(BUCKET));
    }
  }

  @AfterEach
  void stopServer() {
    if (container != null) {
      container.stop();
    }
  }

  private record Fault(String name, Runnable begin, Runnable end) {}

  @Test
  void everyLineOfEveryObjectIsWrittenOnceThroughAKillAPauseAndAPartitionOfTheS3Server()
      throws Exception {
    String id = "s3fault";
    Path out = tmp.resolve("out");
    int adminPort = GatewayProcess.freePort();
    List<Fault> plan =
        List.of(
            new Fault("container SIGKILL", faults::kill, faults::start),
            new Fault("pause", faults::pause, faults::unpause),
            new Fault("network disconnect", faults::disconnect, faults::reconnect));
    Path log = tmp.resolve("gw.log");
    try (GatewayProcess gateway = new GatewayProcess(config(id, out, adminPort), log)) {
      gateway.start();
      int segment = 0;
      for (Fault fault : plan) {
        upload(segment);
        int segmentStart = segment * SEGMENT_OBJECTS * LINES;
        int segmentEnd = (segment + 1) * SEGMENT_OBJECTS * LINES;
        await("the gateway reading segment " + segment)
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(20))
            .failFast("gateway exited", () -> gateway.exitCode() != null)
            .until(() -> GatewayProcess.outputLines(out).size() > segmentStart);
        double retriesBefore = GatewayProcess.batchRetries(adminPort, id);
        fault.begin().run();
        int atFault = GatewayProcess.outputLines(out).size();
        System.out.printf(
            "S3ContainerFaultIT: fault '%s' began with %d of %d lines written, retries %.0f%n",
            fault.name(), atFault, segmentEnd, retriesBefore);
        double[] retriesDuring = new double[1];
        try {
          await("the gateway's /metrics counting batch retries while S3 is unreachable")
              .atMost(Duration.ofSeconds(120))
              .pollInterval(Duration.ofMillis(200))
              .failFast("gateway exited", () -> gateway.exitCode() != null)
              .until(
                  () ->
                      (retriesDuring[0] = GatewayProcess.batchRetries(adminPort, id))
                          > retriesBefore);
        } finally {
          fault.end().run();
        }
        System.out.printf(
            "S3ContainerFaultIT: fault '%s' ended; the gateway showed %.0f retries%n",
            fault.name(), retriesDuring[0]);
        await("every line of segment " + segment + " after the fault ended")
            .atMost(Duration.ofSeconds(240))
            .pollInterval(Duration.ofMillis(100))
            .failFast("gateway exited", () -> gateway.exitCode() != null)
            .until(() -> GatewayProcess.outputLines(out).size() >= segmentEnd);
        assertThat(GatewayProcess.adminGet(adminPort, "/pipelines/" + id))
            .as("the pipeline after the fault: running, no failure")
            .contains("\"state\":\"RUNNING\"")
            .contains("\"failure\":null");
        segment++;
      }
      assertThat(gateway.starts()).as("gateway process starts: it recovered by itself").isOne();
      assertThat(gateway.terminate(Duration.ofSeconds(60)))
          .as("exit code after SIGTERM; log:\n%s", gateway.logTail())
          .isZero();
    } catch (Exception | AssertionError e) {
      Path kept = Path.of("target", "s3-fault-logs", id + "-" + System.nanoTime() + "-gw.log");
      Files.createDirectories(kept.getParent());
      if (Files.exists(log)) {
        Files.copy(log, kept);
        System.out.printf("S3ContainerFaultIT: gateway log kept at %s%n", kept);
      }
      throw e;
    }
    int segments = plan.size();
    List<String> lines = GatewayProcess.outputLines(out);
    Map<String, Integer> counts = new HashMap<>();
    lines.forEach(l -> counts.merge(l, 1, Integer::sum));
    List<String> lost = new ArrayList<>();
    for (int o = 0; o < segments * SEGMENT_OBJECTS; o++) {
      for (int l = 0; l < LINES; l++) {
        if (!counts.containsKey(line(o, l))) {
          lost.add(line(o, l));
        }
      }
    }
    long duplicated = counts.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
    System.out.printf(
        "S3ContainerFaultIT: objects=%d lines=%d output=%d lost=%d duplicated=%d%n",
        segments * SEGMENT_OBJECTS,
        segments * SEGMENT_OBJECTS * LINES,
        lines.size(),
        lost.size(),
        duplicated);
    assertThat(lost).as("lost lines").isEmpty();
    assertThat(duplicated).as("duplicated lines").isZero();
    assertThat(counts).as("only lines of the input").hasSize(segments * SEGMENT_OBJECTS * LINES);
  }

  /** Uploads the objects of one segment, each in one PUT (an object appears whole on S3). */
  private void upload(int segment) {
    try (S3Client s3 = client()) {
      for (int o = segment * SEGMENT_OBJECTS; o < (segment + 1) * SEGMENT_OBJECTS; o++) {
        StringBuilder sb = new StringBuilder(LINES * 12);
        for (int l = 0; l < LINES; l++) {
          sb.append(line(o, l)).append('\n');
        }
        String key = String.format("in/part-%05d.txt", o);
        s3.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromString(sb.toString()));
      }
    }
  }

  private static String line(int object, int l) {
    return String.format("o%05d-l%02d", object, l);
  }

  /**
   * Small batches (five objects) at a 200 ms interval so a segment takes several batches, and S3A
   * timeouts well below the faults, so an unreachable server reaches the batch path as errors
   * (counted as retries) instead of being waited out inside the S3 client.
   */
  private Path config(String id, Path out, int adminPort) throws IOException {
    List<String> yaml = new ArrayList<>();
    yaml.addAll(
        List.of(
            "admin:",
            "  port: " + adminPort,
            "pipelines:",
            "  - id: " + id,
            "    settings:",
            "      batch-interval: 200ms",
            "    checkpoint: " + tmp.resolve("checkpoint"),
            "    source:",
            "      type: files",
            "      paths: [s3a://" + BUCKET + "/in]",
            "      include-existing: true",
            "      max-files-per-batch: 5"));
    Map<String, String> s3a = new java.util.LinkedHashMap<>();
    s3a.put("fs.s3a.endpoint", endpoint.toString());
    s3a.put("fs.s3a.endpoint.region", "us-east-1");
    s3a.put("fs.s3a.path.style.access", "true");
    s3a.put("fs.s3a.connection.ssl.enabled", "false");
    s3a.put("fs.s3a.access.key", ACCESS_KEY);
    s3a.put("fs.s3a.secret.key", SECRET_KEY);
    s3a.put(
        "fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    s3a.put("fs.s3a.bucket.probe", "0");
    s3a.put("fs.s3a.attempts.maximum", "1");
    s3a.put("fs.s3a.retry.limit", "1");
    s3a.put("fs.s3a.retry.interval", "100ms");
    s3a.put("fs.s3a.connection.establish.timeout", "2s");
    s3a.put("fs.s3a.connection.timeout", "5s");
    s3a.put("fs.s3a.connection.request.timeout", "5s");
    s3a.forEach((k, v) -> yaml.add("      hadoop." + k + ": \"" + v + "\""));
    yaml.addAll(List.of("    sinks:", "      - { type: files, path: " + out + " }", ""));
    Path config = tmp.resolve(id + ".yaml");
    Files.writeString(config, String.join("\n", yaml));
    return config;
  }

  private S3Client client() {
    return S3Client.builder()
        .endpointOverride(endpoint)
        .region(Region.US_EAST_1)
        .forcePathStyle(true)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build();
  }

  /** Blocks (at most 120 s) until the S3 server answers HTTP again after a restart. */
  private void awaitAnswering() {
    await("s3proxy answering at " + endpoint + " after a fault")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              HttpURLConnection c = (HttpURLConnection) endpoint.toURL().openConnection();
              c.setConnectTimeout(500);
              c.setReadTimeout(2000);
              try {
                return c.getResponseCode() > 0;
              } finally {
                c.disconnect();
              }
            });
  }

  private static boolean engineHasImage(String image) {
    try {
      if (!DockerClientFactory.instance().isDockerAvailable()) {
        return false;
      }
      DockerClientFactory.instance().client().inspectImageCmd(image).exec();
      return true;
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }
}
