package io.tributary.testing.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.tributary.testing.kafka.internal.BrokerSelection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BrokerSelection}. Without the system property the choice depends on the process
 * environment, which BrokerSelection reads itself ({@code System.getenv}, {@code user.home}): those
 * cases run {@link ChooseWithoutProperty} in a child JVM with an environment the test controls.
 * Only the fixed socket paths outside the home directory ({@code /var/run/docker.sock}, and for
 * Testcontainers' rootless probe {@code /run/user/<uid>/docker.sock}) cannot be hidden from the
 * child; where they exist, a Docker engine may really be there and those cases are not decidable.
 */
class BrokerSelectionTest {
  /** Prints what {@link BrokerSelection#choose} returns with the property unset. */
  static final class ChooseWithoutProperty {
    public static void main(String[] args) {
      System.out.println("chosen=" + BrokerSelection.choose(null));
    }
  }

  /**
   * Starts the broker {@link KafkaBroker#start()} chooses, creates a topic on it, prints its kind.
   */
  static final class StartWithoutProperty {
    public static void main(String[] args) {
      try (KafkaBroker broker = KafkaBroker.start()) {
        broker.createTopic("selection-probe", 1);
        System.out.println("started=" + broker.kind() + " bootstrap=" + broker.bootstrapServers());
      }
    }
  }

  @TempDir Path dir;

  @Test
  void propertyChoosesTheKindWhateverTheCase() {
    assertThat(BrokerSelection.choose("local")).isEqualTo(KafkaBroker.Kind.LOCAL);
    assertThat(BrokerSelection.choose(" Docker ")).isEqualTo(KafkaBroker.Kind.DOCKER);
  }

  @Test
  void unknownValueNamesThePropertyAndTheChoices() {
    assertThatThrownBy(() -> BrokerSelection.choose("podman"))
        .isInstanceOf(KafkaBrokerException.class)
        .hasMessageContaining("podman")
        .hasMessageContaining(KafkaBroker.BROKER_PROPERTY)
        .hasMessageContaining("local or docker");
  }

  @Test
  void withoutPropertyOrDockerHintTheLocalBrokerIsChosenWithoutAskingTestcontainers()
      throws Exception {
    assumeThat(Path.of("/var/run/docker.sock"))
        .as("a Docker socket at the fixed default path")
        .doesNotExist();
    String output = chooseInChildJvm(Map.of());
    assertThat(output)
        .contains("chosen=LOCAL")
        .contains("event=kafka_broker_choice kind=local reason=no_docker_engine_hint")
        .as("the probe is silent without a hint: Testcontainers is not even loaded")
        .doesNotContainIgnoringCase("testcontainers");
  }

  @Test
  void dockerHostPointingToNoSocketFallsBackToTheLocalBroker() throws Exception {
    assumeThat(Path.of("/var/run/docker.sock"))
        .as("a Docker socket at the fixed default path")
        .doesNotExist();
    assumeThat(Path.of("/run/user", uid(), "docker.sock"))
        .as("a rootless Docker socket")
        .doesNotExist();
    Path missing = dir.resolve("no-docker-here.sock");
    String output = chooseInChildJvm(Map.of("DOCKER_HOST", "unix://" + missing));
    assertThat(output)
        .contains("chosen=LOCAL")
        .contains(
            "event=kafka_broker_choice kind=local hints=[DOCKER_HOST] docker_available=false");
  }

  /**
   * The suite without a container engine: the same entry point the extension uses starts a working
   * local broker when {@code DOCKER_HOST} names a socket nobody listens on.
   */
  @Test
  void withNoEngineAnsweringAWorkingLocalBrokerStarts() throws Exception {
    assumeThat(Path.of("/var/run/docker.sock"))
        .as("a Docker socket at the fixed default path")
        .doesNotExist();
    Path missing = dir.resolve("no-engine.sock");
    String output =
        runInChildJvm(StartWithoutProperty.class, Map.of("DOCKER_HOST", "unix://" + missing));
    assertThat(output)
        .contains("docker_available=false")
        .contains("started=LOCAL bootstrap=127.0.0.1:");
  }

  /**
   * With the engine CI provides (podman's Docker API, scripts/container-engine.sh) the container
   * broker is chosen; skipped where that socket is absent.
   */
  @Test
  void anAnsweringEngineIsChosen() throws Exception {
    Path podman = Path.of("/run/podman/podman.sock");
    assumeThat(podman).as("podman's API socket (scripts/container-engine.sh)").exists();
    String output =
        chooseInChildJvm(
            Map.of(
                "DOCKER_HOST", "unix://" + podman,
                "TESTCONTAINERS_RYUK_DISABLED", "true",
                "TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1"));
    assertThat(output)
        .contains("chosen=DOCKER")
        .contains(
            "event=kafka_broker_choice kind=docker hints=[DOCKER_HOST] docker_available=true");
  }

  /**
   * Runs {@link ChooseWithoutProperty} on this JVM's classpath with an empty home directory, none
   * of the variables Docker or Testcontainers read, and {@code env} added; returns its standard
   * output and error (SLF4J's simple logger writes to the latter).
   */
  private String chooseInChildJvm(Map<String, String> env)
      throws IOException, InterruptedException {
    return runInChildJvm(ChooseWithoutProperty.class, env);
  }

  private String runInChildJvm(Class<?> main, Map<String, String> env)
      throws IOException, InterruptedException {
    Path home = Files.createDirectories(dir.resolve("home"));
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Duser.home=" + home,
                "-cp",
                System.getProperty("java.class.path"),
                main.getName())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("child.log").toFile());
    pb.environment()
        .keySet()
        .removeIf(k -> k.startsWith("DOCKER_") || k.startsWith("TESTCONTAINERS_"));
    pb.environment().remove("XDG_RUNTIME_DIR");
    pb.environment().putAll(env);
    Process child = pb.start();
    if (!child.waitFor(180, TimeUnit.SECONDS)) {
      child.destroyForcibly();
      throw new AssertionError("the child JVM did not finish within 180 s");
    }
    String output = Files.readString(dir.resolve("child.log"), StandardCharsets.UTF_8);
    assertThat(child.exitValue())
        .as("exit code of the child JVM; its output:%n%s", output)
        .isZero();
    return output;
  }

  /**
   * This process's numeric user id, from the owner of a file it creates (the JDK has no API for
   * it).
   */
  private String uid() throws IOException {
    Path probe = Files.createFile(dir.resolve("uid-probe"));
    return String.valueOf(Files.getAttribute(probe, "unix:uid"));
  }
}
