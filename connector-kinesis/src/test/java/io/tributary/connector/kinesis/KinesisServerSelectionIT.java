package io.tributary.connector.kinesis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * {@link KinesisServerSelection}: where the Kinesis and DynamoDB test servers run. Without the
 * system property the choice depends on the process environment ({@code DOCKER_HOST}), so those
 * cases run in a child JVM with an environment the test controls. The fixed socket path {@code
 * /var/run/docker.sock} cannot be hidden from the child; where it exists those cases are skipped.
 */
class KinesisServerSelectionIT {
  /**
   * Starts the servers the selection gives (as the test classes do), puts a record into a new
   * stream and reads it back, creates a table, and prints where each server ran.
   */
  static final class StartBoth {
    public static void main(String[] args) {
      LocalKinesis kinesis = LocalKinesis.get();
      LocalDynamo dynamo = LocalDynamo.get();
      try (KinesisClient k = kinesis.client();
          DynamoDbClient d = dynamo.client()) {
        LocalKinesis.createStream(k, "selection-probe", 1);
        String shard = k.listShards(b -> b.streamName("selection-probe")).shards().get(0).shardId();
        k.putRecord(
            b ->
                b.streamName("selection-probe")
                    .partitionKey("p")
                    .data(SdkBytes.fromUtf8String("probe-record")));
        String it =
            k.getShardIterator(
                    b ->
                        b.streamName("selection-probe")
                            .shardId(shard)
                            .shardIteratorType(ShardIteratorType.TRIM_HORIZON))
                .shardIterator();
        String read = k.getRecords(b -> b.shardIterator(it)).records().get(0).data().asUtf8String();
        d.createTable(
            b ->
                b.tableName("selection-probe")
                    .attributeDefinitions(a -> a.attributeName("k").attributeType("S"))
                    .keySchema(s -> s.attributeName("k").keyType("HASH"))
                    .billingMode("PAY_PER_REQUEST"));
        System.out.println(
            "kinesis="
                + kinesis.kind()
                + " dynamodb="
                + dynamo.kind()
                + " read="
                + read
                + " tables="
                + d.listTables().tableNames());
      }
      // the servers are stopped by their shutdown hooks
    }
  }

  /** Prints the choice with the property unset. */
  static final class ChooseWithoutProperty {
    public static void main(String[] args) {
      System.out.println("chosen=" + KinesisServerSelection.image());
    }
  }

  @TempDir Path dir;

  @Test
  void propertyLocalGivesChildProcessesWithoutAskingTheEngine() {
    assertThat(KinesisServerSelection.choose(" Local ", "localhost/none:1")).isNull();
  }

  @Test
  void unknownValueNamesThePropertyAndTheChoices() {
    assertThatThrownBy(() -> KinesisServerSelection.choose("docker", "localhost/none:1"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Invalid value docker")
        .hasMessageContaining(KinesisServerSelection.PROPERTY)
        .hasMessageContaining("local or container");
  }

  @Test
  void theImageTagCarriesBothPinnedVersions() throws IOException {
    Files.writeString(
        dir.resolve("package.json"),
        "{\"dependencies\": {\"dynalite\": \"4.1.2\", \"kinesis-local\": \"0.7.0\"}}");
    assertThat(KinesisServerSelection.defaultImage(dir))
        .isEqualTo("localhost/tributary-kinesis:0.7.0-4.1.2");
    Files.writeString(dir.resolve("package.json"), "{\"dependencies\": {\"dynalite\": \"4.1.2\"}}");
    assertThatThrownBy(() -> KinesisServerSelection.defaultImage(dir))
        .hasMessageContaining("kinesis-local");
  }

  /**
   * The suite without a container engine: the servers the test classes get are working child
   * processes when {@code DOCKER_HOST} names a socket nobody listens on.
   */
  @Test
  void withNoEngineAnsweringTheServersAreWorkingChildProcesses() throws Exception {
    assumeThat(Path.of("/var/run/docker.sock")).as("a Docker socket").doesNotExist();
    Path missing = dir.resolve("no-engine.sock");
    String output = runInChildJvm(StartBoth.class, Map.of("DOCKER_HOST", "unix://" + missing), "");
    assertThat(output)
        .contains("event=kinesis_server_choice kind=local reason=engine_not_answering")
        .contains("kinesis=local dynamodb=local read=probe-record tables=[selection-probe]");
  }

  @Test
  void withoutAnyEngineHintTestcontainersIsNotAsked() throws Exception {
    assumeThat(Path.of("/var/run/docker.sock")).as("a Docker socket").doesNotExist();
    String output = runInChildJvm(ChooseWithoutProperty.class, Map.of(), "");
    assertThat(output)
        .contains("chosen=null")
        .contains("event=kinesis_server_choice kind=local reason=no_engine_hint")
        .doesNotContainIgnoringCase("testcontainers");
  }

  @Test
  void containerForcedWhenNoneCanRunFailsNamingWhy() {
    assertThatThrownBy(
            () -> KinesisServerSelection.choose("container", "localhost/tributary-kinesis:none"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "System property tributary.kinesis.server=container, but no container can run:");
  }

  /**
   * With the engine CI provides (podman's Docker API, scripts/container-engine.sh) and the image
   * built, the containers are chosen (the Kinesis ITs then run against them and log it per class);
   * skipped where either is absent.
   */
  @Test
  void anAnsweringEngineWithTheImageIsChosen() throws Exception {
    Path podman = Path.of("/run/podman/podman.sock");
    assumeThat(podman).as("podman's API socket (scripts/container-engine.sh)").exists();
    String image = KinesisServerSelection.defaultImage(LocalKinesis.testServers());
    String output =
        runInChildJvm(
            ChooseWithoutProperty.class,
            Map.of(
                "DOCKER_HOST", "unix://" + podman,
                "TESTCONTAINERS_RYUK_DISABLED", "true",
                "TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1"),
            "");
    assumeThat(output)
        .as("the image %s (scripts/container-images.sh kinesis)", image)
        .doesNotContain("reason=image_missing");
    assertThat(output)
        .contains("event=kinesis_server_choice kind=container image=" + image)
        .contains("chosen=" + image);
  }

  private String runInChildJvm(Class<?> main, Map<String, String> env, String extraArg)
      throws IOException, InterruptedException {
    Path log = dir.resolve(main.getSimpleName() + ".log");
    Process child = childJvm(main, env, extraArg).redirectOutput(log.toFile()).start();
    if (!child.waitFor(180, TimeUnit.SECONDS)) {
      child.destroyForcibly();
      throw new AssertionError("the child JVM did not finish within 180 s");
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(child.exitValue())
        .as("exit code of the child JVM; its output:%n%s", output)
        .isZero();
    return output;
  }

  /**
   * A JVM on this classpath with an empty home directory, none of the variables Docker or
   * Testcontainers read, and {@code env} added.
   */
  private ProcessBuilder childJvm(Class<?> main, Map<String, String> env, String extraArg)
      throws IOException {
    Path home = Files.createDirectories(dir.resolve("home"));
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Duser.home=" + home);
    cmd.add("-Daws.cborEnabled=false");
    cmd.add("-Dtributary.kinesis.testservers=" + LocalKinesis.testServers());
    if (!extraArg.isEmpty()) {
      cmd.add(extraArg);
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment()
        .keySet()
        .removeIf(k -> k.startsWith("DOCKER_") || k.startsWith("TESTCONTAINERS_"));
    pb.environment().remove("XDG_RUNTIME_DIR");
    pb.environment().putAll(env);
    return pb;
  }
}
