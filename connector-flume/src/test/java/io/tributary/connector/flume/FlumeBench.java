package io.tributary.connector.flume;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The Flume benchmark (not a test): one Flume agent with a {@code StressSource} (N events of 100
 * bytes) and a memory channel sends, in turn,
 *
 * <ol>
 *   <li>{@code flume-to-flume}: through its {@code avro} sink into a second agent's Avro source →
 *       file channel → {@code file_roll}, the durable way Flume users do it today (baseline);
 *   <li>{@code tributary-push}: through its {@code avro} sink into the gateway's {@code flume} push
 *       source → WAL ({@code fsync: always}) → {@code files};
 *   <li>{@code tributary-pull}: through the {@code tributary-flume-sink} to the gateway's {@code
 *       flume} pull source → WAL → {@code files}.
 * </ol>
 *
 * Each run is timed from the sending agent's start to the last event in the output (JVM starts
 * included, ~1 s each); events/s and MB/s are printed side by side. Run with {@code
 * connector-flume/flume-bench.sh [events]}.
 */
public final class FlumeBench {
  private static final int SIZE = 100;

  private FlumeBench() {}

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]);
    long events = args.length > 1 ? Long.parseLong(args[1]) : 2_000_000L;
    Path root = Files.createTempDirectory("flume-bench");
    List<String> rows = new ArrayList<>();
    rows.add(row("flume-to-flume", events, flumeToFlume(root.resolve("f2f"), events)));
    rows.add(row("tributary-push", events, tributary(root.resolve("push"), jar, events, true)));
    rows.add(row("tributary-pull", events, tributary(root.resolve("pull"), jar, events, false)));
    System.out.println();
    System.out.printf("%-16s %12s %10s %12s %8s%n", "run", "events", "seconds", "events/s", "MB/s");
    rows.forEach(System.out::println);
    System.out.println("(work dir " + root + ")");
  }

  private static String row(String name, long events, double seconds) {
    return String.format(
        Locale.ROOT,
        "%-16s %12d %10.1f %12.0f %8.1f",
        name,
        events,
        seconds,
        events / seconds,
        events * SIZE / seconds / 1e6);
  }

  private static FlumeAgent stressAgent(Path dir, long events) {
    return new FlumeAgent(dir, "s1")
        .set("sources", "r1")
        .set("channels", "c1")
        .set("sinks", "k1")
        .set("sources.r1.type", "org.apache.flume.source.StressSource")
        .set("sources.r1.size", SIZE)
        .set("sources.r1.maxSuccessfulEvents", events)
        .set("sources.r1.batchSize", 1000)
        .set("sources.r1.channels", "c1")
        .set("channels.c1.type", "memory")
        .set("channels.c1.capacity", 100_000)
        .set("channels.c1.transactionCapacity", 2000)
        .set("sinks.k1.channel", "c1");
  }

  private static double flumeToFlume(Path dir, long events) throws Exception {
    int port = FlumeTestSupport.freePort();
    Path out = dir.resolve("rolled");
    Files.createDirectories(out);
    try (FlumeAgent receiver =
            new FlumeAgent(dir.resolve("receiver"), "r1")
                .set("sources", "r1")
                .set("channels", "c1")
                .set("sinks", "k1")
                .set("sources.r1.type", "avro")
                .set("sources.r1.bind", "127.0.0.1")
                .set("sources.r1.port", port)
                .set("sources.r1.channels", "c1")
                .fileChannel("c1")
                .set("sinks.k1.type", "file_roll")
                .set("sinks.k1.sink.directory", out)
                .set("sinks.k1.sink.rollInterval", 0)
                .set("sinks.k1.sink.batchSize", 1000)
                .set("sinks.k1.channel", "c1");
        FlumeAgent sender =
            stressAgent(dir.resolve("sender"), events)
                .set("sinks.k1.type", "avro")
                .set("sinks.k1.hostname", "127.0.0.1")
                .set("sinks.k1.port", port)
                .set("sinks.k1.batch-size", 1000)) {
      receiver.start().awaitPort(port);
      long t0 = System.nanoTime();
      sender.start();
      awaitBytes(out, events * (SIZE + 1), false);
      return (System.nanoTime() - t0) / 1e9;
    }
  }

  private static double tributary(Path dir, Path jar, long events, boolean push) throws Exception {
    int port = FlumeTestSupport.freePort();
    Path out = dir.resolve("out");
    Files.createDirectories(dir);
    Path config = dir.resolve("gateway.yaml");
    String source =
        push
            ? "{ type: flume, mode: push, host: 127.0.0.1, port: " + port + " }"
            : "{ type: flume, mode: pull, pull.hosts: [\"127.0.0.1:"
                + port
                + "\"], pull.batch-size: 1000, pull.threads-per-host: 2, pull.empty-backoff: 20ms }";
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: bench",
            "    settings:",
            "      batch-interval: 200ms",
            "      wal.enabled: true",
            "      wal.fsync: always",
            "    checkpoint: " + dir.resolve("checkpoint"),
            "    source: " + source,
            "    sinks:",
            "      - { type: files, path: " + out + " }",
            ""));
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1g",
            "-jar",
            jar.toString(),
            "run",
            "--config",
            config.toString());
    Process gateway =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("gateway.log").toFile())
            .start();
    FlumeAgent sender = stressAgent(dir.resolve("sender"), events);
    if (push) {
      sender
          .set("sinks.k1.type", "avro")
          .set("sinks.k1.hostname", "127.0.0.1")
          .set("sinks.k1.port", port)
          .set("sinks.k1.batch-size", 1000);
    } else {
      sender
          .set("sinks.k1.type", "io.tributary.connector.flume.agent.TributarySink")
          .set("sinks.k1.hostname", "127.0.0.1")
          .set("sinks.k1.port", port)
          .set("sinks.k1.threads", 4);
    }
    try (sender) {
      if (push) {
        org.awaitility.Awaitility.await()
            .atMost(java.time.Duration.ofSeconds(60))
            .until(() -> listening(port));
      }
      long t0 = System.nanoTime();
      sender.start();
      awaitBytes(out, events * (SIZE + 1), true);
      return (System.nanoTime() - t0) / 1e9;
    } finally {
      gateway.destroy();
      if (!gateway.waitFor(30, TimeUnit.SECONDS)) {
        gateway.destroyForcibly();
      }
    }
  }

  private static boolean listening(int port) {
    try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void awaitBytes(Path dir, long bytes, boolean skipHidden) {
    org.awaitility.Awaitility.await("output of " + bytes + " bytes in " + dir)
        .atMost(Duration.ofMinutes(20))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> size(dir, skipHidden) >= bytes);
  }

  private static long size(Path dir, boolean skipHidden) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    long total = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        if (skipHidden && f.getFileName().toString().startsWith(".")) {
          continue;
        }
        try {
          total += Files.size(f);
        } catch (IOException gone) {
          // renamed meanwhile
        }
      }
    }
    return total;
  }
}
