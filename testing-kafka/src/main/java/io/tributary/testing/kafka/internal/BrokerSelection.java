package io.tributary.testing.kafka.internal;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the broker kind from the {@value KafkaBroker#BROKER_PROPERTY} system property, or, when
 * it is unset, from whether a Docker engine is reachable.
 *
 * <p>The Docker probe is fast and silent when there is no Docker: Testcontainers (slow, and loud at
 * ERROR level when it finds no engine) is only asked when there is a hint of an engine ({@code
 * DOCKER_HOST}, a Docker socket file, or a {@code ~/.testcontainers.properties}).
 *
 * <p>Thread safety: stateless.
 */
public final class BrokerSelection {
  private static final Logger LOG = LoggerFactory.getLogger(BrokerSelection.class);

  private BrokerSelection() {}

  /**
   * @param property the system property's value, or null
   * @throws KafkaBrokerException for a value other than local or docker
   */
  public static KafkaBroker.Kind choose(String property) {
    if (property != null && !property.isBlank()) {
      switch (property.trim().toLowerCase(Locale.ROOT)) {
        case "local":
          return KafkaBroker.Kind.LOCAL;
        case "docker":
          return KafkaBroker.Kind.DOCKER;
        default:
          throw new KafkaBrokerException(
              "Invalid value "
                  + property
                  + " for system property "
                  + KafkaBroker.BROKER_PROPERTY
                  + " (expected: local or docker, or unset to use Docker when it is reachable)");
      }
    }
    List<String> hints = dockerHints();
    if (hints.isEmpty()) {
      LOG.info("event=kafka_broker_choice kind=local reason=no_docker_engine_hint");
      return KafkaBroker.Kind.LOCAL;
    }
    boolean available = DockerKafkaBroker.isDockerAvailable();
    LOG.info(
        "event=kafka_broker_choice kind={} hints={} docker_available={}",
        available ? "docker" : "local",
        hints,
        available);
    return available ? KafkaBroker.Kind.DOCKER : KafkaBroker.Kind.LOCAL;
  }

  /** Signs that a Docker engine may be configured on this machine; empty when there is none. */
  static List<String> dockerHints() {
    List<String> hints = new ArrayList<>();
    String dockerHost = System.getenv("DOCKER_HOST");
    if (dockerHost != null && !dockerHost.isBlank()) {
      hints.add("DOCKER_HOST");
    }
    String home = System.getProperty("user.home", "");
    String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
    List<Path> candidates = new ArrayList<>();
    candidates.add(Path.of("/var/run/docker.sock"));
    candidates.add(Path.of(home, ".docker", "run", "docker.sock"));
    candidates.add(Path.of(home, ".docker", "desktop", "docker.sock"));
    candidates.add(Path.of(home, ".colima", "default", "docker.sock"));
    candidates.add(Path.of(home, ".rd", "docker.sock"));
    candidates.add(Path.of(home, ".testcontainers.properties"));
    if (runtimeDir != null && !runtimeDir.isBlank()) {
      candidates.add(Path.of(runtimeDir, "docker.sock"));
    }
    for (Path p : candidates) {
      if (Files.exists(p)) {
        hints.add(p.toString());
      }
    }
    return hints;
  }
}
