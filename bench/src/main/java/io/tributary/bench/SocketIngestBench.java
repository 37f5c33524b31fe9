package io.tributary.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Pushes N lines of 100 bytes over TCP with {@code socat} (an external client, not Tributary's own)
 * into (a) socat writing to a file (the baseline: the cost of TCP plus a file write, nothing else)
 * and (b) the Tributary gateway's socket server feeding the rolling-file sink, with the WAL off and
 * on ({@code wal.fsync: always}), and prints lines/s, MB/s and the ratio to the baseline. All
 * measured in the same run on the same machine, with the load average before and after each case.
 *
 * <p>The sender is {@code socat -u -b 65536 OPEN:<payload file> TCP:127.0.0.1:<port>} (the payload
 * file is written once, before any case, so it is in the page cache). Timing runs from launching
 * the sender until every line is in the output (socat: until the receiving socat exits after the
 * sender closes and the file has every byte; Tributary: until the published output files hold every
 * byte, so batching, checkpointing and WAL fsyncs are all inside the measurement). Gateway start-up
 * is outside it: the sender starts once the gateway's port is listening (read from {@code
 * /proc/net/tcp6}, without connecting), and after a warm-up: {@code warmup-lines} lines (default
 * half the measured count) sent on a first connection and published before the clock starts. Each
 * gateway run also prints the CPU seconds its threads used during the measured interval ({@link
 * ThreadCpu}: event loop, batch thread, WAL, GC and JIT threads).
 *
 * <p>With {@code profile=jfr} each gateway run records a JFR profile ({@code jcmd <pid> JFR.start
 * settings=profile} after the warm-up, {@code JFR.stop} when the output is complete, so only the
 * measured interval is profiled), keeps it in {@code bench/target/jfr/} and prints the hottest
 * methods (see {@link JfrTop}).
 *
 * <p>Usage: {@code SocketIngestBench <gateway-jar> [lines] [runs] [profile=none|jfr]
 * [warmup-lines=lines/2]}; see bench/socket-bench.sh.
 */
public final class SocketIngestBench {
  private static final int LINE_BYTES = 100; // payload; plus '\n'

  /** CPU seconds the gateway's threads used in the last measured run (NaN for socat). */
  private static double lastCpuSeconds = Double.NaN;

  private SocketIngestBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println(
          "usage: SocketIngestBench <gateway-jar> [lines=2000000] [runs=2] [profile=none|jfr]"
              + " [warmup-lines=lines/2]");
      System.exit(2);
    }
    Path jar = Path.of(args[0]);
    int lines = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    boolean jfr = args.length > 3 && "jfr".equals(args[3]);
    int warmupLines = args.length > 4 ? Integer.parseInt(args[4]) : lines / 2;
    Path work = Files.createTempDirectory("bench-socket");
    Path payload = work.resolve("payload.txt");
    Files.write(payload, buildPayload(lines));
    long bytes = Files.size(payload);
    Path warmup = work.resolve("warmup.txt");
    Files.write(warmup, buildPayload(warmupLines));
    System.out.printf(
        Locale.ROOT,
        "lines=%d bytes/line=%d total=%.1f MB runs=%d (best run reported) sender=socat"
            + " profile=%s warm-up=%d lines on a first connection before the measured one%n",
        lines,
        LINE_BYTES + 1,
        bytes / 1e6,
        runs,
        jfr ? "jfr" : "none",
        warmupLines);
    try {
      List<String[]> rows = new ArrayList<>();
      double base = best("socat TCP -> file", runs, run -> socat(payload, bytes));
      rows.add(row("socat TCP -> file (baseline)", lines, bytes, base, base));
      double walOff =
          best(
              "WAL off",
              runs,
              run -> gateway(jar, warmup, payload, bytes, false, jfr ? "wal-off-" + run : null));
      rows.add(row("tributary socket -> files, WAL off", lines, bytes, walOff, base));
      double walOn =
          best(
              "WAL on",
              runs,
              run -> gateway(jar, warmup, payload, bytes, true, jfr ? "wal-on-" + run : null));
      rows.add(row("tributary socket -> files, WAL on (fsync always)", lines, bytes, walOn, base));

      System.out.printf(
          Locale.ROOT,
          "%-50s %12s %10s %10s %14s %16s%n",
          "case",
          "seconds",
          "lines/s",
          "MB/s",
          "vs baseline",
          "CPU us/line");
      for (String[] r : rows) {
        System.out.printf(Locale.ROOT, "%-50s %12s %10s %10s %14s %16s%n", (Object[]) r);
      }
      System.out.println(
          "(CPU us/line: CPU time of all gateway threads in the measured interval, JIT and GC included,"
              + " per line, least of the runs: what the load of other processes does not change)");
    } finally {
      deleteTree(work);
    }
  }

  interface Run {
    double seconds(int run) throws Exception;
  }

  /** Best (shortest) of {@code runs}; {@link #bestCpuSeconds} is the least CPU any of them used. */
  private static double best(String name, int runs, Run run) throws Exception {
    double best = Double.MAX_VALUE;
    bestCpuSeconds = Double.NaN;
    for (int i = 0; i < runs; i++) {
      String before = Machine.loadAverage();
      lastCpuSeconds = Double.NaN;
      double seconds = run.seconds(i);
      System.out.printf(
          Locale.ROOT,
          "run %d %s: %.2f s, gateway CPU %.2f s; load average before: %s, after: %s%n",
          i,
          name,
          seconds,
          lastCpuSeconds,
          before,
          Machine.loadAverage());
      best = Math.min(best, seconds);
      bestCpuSeconds =
          Double.isNaN(bestCpuSeconds) ? lastCpuSeconds : Math.min(bestCpuSeconds, lastCpuSeconds);
    }
    return best;
  }

  private static double bestCpuSeconds = Double.NaN;

  private static String[] row(String name, int lines, long bytes, double seconds, double baseline) {
    return new String[] {
      name,
      String.format(Locale.ROOT, "%.2f", seconds),
      String.format(Locale.ROOT, "%.0f", lines / seconds),
      String.format(Locale.ROOT, "%.1f", bytes / seconds / 1e6),
      String.format(Locale.ROOT, "%.2fx", baseline / seconds),
      Double.isNaN(bestCpuSeconds)
          ? "n/a"
          : String.format(Locale.ROOT, "%.2f", bestCpuSeconds * 1e6 / lines)
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

  /**
   * Launches the sender: socat reading the payload file and writing it to 127.0.0.1:port, then
   * closing.
   */
  private static Process sender(Path payload, int port) throws IOException {
    return new ProcessBuilder(
            "socat", "-u", "-b", "65536", "OPEN:" + payload + ",rdonly", "TCP:127.0.0.1:" + port)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  private static double socat(Path payload, long bytes) throws Exception {
    Path dir = Files.createTempDirectory("bench-socat");
    Path file = dir.resolve("out.txt");
    int port = freePort();
    Process p =
        new ProcessBuilder(
                "socat",
                "-u",
                "-b",
                "65536",
                "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr",
                "CREATE:" + file)
            .redirectErrorStream(true)
            .start();
    try {
      awaitListening(port, p, 10_000);
      long start = System.nanoTime();
      Process send = sender(payload, port);
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        throw new IllegalStateException("socat did not finish");
      }
      long end = System.nanoTime();
      send.waitFor(30, TimeUnit.SECONDS);
      if (Files.size(file) != bytes) {
        throw new IllegalStateException(
            "socat wrote " + Files.size(file) + " bytes, expected " + bytes);
      }
      return (end - start) / 1e9;
    } finally {
      p.destroyForcibly();
      deleteTree(dir);
    }
  }

  /**
   * One gateway run; with {@code jfrName} non-null the measured interval is recorded with JFR into
   * {@code bench/target/jfr/<jfrName>.jfr} and its hottest methods printed.
   */
  private static double gateway(
      Path jar, Path warmup, Path payload, long bytes, boolean wal, String jfrName)
      throws Exception {
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
            "    source: { type: socket, mode: server, host: 127.0.0.1, port: "
                + port
                + ", framing: lines }",
            "    sinks:",
            "      - { type: files, path: " + out + " }",
            ""));
    Path log = dir.resolve("gateway.log");
    Process p =
        new ProcessBuilder(
                javaBin("java"),
                "-Xmx4g",
                "-jar",
                jar.toString(),
                "run",
                "--config",
                config.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    Path jfrFile = null;
    try {
      awaitListening(port, p, 60_000);
      // Warm-up: a first connection's lines, published before the clock starts, so that the
      // measured connection
      // runs on JIT-compiled code (in a short run C1/C2 otherwise take ~40% of the gateway's CPU).
      long warmBytes = Files.size(warmup);
      if (warmBytes > 0) {
        Process w = sender(warmup, port);
        long warmDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        while (publishedBytes(out) < warmBytes) {
          if (System.nanoTime() > warmDeadline || !p.isAlive()) {
            throw new IllegalStateException(
                "gateway did not write the warm-up lines; log: " + Files.readString(log));
          }
          TimeUnit.MILLISECONDS.sleep(5);
        }
        w.waitFor(30, TimeUnit.SECONDS);
      }
      if (jfrName != null) {
        Path jfrDir = Files.createDirectories(Path.of("bench", "target", "jfr"));
        jfrFile = jfrDir.resolve(jfrName + ".jfr").toAbsolutePath();
        Files.deleteIfExists(jfrFile);
        jcmd(p, "JFR.start", "name=bench", "settings=profile", "filename=" + jfrFile);
      }
      ThreadCpu cpuBefore = ThreadCpu.of(p.pid());
      long start = System.nanoTime();
      Process send = sender(payload, port);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
      while (publishedBytes(out) < warmBytes + bytes) {
        if (System.nanoTime() > deadline || !p.isAlive()) {
          throw new IllegalStateException(
              "gateway did not write all lines ("
                  + publishedBytes(out)
                  + " of "
                  + (warmBytes + bytes)
                  + " bytes); log: "
                  + Files.readString(log));
        }
        TimeUnit.MILLISECONDS.sleep(
            5); // polling interval of the measurement, not synchronisation in a test
      }
      long end = System.nanoTime();
      ThreadCpu cpuAfter = ThreadCpu.of(p.pid());
      send.waitFor(30, TimeUnit.SECONDS);
      cpuAfter.printSince(cpuBefore, (end - start) / 1e9, 8, ThreadCpu.javaNames(p.pid()));
      lastCpuSeconds = cpuAfter.secondsSince(cpuBefore);
      if (jfrFile != null) {
        jcmd(p, "JFR.stop", "name=bench");
      }
      if (publishedBytes(out) != warmBytes + bytes) {
        throw new IllegalStateException(
            "gateway wrote more bytes than sent: " + publishedBytes(out));
      }
      return (end - start) / 1e9;
    } finally {
      p.destroy();
      p.waitFor(30, TimeUnit.SECONDS);
      p.destroyForcibly();
      deleteTree(dir);
      if (jfrFile != null && Files.exists(jfrFile)) {
        System.out.println("JFR profile of gateway run " + jfrName + ": " + jfrFile);
        JfrTop.print(jfrFile, 15);
      }
    }
  }

  private static String javaBin(String tool) {
    return Path.of(System.getProperty("java.home"), "bin", tool).toString();
  }

  private static void jcmd(Process p, String... command) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(javaBin("jcmd"), Long.toString(p.pid())));
    cmd.addAll(List.of(command));
    Process j = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String answer = new String(j.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!j.waitFor(60, TimeUnit.SECONDS) || j.exitValue() != 0) {
      throw new IllegalStateException("jcmd " + String.join(" ", command) + " failed: " + answer);
    }
  }

  /**
   * Waits until something listens on the port (read from /proc/net/tcp[6]: no probe connection to
   * the server).
   */
  private static void awaitListening(int port, Process p, long timeoutMs) throws Exception {
    String local = String.format(Locale.ROOT, ":%04X", port);
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      // a JVM listens on a dual-stack socket: /proc/net/tcp6
      for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
        for (String line : Files.readAllLines(Path.of(table))) {
          String[] f = line.trim().split("\\s+");
          if (f.length > 3 && f[1].endsWith(local) && "0A".equals(f[3])) {
            return;
          }
        }
      }
      if (!p.isAlive() || System.currentTimeMillis() > deadline) {
        throw new IllegalStateException(
            "nothing listens on port " + port + " (process alive: " + p.isAlive() + ")");
      }
      TimeUnit.MILLISECONDS.sleep(20);
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
