package io.tributary.connector.flume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FlumeAgentSelection}: where {@link FlumeAgent}s run. Without the system property the
 * choice depends on the process environment ({@code DOCKER_HOST}), so those cases run in a child
 * JVM with an environment the test controls; where {@code /var/run/docker.sock} exists they are
 * skipped (it cannot be hidden from the child).
 */
class FlumeAgentSelectionIT {
  /** Prints the choice with the property unset. */
  static final class ChooseWithoutProperty {
    public static void main(String[] args) {
      System.out.println("chosen=" + FlumeAgentSelection.image());
    }
  }

  @TempDir Path dir;

  @Test
  void propertyLocalGivesAChildJvmWithoutAskingTheEngine() {
    assertThat(FlumeAgentSelection.choose(" LOCAL", "localhost/none:1")).isNull();
  }

  @Test
  void unknownValueNamesThePropertyAndTheChoices() {
    assertThatThrownBy(() -> FlumeAgentSelection.choose("podman", "localhost/none:1"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Invalid value podman")
        .hasMessageContaining(FlumeAgentSelection.PROPERTY)
        .hasMessageContaining("local or container");
  }

  @Test
  void containerForcedWhenNoneCanRunFailsNamingWhy() {
    assertThatThrownBy(
            () -> FlumeAgentSelection.choose("container", "localhost/tributary-flume:none"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "System property tributary.flume.agent=container, but no container can run:");
  }

  @Test
  void theImageIsTaggedWithTheFlumeVersionOnTheClassPath() {
    assertThat(FlumeAgentSelection.flumeVersion()).matches("\\d+\\.\\d+\\.\\d+.*");
  }

  /** The suite without a container engine: agents are child JVMs, as before containers. */
  @Test
  void withNoEngineAnsweringAgentsAreChildJvms() throws Exception {
    assumeThat(Path.of("/var/run/docker.sock")).as("a Docker socket").doesNotExist();
    String output =
        chooseInChildJvm(Map.of("DOCKER_HOST", "unix://" + dir.resolve("no-engine.sock")));
    assertThat(output)
        .contains("event=flume_agent_choice kind=local reason=engine_not_answering")
        .contains("chosen=null");
  }

  @Test
  void withoutAnyEngineHintTestcontainersIsNotAsked() throws Exception {
    assumeThat(Path.of("/var/run/docker.sock")).as("a Docker socket").doesNotExist();
    String output = chooseInChildJvm(Map.of());
    assertThat(output)
        .contains("event=flume_agent_choice kind=local reason=no_engine_hint")
        .contains("chosen=null")
        .doesNotContainIgnoringCase("testcontainers");
  }

  /**
   * Runs {@link ChooseWithoutProperty} on this class path with an empty home directory, none of the
   * variables Docker or Testcontainers read, and {@code env} added; returns its output.
   */
  private String chooseInChildJvm(Map<String, String> env)
      throws IOException, InterruptedException {
    Path home = Files.createDirectories(dir.resolve("home"));
    Path log = dir.resolve("child.log");
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Duser.home=" + home,
                "-cp",
                System.getProperty("java.class.path"),
                ChooseWithoutProperty.class.getName())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment()
        .keySet()
        .removeIf(k -> k.startsWith("DOCKER_") || k.startsWith("TESTCONTAINERS_"));
    pb.environment().remove("XDG_RUNTIME_DIR");
    pb.environment().putAll(env);
    Process child = pb.start();
    if (!child.waitFor(120, TimeUnit.SECONDS)) {
      child.destroyForcibly();
      throw new AssertionError("the child JVM did not finish within 120 s");
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(child.exitValue())
        .as("exit code of the child JVM; its output:%n%s", output)
        .isZero();
    return output;
  }
}
