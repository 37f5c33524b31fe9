package io.tributary.connector.kinesis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * One test server of the local Kinesis image ({@link KinesisServerSelection}) in a container,
 * through Testcontainers: {@code run kinesis} (kinesis-mock, HTTP 4568 and HTTPS 4567) or {@code
 * run dynamodb ARGS} (dynalite, 8000), each container port published on a random host port. The
 * container's output goes to {@code target/<server>-container-<random>.log}.
 *
 * <p>Thread safety: immutable once started; {@link #close()} stops the container.
 */
final class ServerContainer implements AutoCloseable {
  private final GenericContainer<?> container;
  private final String image;
  private final Path log;

  private ServerContainer(GenericContainer<?> container, String image, Path log) {
    this.container = container;
    this.image = image;
    this.log = log;
  }

  /**
   * Starts {@code run <server> <args>} from {@code image} with {@code env}, publishing {@code
   * ports}; blocks (at most 2 minutes) until the server listens on all of them.
   */
  static ServerContainer start(
      String image, String server, Map<String, String> env, List<String> args, int... ports)
      throws IOException {
    List<String> command = new ArrayList<>(List.of("/opt/testservers/run", server));
    command.addAll(args);
    Path logDir = Files.createDirectories(Path.of("target").toAbsolutePath());
    Path log = Files.createTempFile(logDir, server + "-container-", ".log");
    Integer[] exposed = new Integer[ports.length];
    for (int i = 0; i < ports.length; i++) {
      exposed[i] = ports[i];
    }
    @SuppressWarnings("resource") // closed by close()
    GenericContainer<?> c =
        new GenericContainer<>(DockerImageName.parse(image))
            .withEnv(env)
            .withCommand(command.toArray(String[]::new))
            .withExposedPorts(exposed)
            .withLogConsumer(
                frame -> {
                  try {
                    Files.write(
                        log,
                        frame.getBytes() == null ? new byte[0] : frame.getBytes(),
                        StandardOpenOption.APPEND);
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                })
            .waitingFor(Wait.forListeningPort().withStartupTimeout(Duration.ofMinutes(2)));
    c.start();
    LoggerFactory.getLogger(ServerContainer.class)
        .info(
            "event=kinesis_test_server_started server={} kind=container image={} container={}"
                + " host={} ports={}",
            server,
            image,
            c.getContainerId(),
            c.getHost(),
            c.getExposedPorts().stream().map(p -> p + "->" + c.getMappedPort(p)).toList());
    return new ServerContainer(c, image, log);
  }

  /** The host where the published ports are reachable (127.0.0.1 with the CI environment). */
  String host() {
    return container.getHost();
  }

  /** The host port {@code containerPort} is published on. */
  int port(int containerPort) {
    return container.getMappedPort(containerPort);
  }

  String image() {
    return image;
  }

  /** The Testcontainers container, for faults ({@code pause}, {@code kill}...). */
  GenericContainer<?> container() {
    return container;
  }

  /** Where the container's output goes. */
  Path logFile() {
    return log;
  }

  @Override
  public void close() {
    container.stop();
  }
}
