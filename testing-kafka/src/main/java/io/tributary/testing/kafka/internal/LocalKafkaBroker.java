package io.tributary.testing.kafka.internal;

import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBroker.SaslPlain;
import io.tributary.testing.kafka.KafkaBroker.Tls;
import io.tributary.testing.kafka.KafkaBrokerException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node KRaft broker (broker and controller roles in one process) in a child JVM started
 * with this JVM's classpath and {@link LocalBrokerMain}. Listens on free 127.0.0.1 ports
 * (PLAINTEXT, CONTROLLER, a SASL_PLAINTEXT listener with one PLAIN user, see {@link #saslPlain()};
 * a fourth for TLS, see {@link #tls()}) that stay the same across {@link #restart()} and {@link
 * #killAndRestart()}; data lives in a temporary directory deleted by {@link #close()}; the child's
 * output goes to {@code broker.log} in that directory (its tail is in every start failure message).
 *
 * <p>A child process rather than an in-process server: a restart is a real process restart with log
 * recovery, Kafka's exit/halt calls cannot hit the test JVM, and the broker's threads and heap do
 * not disturb the tests.
 *
 * <p>Thread safety: {@link #restart()} and {@link #close()} are synchronized; {@link
 * #bootstrapServers()} is immutable.
 */
public final class LocalKafkaBroker implements KafkaBroker {
  private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaBroker.class);

  private final Path dir;
  private final Path propsFile;
  private final Path readyFile;
  private final Path logFile;
  private final String bootstrapServers;
  private final SaslPlain sasl;
  private final Tls tls;
  private final String keystorePassword = "ks-" + UUID.randomUUID();
  private final Duration startTimeout;
  private final Thread cleanup;
  private Process process;
  private boolean closed;

  private LocalKafkaBroker(
      Path dir, int brokerPort, int saslPort, int tlsPort, Duration startTimeout) {
    this.dir = dir;
    this.tls =
        new Tls("127.0.0.1:" + tlsPort, dir.resolve("truststore.p12"), "ts-" + UUID.randomUUID());
    this.sasl = new SaslPlain("127.0.0.1:" + saslPort, "tributary", "test-" + UUID.randomUUID());
    this.propsFile = dir.resolve("server.properties");
    this.readyFile = dir.resolve("ready");
    this.logFile = dir.resolve("broker.log");
    this.bootstrapServers = "127.0.0.1:" + brokerPort;
    this.startTimeout = startTimeout;
    this.cleanup = new Thread(this::destroyQuietly, "tributary-kafka-broker-cleanup-0");
  }

  /**
   * Formats and starts a new broker; blocks until it answers requests.
   *
   * @throws KafkaBrokerException if it does not within {@code startTimeout}
   */
  public static LocalKafkaBroker start(Duration startTimeout) {
    try {
      Path dir = Files.createTempDirectory("tributary-kafka-broker");
      int[] ports = freePorts(4);
      LocalKafkaBroker broker =
          new LocalKafkaBroker(dir, ports[0], ports[2], ports[3], startTimeout);
      writeCertificates(dir, broker.keystorePassword, broker.tls);
      broker.writeConfig(ports[0], ports[1], ports[2], ports[3]);
      Runtime.getRuntime().addShutdownHook(broker.cleanup);
      synchronized (broker) {
        broker.launch();
      }
      LOG.info(
          "event=kafka_broker_started kind=local bootstrap={} dir={}",
          broker.bootstrapServers,
          dir);
      return broker;
    } catch (IOException e) {
      throw new KafkaBrokerException("Could not prepare the local Kafka broker: " + e, e);
    }
  }

  @Override
  public String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public Kind kind() {
    return Kind.LOCAL;
  }

  @Override
  public Optional<SaslPlain> saslPlain() {
    return Optional.of(sasl);
  }

  @Override
  public Optional<Tls> tls() {
    return Optional.of(tls);
  }

  /**
   * A self-signed certificate for 127.0.0.1 (valid for a day) in {@code keystore.p12}, and its
   * certificate alone in the trust store clients use ({@code tls.truststore()}); made with the
   * JDK's keytool, so nothing is downloaded or checked in. Also used for the container broker's TLS
   * listener ({@link DockerKafkaBroker}).
   */
  static void writeCertificates(Path dir, String keystorePassword, Tls tls) throws IOException {
    Path keystore = dir.resolve("keystore.p12");
    Path cert = dir.resolve("broker.crt");
    keytool(
        dir,
        "-genkeypair",
        "-alias",
        "broker",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "1",
        "-dname",
        "CN=127.0.0.1",
        "-ext",
        "SAN=IP:127.0.0.1",
        "-storetype",
        "PKCS12",
        "-keystore",
        keystore.toString(),
        "-storepass",
        keystorePassword,
        "-keypass",
        keystorePassword);
    keytool(
        dir,
        "-exportcert",
        "-alias",
        "broker",
        "-keystore",
        keystore.toString(),
        "-storepass",
        keystorePassword,
        "-file",
        cert.toString());
    keytool(
        dir,
        "-importcert",
        "-noprompt",
        "-alias",
        "broker",
        "-file",
        cert.toString(),
        "-storetype",
        "PKCS12",
        "-keystore",
        tls.truststore().toString(),
        "-storepass",
        tls.truststorePassword());
  }

  private static void keytool(Path dir, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    Path out = dir.resolve("keytool.log");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new KafkaBrokerException(
            "keytool "
                + args[0]
                + " failed for the test broker's TLS listener: "
                + Files.readString(out));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaBrokerException(
          "Interrupted while making the test broker's TLS certificate", e);
    }
  }

  /** The directory with the broker's data, configuration and {@code broker.log}. */
  public Path directory() {
    return dir;
  }

  @Override
  public synchronized void restart() {
    checkOpen();
    long t0 = System.nanoTime();
    stopProcess();
    launch();
    LOG.info(
        "event=kafka_broker_restarted kind=local bootstrap={} millis={}",
        bootstrapServers,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  @Override
  public synchronized void killAndRestart() {
    checkOpen();
    long t0 = System.nanoTime();
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroyForcibly(); // SIGKILL on Unix
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          throw new KafkaBrokerException(
              "The local Kafka broker at " + bootstrapServers + " did not die on SIGKILL");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KafkaBrokerException(
            "Interrupted while killing the local Kafka broker at " + bootstrapServers, e);
      }
    }
    long killedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    launch(); // same ports and directories: the broker recovers its logs; the KRaft storage is
    // already formatted
    LOG.info(
        "event=kafka_broker_killed_and_restarted kind=local bootstrap={} kill_millis={} millis={}",
        bootstrapServers,
        killedMs,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stopProcess();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down; the hook runs anyway
      }
      deleteRecursively(dir);
      LOG.info("event=kafka_broker_closed kind=local bootstrap={}", bootstrapServers);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new KafkaBrokerException(
          "The local Kafka broker at " + bootstrapServers + " is closed");
    }
  }

  private void writeConfig(int brokerPort, int controllerPort, int saslPort, int tlsPort)
      throws IOException {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:"
            + brokerPort
            + ",CONTROLLER://127.0.0.1:"
            + controllerPort
            + ",SASL_PLAINTEXT://127.0.0.1:"
            + saslPort
            + ",SSL://127.0.0.1:"
            + tlsPort);
    p.put(
        "advertised.listeners",
        "PLAINTEXT://127.0.0.1:"
            + brokerPort
            + ",SASL_PLAINTEXT://127.0.0.1:"
            + saslPort
            + ",SSL://127.0.0.1:"
            + tlsPort);
    p.put(
        "listener.security.protocol.map",
        "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL");
    p.put("listener.name.ssl.ssl.keystore.type", "PKCS12");
    p.put("listener.name.ssl.ssl.keystore.location", dir.resolve("keystore.p12").toString());
    p.put("listener.name.ssl.ssl.keystore.password", keystorePassword);
    p.put("listener.name.ssl.ssl.key.password", keystorePassword);
    p.put("sasl.enabled.mechanisms", "PLAIN");
    p.put(
        "listener.name.sasl_plaintext.plain.sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required user_"
            + sasl.username()
            + "=\""
            + sasl.password()
            + "\";");
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", dir.resolve("data").toString());
    p.put("metadata.log.dir", dir.resolve("meta").toString());
    // Transactions and consumer groups on one node.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "1");
    p.put("min.insync.replicas", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "1");
    p.put("auto.create.topics.enable", "false");
    try (OutputStream out = Files.newOutputStream(propsFile)) {
      p.store(out, "tributary test broker");
    }
  }

  private void launch() {
    try {
      Files.deleteIfExists(readyFile);
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xms256m");
      cmd.add("-Xmx1g");
      cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
      cmd.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(LocalBrokerMain.class.getName());
      cmd.add(propsFile.toString());
      cmd.add(readyFile.toString());
      process =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .start();
      long deadline = System.nanoTime() + startTimeout.toNanos();
      while (!Files.exists(readyFile)) {
        if (process.waitFor(50, TimeUnit.MILLISECONDS)) {
          throw new KafkaBrokerException(
              "The local Kafka broker exited with code "
                  + process.exitValue()
                  + " while starting; "
                  + logTail());
        }
        if (System.nanoTime() > deadline) {
          destroyQuietly();
          throw new KafkaBrokerException(
              "The local Kafka broker did not start within " + startTimeout + "; " + logTail());
        }
      }
      Duration left =
          Duration.ofNanos(Math.max(deadline - System.nanoTime(), TimeUnit.SECONDS.toNanos(5)));
      String notReady =
          BrokerReadiness.await(
              bootstrapServers,
              left,
              () -> process.isAlive() ? null : "broker process exited with " + process.exitValue());
      if (notReady != null) {
        destroyQuietly();
        throw new KafkaBrokerException(
            "The local Kafka broker is not ready: " + notReady + "; " + logTail());
      }
    } catch (IOException e) {
      throw new KafkaBrokerException(
          "Could not start the local Kafka broker: " + e + "; " + logTail(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      destroyQuietly();
      throw new KafkaBrokerException("Interrupted while starting the local Kafka broker", e);
    }
  }

  /** SIGTERM (clean shutdown), at most 60 s, then SIGKILL. */
  private void stopProcess() {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        LOG.warn("event=kafka_broker_stop_timeout bootstrap={} action=sigkill", bootstrapServers);
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new KafkaBrokerException(
          "Interrupted while stopping the local Kafka broker at " + bootstrapServers, e);
    }
  }

  private void destroyQuietly() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
    }
  }

  private String logTail() {
    try {
      if (!Files.exists(logFile)) {
        return "no broker log";
      }
      List<String> lines = Files.readAllLines(logFile);
      return "broker log "
          + logFile
          + " ends with:\n"
          + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "broker log unreadable: " + e;
    }
  }

  /**
   * Distinct free ports: all sockets are held open together so the same port cannot be handed out
   * twice.
   */
  static int[] freePorts(int n) throws IOException {
    ServerSocket[] sockets = new ServerSocket[n];
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ports[i] = sockets[i].getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket s : sockets) {
        if (s != null) {
          s.close();
        }
      }
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      LOG.warn("event=kafka_broker_cleanup_failed dir={} error={}", dir, e.toString());
    }
  }
}
