package io.tributary.bench;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Pushes N lines of 100 bytes over TCP into (a) socat writing to a file (the baseline: the cost of TCP plus a file
 * write, nothing else) and (b) the Tributary gateway's socket server feeding the rolling-file sink, with the WAL off
 * and on, and prints lines/s, MB/s and the ratio to the baseline. All measured in the same run on the same machine.
 *
 * <p>Timing runs from the first byte sent until every line is in the output (socat: until it exits after the sender
 * closes and the file has every byte; Tributary: until the published output files hold every byte, so batching,
 * checkpointing and WAL fsyncs are all inside the measurement). Gateway start-up is outside it.
 *
 * <p>Usage: {@code SocketIngestBench <gateway-jar> [lines] [runs]}; see bench/socket-bench.sh.
 */
public final class SocketIngestBench {
  private static final int LINE_BYTES = 100; // payload; plus '\n'

  private SocketIngestBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: SocketIngestBench <gateway-jar> [lines=2000000] [runs=2]");
      System.exit(2);
    }
    Path jar = Path.of(args[0]);
    int lines = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    byte[] payload = buildPayload(lines);
    System.out.printf(Locale.ROOT, "lines=%d bytes/line=%d total=%.1f MB runs=%d (best run reported)%n",
        lines, LINE_BYTES + 1, payload.length / 1e6, runs);

    List<String[]> rows = new ArrayList<>();
    double base = best(runs, () -> socat(payload, lines));
    rows.add(row("socat TCP -> file (baseline)", lines, payload.length, base, base));
    double walOff = best(runs, () -> gateway(jar, payload, lines, false));
    rows.add(row("tributary socket -> files, WAL off", lines, payload.length, walOff, base));
    double walOn = best(runs, () -> gateway(jar, payload, lines, true));
    rows.add(row("tributary socket -> files, WAL on (fsync always)", lines, payload.length, walOn, base));

    System.out.printf(Locale.ROOT, "%-50s %12s %10s %10s %14s%n", "case", "seconds", "lines/s", "MB/s", "vs baseline");
    for (String[] r : rows) {
      System.out.printf(Locale.ROOT, "%-50s %12s %10s %10s %14s%n", (Object[]) r);
    }
  }

  interface Run {
    double seconds() throws Exception;
  }

  private static double best(int runs, Run run) throws Exception {
    double best = Double.MAX_VALUE;
    for (int i = 0; i < runs; i++) {
      best = Math.min(best, run.seconds());
    }
    return best;
  }

  private static String[] row(String name, int lines, long bytes, double seconds, double baseline) {
    return new String[] {
      name,
      String.format(Locale.ROOT, "%.2f", seconds),
      String.format(Locale.ROOT, "%.0f", lines / seconds),
      String.format(Locale.ROOT, "%.1f", bytes / seconds / 1e6),
      String.format(Locale.ROOT, "%.2fx", baseline / seconds)
    };
  }

  private static byte[] buildPayload(int lines) {
    byte[] out = new byte[lines * (LINE_BYTES + 1)];
    int p = 0;
    for (int i = 0; i < lines; i++) {
      byte[] head = String.format(Locale.ROOT, "%010d ", i).getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(head, 0, out, p, head.length);
      for (int k = head.length; k < LINE_BYTES; k++) {
        out[p + k] = (byte) ('a' + (i + k) % 26);
      }
      out[p + LINE_BYTES] = '\n';
      p += LINE_BYTES + 1;
    }
    return out;
  }

  private static double socat(byte[] payload, int lines) throws Exception {
    Path dir = Files.createTempDirectory("bench-socat");
    Path file = dir.resolve("out.txt");
    int port = freePort();
    Process p =
        new ProcessBuilder(
                "socat", "-u", "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr", "CREATE:" + file)
            .redirectErrorStream(true)
            .start();
    try {
      Socket s = connectWithRetry(port, 10_000);
      long start = System.nanoTime();
      send(s, payload);
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        throw new IllegalStateException("socat did not finish");
      }
      long end = System.nanoTime();
      if (Files.size(file) != payload.length) {
        throw new IllegalStateException("socat wrote " + Files.size(file) + " bytes, expected " + payload.length);
      }
      return (end - start) / 1e9;
    } finally {
      p.destroyForcibly();
      deleteTree(dir);
    }
  }

  private static double gateway(Path jar, byte[] payload, int lines, boolean wal) throws Exception {
    Path dir = Files.createTempDirectory("bench-gateway");
    Path out = dir.resolve("out");
    int port = freePort();
    Path config = dir.resolve("bench.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: bench",
            "    settings:",
            "      batch-interval: 200ms",
            "      wal.enabled: " + wal,
            "      wal.fsync: always",
            "      receiver.buffer-size: 256mb",
            "    checkpoint: " + dir.resolve("checkpoint"),
            "    source: { type: socket, mode: server, host: 127.0.0.1, port: " + port + ", framing: lines }",
            "    sinks:",
            "      - { type: files, path: " + out + " }",
            ""));
    Process p =
        new ProcessBuilder("java", "-Xmx4g", "-jar", jar.toString(), "run", "--config", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("gateway.log").toFile())
            .start();
    try {
      Socket s = connectWithRetry(port, 60_000);
      long start = System.nanoTime();
      send(s, payload);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
      while (publishedBytes(out) < payload.length) {
        if (System.nanoTime() > deadline || !p.isAlive()) {
          throw new IllegalStateException(
              "gateway did not write all lines (" + publishedBytes(out) + " of " + payload.length + " bytes); see "
                  + dir.resolve("gateway.log"));
        }
        TimeUnit.MILLISECONDS.sleep(5); // polling interval of the measurement, not synchronisation in a test
      }
      long end = System.nanoTime();
      if (publishedBytes(out) != payload.length) {
        throw new IllegalStateException("gateway wrote more bytes than sent: " + publishedBytes(out));
      }
      return (end - start) / 1e9;
    } finally {
      p.destroy();
      p.waitFor(30, TimeUnit.SECONDS);
      p.destroyForcibly();
      deleteTree(dir);
    }
  }

  private static long publishedBytes(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    long total = 0;
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
        total += Files.size(f);
      }
    }
    return total;
  }

  private static void send(Socket s, byte[] payload) throws IOException {
    try (OutputStream o = new BufferedOutputStream(s.getOutputStream(), 1 << 16)) {
      o.write(payload);
    }
    s.close();
  }

  private static Socket connectWithRetry(int port, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      try {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        return s;
      } catch (IOException e) {
        if (System.currentTimeMillis() > deadline) {
          throw e;
        }
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
