package io.tributary.testing.kafka.internal;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import io.tributary.testing.kafka.ContainerFaults;
import io.tributary.testing.kafka.EngineContainerFaults;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBroker.SaslPlain;
import io.tributary.testing.kafka.KafkaBroker.Tls;
import io.tributary.testing.kafka.KafkaBrokerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.common.utils.internals.AppInfoParser;
import org.awaitility.Awaitility;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * A single-node KRaft broker in a container, through Testcontainers (a Docker engine, or podman's
 * Docker-compatible API). The image is the one the system property {@code tributary.kafka.image}
 * names, else the local image {@code localhost/tributary-kafka:VERSION} built by {@code
 * scripts/container-images.sh} from Maven Central jars when the engine has it, else {@code
 * apache/kafka:VERSION}; VERSION is the kafka-clients version on the classpath.
 *
 * <p>The container's PLAINTEXT port is published on a fixed, free host port (127.0.0.1 when the
 * engine is local), so the advertised address stays valid when {@link #restart()} stops and starts
 * the same container (same data). Testcontainers' image sets the internal topics to replication
 * factor 1, so transactions work.
 *
 * <p>The container has {@code NET_ADMIN}, so {@link #containerFaults()} can shape its link from
 * inside its network namespace.
 *
 * <p>With the local image, the broker also has a SASL_PLAINTEXT listener with one PLAIN user
 * ({@link #saslPlain()}) and a TLS listener ({@link #tls()}, a self-signed certificate for
 * 127.0.0.1 made with keytool at each start, its key store copied into the container), each
 * published on a fixed host port like PLAINTEXT, as the local broker has: the image's {@code
 * /etc/kafka/docker/run} adds them from {@code TRIBUTARY_EXTRA_*} variables. Other images
 * (apache/kafka) get neither.
 *
 * <p>Thread safety: {@link #restart()} and {@link #close()} are synchronized; {@link
 * #bootstrapServers()} is immutable.
 */
public final class DockerKafkaBroker implements KafkaBroker {
  private static final Logger LOG = LoggerFactory.getLogger(DockerKafkaBroker.class);
  private static final int KAFKA_PORT = 9092;
  private static final int SASL_PORT = 9095;
  private static final int TLS_PORT = 9096;
  private static final String KEYSTORE = "/etc/kafka/secrets/keystore.p12";
  private static final String LOCAL_IMAGE = "localhost/tributary-kafka";

  private final KafkaContainer container;
  private final String image;
  private final String bootstrapServers;
  private final EngineContainerFaults faults;
  private final SaslPlain sasl;
  private final Tls tls;
  private final Path secrets;
  private boolean closed;

  private DockerKafkaBroker(
      KafkaContainer container, String image, SaslPlain sasl, Tls tls, Path secrets) {
    this.container = container;
    this.image = image;
    this.sasl = sasl;
    this.tls = tls;
    this.secrets = secrets;
    this.bootstrapServers = container.getBootstrapServers().replace("PLAINTEXT://", "");
    this.faults =
        new EngineContainerFaults(
            container, "kafka", () -> awaitAnswering("a container fault"), this);
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
    String image = image();
    Path secrets = null;
    try {
      int[] hostPorts = LocalKafkaBroker.freePorts(3);
      String engineHost = DockerClientFactory.instance().dockerHostIpAddress();
      boolean localEngine = "localhost".equals(engineHost) || "127.0.0.1".equals(engineHost);
      String advertisedHost = localEngine ? "127.0.0.1" : engineHost;
      List<PortBinding> bindings = new ArrayList<>();
      int[] containerPorts = {KAFKA_PORT, SASL_PORT, TLS_PORT};
      for (int i = 0; i < containerPorts.length; i++) {
        bindings.add(
            new PortBinding(
                localEngine
                    ? Ports.Binding.bindIpAndPort("127.0.0.1", hostPorts[i])
                    : Ports.Binding.bindPort(hostPorts[i]),
                new ExposedPort(containerPorts[i])));
      }
      @SuppressWarnings("resource") // closed by close()
      KafkaContainer container =
          new KafkaContainer(DockerImageName.parse(image).asCompatibleSubstituteFor("apache/kafka"))
              .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
              .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
              .withEnv("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
              .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
              // A test broker, started and SIGKILLed many times: 4 partitions per internal topic
              // instead of 50 each, so a start (and the log recovery after a SIGKILL) loads 8 logs,
              // not 100
              .withEnv("KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS", "4")
              .withEnv("KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS", "4")
              .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
              .withCreateContainerCmdModifier(
                  cmd ->
                      cmd.getHostConfig()
                          .withCapAdd(Capability.NET_ADMIN)
                          .withPortBindings(bindings));
      SaslPlain sasl = null;
      Tls tls = null;
      if (image.startsWith(LOCAL_IMAGE + ":")) {
        secrets = Files.createTempDirectory("tributary-kafka-docker-secrets");
        String keystorePassword = "ks-" + UUID.randomUUID();
        sasl =
            new SaslPlain(
                advertisedHost + ":" + hostPorts[1], "tributary", "test-" + UUID.randomUUID());
        tls =
            new Tls(
                advertisedHost + ":" + hostPorts[2],
                secrets.resolve("truststore.p12"),
                "ts-" + UUID.randomUUID());
        LocalKafkaBroker.writeCertificates(secrets, keystorePassword, tls);
        container
            .withExposedPorts(KAFKA_PORT, SASL_PORT, TLS_PORT)
            .withCopyToContainer(
                MountableFile.forHostPath(secrets.resolve("keystore.p12"), 0644), KEYSTORE)
            .withEnv(
                "TRIBUTARY_EXTRA_LISTENERS",
                "SASL_PLAINTEXT://0.0.0.0:" + SASL_PORT + ",SSL://0.0.0.0:" + TLS_PORT)
            .withEnv(
                "TRIBUTARY_EXTRA_ADVERTISED_LISTENERS",
                "SASL_PLAINTEXT://" + sasl.bootstrapServers() + ",SSL://" + tls.bootstrapServers())
            .withEnv("TRIBUTARY_EXTRA_PROTOCOL_MAP", "SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL")
            .withEnv("KAFKA_SASL_ENABLED_MECHANISMS", "PLAIN")
            // listener.name.sasl_plaintext.plain.sasl.jaas.config ('__' is '_' in the names)
            .withEnv(
                "KAFKA_LISTENER_NAME_SASL__PLAINTEXT_PLAIN_SASL_JAAS_CONFIG",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_"
                    + sasl.username()
                    + "=\""
                    + sasl.password()
                    + "\";")
            .withEnv("KAFKA_LISTENER_NAME_SSL_SSL_KEYSTORE_TYPE", "PKCS12")
            .withEnv("KAFKA_LISTENER_NAME_SSL_SSL_KEYSTORE_LOCATION", KEYSTORE)
            .withEnv("KAFKA_LISTENER_NAME_SSL_SSL_KEYSTORE_PASSWORD", keystorePassword)
            .withEnv("KAFKA_LISTENER_NAME_SSL_SSL_KEY_PASSWORD", keystorePassword);
      }
      container.start();
      DockerKafkaBroker broker = new DockerKafkaBroker(container, image, sasl, tls, secrets);
      LOG.info(
          "event=kafka_broker_started kind=docker image={} bootstrap={} sasl_plaintext={} ssl={}",
          image,
          broker.bootstrapServers,
          sasl == null ? "-" : sasl.bootstrapServers(),
          tls == null ? "-" : tls.bootstrapServers());
      return broker;
    } catch (IOException | RuntimeException e) {
      deleteQuietly(secrets);
      throw new KafkaBrokerException(
          "Could not start the Docker Kafka broker from image " + image + ": " + e, e);
    }
  }

  /** Deletes the directory with the TLS listener's key and trust stores, if any. */
  private static void deleteQuietly(Path secrets) {
    if (secrets == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(secrets)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.info("event=kafka_secrets_not_deleted dir={} error={}", secrets, e.toString());
    }
  }

  /**
   * The image to run: system property {@code tributary.kafka.image}, else the local image when the
   * engine has it, else {@code apache/kafka} (which the engine pulls).
   */
  static String image() {
    String configured = System.getProperty("tributary.kafka.image");
    if (configured != null && !configured.isBlank()) {
      return configured.trim();
    }
    String version = AppInfoParser.getVersion();
    String local = LOCAL_IMAGE + ":" + version;
    try {
      DockerClientFactory.instance().client().inspectImageCmd(local).exec();
      return local;
    } catch (NotFoundException e) {
      LOG.info(
          "event=kafka_local_image_missing image={} hint=\"scripts/container-images.sh builds it\""
              + " using=apache/kafka:{}",
          local,
          version);
      return "apache/kafka:" + version;
    }
  }

  /** The image the container runs. */
  public String imageName() {
    return image;
  }

  @Override
  public Optional<SaslPlain> saslPlain() {
    return Optional.ofNullable(sasl);
  }

  @Override
  public Optional<Tls> tls() {
    return Optional.ofNullable(tls);
  }

  @Override
  public Optional<ContainerFaults> containerFaults() {
    return Optional.of(faults);
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
    // The container's first process is Testcontainers' "sh -c" wrapper, which as PID 1 ignores the
    // SIGTERM of a container stop (the engine would wait its whole timeout, then SIGKILL): the
    // broker itself gets SIGTERM, shuts down cleanly, and the container ends with it.
    boolean signalled;
    try {
      signalled =
          container.execInContainer("pkill", "-TERM", "-f", "kafka.Kafka").getExitCode() == 0;
    } catch (IOException e) {
      signalled = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaBrokerException("Interrupted while stopping the Docker Kafka broker", e);
    }
    if (signalled) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> !isRunning(id));
    } else {
      container.getDockerClient().stopContainerCmd(id).withTimeout(60).exec();
    }
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
      deleteQuietly(secrets);
      LOG.info("event=kafka_broker_closed kind=docker bootstrap={}", bootstrapServers);
    }
  }

  private static String tail(String log) {
    return log.length() <= 4000 ? log : log.substring(log.length() - 4000);
  }

  private boolean isRunning(String id) {
    return Boolean.TRUE.equals(
        container.getDockerClient().inspectContainerCmd(id).exec().getState().getRunning());
  }

  /** Starts the stopped container {@code id} and waits until the broker answers again. */
  private void startAgainAndAwait(String id, String after, String event) {
    container.getDockerClient().startContainerCmd(id).exec();
    awaitAnswering(after);
    LOG.info("event={} kind=docker bootstrap={}", event, bootstrapServers);
  }

  /** Waits (at most 120 s) until the broker answers after its container was started again. */
  private void awaitAnswering(String after) {
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      String notReady =
          BrokerReadiness.await(bootstrapServers, Duration.ofSeconds(120), () -> null);
      if (notReady == null) {
        notReady =
            BrokerReadiness.awaitWritable(
                bootstrapServers,
                Duration.ofNanos(Math.max(deadline - System.nanoTime(), 5_000_000_000L)));
      }
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
  }
}
