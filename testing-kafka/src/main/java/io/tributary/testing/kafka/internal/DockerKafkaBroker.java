package io.tributary.testing.kafka.internal;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.utils.internals.AppInfoParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A single-node KRaft broker in a Docker container ({@code apache/kafka}, the same version as the
 * kafka-clients on the classpath unless the system property {@code tributary.kafka.image} names
 * another image), through Testcontainers.
 *
 * <p>The container's PLAINTEXT port is published on a fixed, free host port (127.0.0.1 when the
 * engine is local), so the advertised address stays valid when {@link #restart()} stops and starts
 * the same container (same data). Testcontainers' image sets the internal topics to replication
 * factor 1, so transactions work.
 *
 * <p>Thread safety: {@link #restart()} and {@link #close()} are synchronized; {@link
 * #bootstrapServers()} is immutable.
 */
public final class DockerKafkaBroker implements KafkaBroker {
  private static final Logger LOG = LoggerFactory.getLogger(DockerKafkaBroker.class);
  private static final int KAFKA_PORT = 9092;

  private final KafkaContainer container;
  private final String bootstrapServers;
  private boolean closed;

  private DockerKafkaBroker(KafkaContainer container) {
    this.container = container;
    this.bootstrapServers = container.getBootstrapServers().replace("PLAINTEXT://", "");
  }

  /** Whether Testcontainers finds a working Docker engine; false (never an exception) otherwise. */
  static boolean isDockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      LOG.info("event=docker_probe_failed error={}", e.toString());
      return false;
    }
  }

  /**
   * Starts the container; blocks until the broker answers.
   *
   * @throws KafkaBrokerException if Docker is unreachable or the container does not start
   */
  public static DockerKafkaBroker start() {
    if (!isDockerAvailable()) {
      throw new KafkaBrokerException(
          "No Docker engine is reachable for the Docker Kafka broker (system property "
              + KafkaBroker.BROKER_PROPERTY
              + "=docker): start Docker, or use "
              + KafkaBroker.BROKER_PROPERTY
              + "=local");
    }
    String image =
        System.getProperty("tributary.kafka.image", "apache/kafka:" + AppInfoParser.getVersion());
    try {
      int hostPort = LocalKafkaBroker.freePorts(1)[0];
      String engineHost = DockerClientFactory.instance().dockerHostIpAddress();
      boolean localEngine = "localhost".equals(engineHost) || "127.0.0.1".equals(engineHost);
      Ports.Binding binding =
          localEngine
              ? Ports.Binding.bindIpAndPort("127.0.0.1", hostPort)
              : Ports.Binding.bindPort(hostPort);
      @SuppressWarnings("resource") // closed by close()
      KafkaContainer container =
          new KafkaContainer(DockerImageName.parse(image).asCompatibleSubstituteFor("apache/kafka"))
              .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
              .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
              .withEnv("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
              .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
              .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
              .withCreateContainerCmdModifier(
                  cmd ->
                      cmd.getHostConfig()
                          .withPortBindings(
                              List.of(new PortBinding(binding, new ExposedPort(KAFKA_PORT)))));
      container.start();
      DockerKafkaBroker broker = new DockerKafkaBroker(container);
      LOG.info(
          "event=kafka_broker_started kind=docker image={} bootstrap={}",
          image,
          broker.bootstrapServers);
      return broker;
    } catch (IOException | RuntimeException e) {
      throw new KafkaBrokerException(
          "Could not start the Docker Kafka broker from image " + image + ": " + e, e);
    }
  }

  @Override
  public String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public Kind kind() {
    return Kind.DOCKER;
  }

  @Override
  public synchronized void restart() {
    if (closed) {
      throw new KafkaBrokerException(
          "The Docker Kafka broker at " + bootstrapServers + " is closed");
    }
    String id = container.getContainerId();
    container.getDockerClient().stopContainerCmd(id).withTimeout(60).exec();
    startAgainAndAwait(id, "a restart", "kafka_broker_restarted");
  }

  @Override
  public synchronized void killAndRestart() {
    if (closed) {
      throw new KafkaBrokerException(
          "The Docker Kafka broker at " + bootstrapServers + " is closed");
    }
    String id = container.getContainerId();
    container.getDockerClient().killContainerCmd(id).withSignal("KILL").exec();
    startAgainAndAwait(id, "SIGKILL", "kafka_broker_killed_and_restarted");
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      container.stop();
      LOG.info("event=kafka_broker_closed kind=docker bootstrap={}", bootstrapServers);
    }
  }

  private static String tail(String log) {
    return log.length() <= 4000 ? log : log.substring(log.length() - 4000);
  }

  /** Starts the stopped container {@code id} and waits until the broker answers again. */
  private void startAgainAndAwait(String id, String after, String event) {
    container.getDockerClient().startContainerCmd(id).exec();
    try {
      String notReady =
          BrokerReadiness.await(bootstrapServers, Duration.ofSeconds(120), () -> null);
      if (notReady != null) {
        throw new KafkaBrokerException(
            "The Docker Kafka broker did not come back after "
                + after
                + ": "
                + notReady
                + "; container log ends with:\n"
                + tail(container.getLogs()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaBrokerException("Interrupted while restarting the Docker Kafka broker", e);
    }
    LOG.info("event={} kind=docker bootstrap={}", event, bootstrapServers);
  }
}
