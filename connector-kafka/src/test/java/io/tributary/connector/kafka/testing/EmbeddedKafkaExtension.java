package io.tributary.connector.kafka.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.Exit;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one real single-node KRaft Kafka broker (broker and controller in one process, in this JVM) per test run on
 * two free 127.0.0.1 ports, and stops it when the run ends. Test classes annotated with
 * {@code @ExtendWith(EmbeddedKafkaExtension.class)} get the {@link EmbeddedKafka} as a parameter.
 *
 * <p>The internal offsets and transaction-state topics use replication factor 1 and one partition, so transactions work
 * on a single node. Kafka's exit and halt procedures are replaced so that a fatal broker error fails the tests instead
 * of killing the test JVM.
 *
 * <p>Thread safety: JUnit calls the callbacks; the broker is shared by all test classes of the run, so tests must use
 * their own topic names.
 */
public final class EmbeddedKafkaExtension implements BeforeAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(EmbeddedKafkaExtension.class);

  /** Handle to the running broker. */
  public static final class EmbeddedKafka implements ExtensionContext.Store.CloseableResource {
    private final KafkaRaftServer server;
    private final Path dir;
    private final String bootstrapServers;

    private EmbeddedKafka(KafkaRaftServer server, Path dir, String bootstrapServers) {
      this.server = server;
      this.dir = dir;
      this.bootstrapServers = bootstrapServers;
    }

    public String bootstrapServers() {
      return bootstrapServers;
    }

    @Override
    public void close() {
      server.shutdown();
      server.awaitShutdown();
      deleteRecursively(dir);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    broker(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == EmbeddedKafka.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return broker(extensionContext);
  }

  private static EmbeddedKafka broker(ExtensionContext context) {
    return context.getRoot().getStore(NS).getOrComputeIfAbsent("broker", k -> start(), EmbeddedKafka.class);
  }

  private static EmbeddedKafka start() {
    Exit.setExitProcedure(
        (code, message) -> {
          throw new IllegalStateException("Embedded Kafka broker tried to exit with " + code + ": " + message);
        });
    Exit.setHaltProcedure(
        (code, message) -> {
          throw new IllegalStateException("Embedded Kafka broker tried to halt with " + code + ": " + message);
        });
    try {
      Path dir = Files.createTempDirectory("tributary-kafka-it");
      int[] ports = freePorts(2);
      int brokerPort = ports[0];
      int controllerPort = ports[1];
      Properties p = new Properties();
      p.put("process.roles", "broker,controller");
      p.put("node.id", "1");
      p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
      p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
      p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
      p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      p.put("controller.listener.names", "CONTROLLER");
      p.put("inter.broker.listener.name", "PLAINTEXT");
      p.put("log.dirs", dir.resolve("data").toString());
      p.put("metadata.log.dir", dir.resolve("meta").toString());
      p.put("offsets.topic.replication.factor", "1");
      p.put("offsets.topic.num.partitions", "1");
      p.put("transaction.state.log.replication.factor", "1");
      p.put("transaction.state.log.min.isr", "1");
      p.put("transaction.state.log.num.partitions", "1");
      p.put("group.initial.rebalance.delay.ms", "0");
      p.put("num.partitions", "1");
      p.put("auto.create.topics.enable", "false");
      Path file = dir.resolve("server.properties");
      try (OutputStream out = Files.newOutputStream(file)) {
        p.store(out, "embedded test broker");
      }
      ByteArrayOutputStream formatOut = new ByteArrayOutputStream();
      int rc =
          StorageTool.execute(
              new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c", file.toString()},
              new PrintStream(formatOut, true, StandardCharsets.UTF_8));
      if (rc != 0) {
        throw new IllegalStateException("kafka storage format failed (" + rc + "): " + formatOut);
      }
      KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p), Time.SYSTEM);
      server.startup();
      return new EmbeddedKafka(server, dir, "127.0.0.1:" + brokerPort);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Distinct free ports: all sockets are held open together so the same port cannot be handed out twice. */
  private static int[] freePorts(int n) throws IOException {
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
      throw new UncheckedIOException(e);
    }
  }
}
