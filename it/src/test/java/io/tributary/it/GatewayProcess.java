package io.tributary.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Starts the packaged gateway ({@code java -jar tributary-gateway.jar run --config FILE}) as a
 * separate process.
 */
final class GatewayProcess implements AutoCloseable {
  private final Path config;
  private final Path log;
  private final List<String> jvmOptions;
  private Process process;
  private int starts;

  /** With {@code -Xmx512m}. */
  GatewayProcess(Path config, Path log) {
    this(config, log, List.of("-Xmx512m"));
  }

  /** With the given JVM options (heap size, GC logging) instead of the default {@code -Xmx512m}. */
  GatewayProcess(Path config, Path log, List<String> jvmOptions) {
    this.config = config;
    this.log = log;
    this.jvmOptions = List.copyOf(jvmOptions);
  }

  static Path jar() {
    String p = System.getProperty("gateway.jar");
    if (p == null || !Files.isRegularFile(Path.of(p))) {
      throw new IllegalStateException(
          "The packaged gateway jar is missing ("
              + p
              + "): run the tests with 'mvn verify' from the repository root,"
              + " which packages the gateway before the integration tests");
    }
    return Path.of(p);
  }

  void start() throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-jar");
    cmd.add(jar().toString());
    cmd.add("run");
    cmd.add("--config");
    cmd.add(config.toString());
    starts++;
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
  }

  /** SIGKILL: no shutdown hook, no flush, like a power cut of the process. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM and wait; returns the exit code. */
  int terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      throw new IllegalStateException(
          "gateway did not stop within " + timeout + " after SIGTERM; log: " + log);
    }
    return process.exitValue();
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /**
   * The exit code of the last started process, or null while it runs (or before the first start).
   */
  Integer exitCode() {
    return process == null || process.isAlive() ? null : process.exitValue();
  }

  int starts() {
    return starts;
  }

  /** The process id of the last started process. */
  long pid() {
    return process.pid();
  }

  String logTail() throws IOException {
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static final Pattern RETRIES =
      Pattern.compile(
          "^tributary_batch_retries_total\\{([^}]*)} ([0-9.eE+-]+)$", Pattern.MULTILINE);
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** GET {@code path} of the admin API on {@code port}; asserts 200 and returns the body. */
  static String adminGet(int port, String path) throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new AssertionError("GET " + path + ": " + r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  /**
   * Sum of {@code tributary_batch_retries_total} over the phases of pipeline {@code id}, from the
   * admin API's {@code /metrics} on {@code port}.
   */
  static double batchRetries(int port, String id) throws IOException, InterruptedException {
    Matcher m = RETRIES.matcher(adminGet(port, "/metrics"));
    double sum = 0;
    while (m.find()) {
      if (m.group(1).contains("pipeline=\"" + id + "\"")) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static boolean isListening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Lines of every published (not hidden) output file. */
  static List<String> outputLines(Path dir) throws IOException {
    List<String> lines = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return lines;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList()) {
        lines.addAll(Files.readAllLines(f));
      }
    }
    return lines;
  }
}
