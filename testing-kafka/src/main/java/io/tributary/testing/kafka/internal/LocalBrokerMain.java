package io.tributary.testing.kafka.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * Main class of the local broker's child JVM: {@code LocalBrokerMain SERVER_PROPERTIES READY_FILE}.
 *
 * <p>Formats the storage on first start (a {@code meta.properties} in {@code log.dirs} means it was
 * formatted, so a restart keeps the data), starts a combined broker+controller {@link
 * KafkaRaftServer}, and creates READY_FILE once {@code startup()} returned. SIGTERM shuts the
 * server down cleanly. The process also stops when its standard input reaches end-of-file, which
 * happens when the parent (test) JVM dies, even by SIGKILL: no orphan brokers.
 *
 * <p>Thread safety: a process entry point.
 */
public final class LocalBrokerMain {
  private LocalBrokerMain() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: LocalBrokerMain SERVER_PROPERTIES READY_FILE");
      System.exit(2);
    }
    Path propsFile = Path.of(args[0]);
    Path ready = Path.of(args[1]);
    Properties props = new Properties();
    try (InputStream in = Files.newInputStream(propsFile)) {
      props.load(in);
    }
    Path logDir = Path.of(props.getProperty("log.dirs"));
    if (!Files.exists(logDir.resolve("meta.properties"))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int rc =
          StorageTool.execute(
              new String[] {
                "format", "-t", Uuid.randomUuid().toString(), "-c", propsFile.toString()
              },
              new PrintStream(out, true, StandardCharsets.UTF_8));
      if (rc != 0) {
        System.err.println("event=kafka_format_failed rc=" + rc + " output=" + out);
        System.exit(3);
      }
    }
    KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props), Time.SYSTEM);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.shutdown();
                  server.awaitShutdown();
                },
                "tributary-kafka-broker-shutdown-0"));
    server.startup();
    Path tmp = ready.resolveSibling(ready.getFileName() + ".tmp");
    Files.writeString(tmp, "ready\n");
    Files.move(tmp, ready, StandardCopyOption.ATOMIC_MOVE);
    Thread watchdog =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // the parent never writes; end-of-file means it is gone
                }
              } catch (IOException e) {
                // a broken pipe also means the parent is gone
              }
              System.err.println("event=kafka_broker_parent_gone action=shutdown");
              System.exit(0);
            },
            "tributary-kafka-broker-watchdog-0");
    watchdog.setDaemon(true);
    watchdog.start();
    server.awaitShutdown();
  }
}
