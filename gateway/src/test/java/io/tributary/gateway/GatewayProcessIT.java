package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.checkpoint.LocalCheckpointStorage;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged gateway ({@code java -jar target/tributary-gateway-*.jar}, with {@code target/lib})
 * as a separate process: real exit codes, SIGTERM draining what was received, relative paths
 * resolved against the working directory.
 */
class GatewayProcessIT {
  private static final Pattern ADMIN =
      Pattern.compile("event=admin_listening address=http://127\\.0\\.0\\.1:(\\d+)/");
  private static final Pattern SOCKET =
      Pattern.compile("event=listening pipeline=\\S+ source=source address=\\S*:(\\d+)");
  private static final Pattern STORED =
      Pattern.compile(
          "(?m)^tributary_receiver_records_stored_total\\{[^}]*pipeline=\"lines\"[^}]*\\} (\\S+)$");

  @TempDir Path tmp;
  private final List<Process> started = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  /** The heap of the gateways this test starts. */
  private String heap = "-Xmx256m";

  @AfterEach
  void killLeftovers() throws InterruptedException {
    for (Process p : started) {
      if (p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  /** A finished or running gateway process with its combined stdout/stderr in a file. */
  private record Run(Process process, Path log) {
    String output() throws IOException {
      return Files.readString(log);
    }

    int awaitExit() throws Exception {
      assertThat(process.waitFor(90, TimeUnit.SECONDS))
          .as("exited; output:\n%s", output())
          .isTrue();
      return process.exitValue();
    }

    int port(Pattern p) throws IOException {
      Matcher m = p.matcher(output());
      return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }
  }

  private static Path jar() {
    Path jar = Path.of(System.getProperty("gateway.jar", "target/missing.jar"));
    assertThat(jar)
        .as("the packaged gateway (mvn verify packages it before integration tests)")
        .isRegularFile();
    return jar;
  }

  private Run start(String logName, boolean withTestFactories, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add(heap);
    if (withTestFactories) {
      // The jar's manifest Class-Path (lib/...) still applies; test-classes adds the test-only
      // factories.
      cmd.add("-cp");
      cmd.add(jar() + java.io.File.pathSeparator + System.getProperty("gateway.test-classes"));
      cmd.add(TributaryCli.class.getName());
    } else {
      cmd.add("-jar");
      cmd.add(jar().toString());
    }
    cmd.addAll(List.of(args));
    Path log = tmp.resolve(logName);
    Process p =
        new ProcessBuilder(cmd)
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    started.add(p);
    return new Run(p, log);
  }

  private Run cli(String... args) throws Exception {
    Run r = start("cli-" + started.size() + ".log", false, args);
    r.awaitExit();
    return r;
  }

  private String get(int port, String path) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private List<String> outputLines() throws IOException {
    Path dir = tmp.resolve("data/out");
    List<String> lines = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.list(dir)) {
        for (Path f :
            s.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList()) {
          lines.addAll(Files.readAllLines(f));
        }
      }
    }
    return lines;
  }

  private static void send(int port, int from, int until) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < until; i++) {
      sb.append(String.format("line-%05d%n", i));
    }
    try (Socket s = new Socket("127.0.0.1", port);
        OutputStream o = s.getOutputStream()) {
      o.write(sb.toString().getBytes(StandardCharsets.UTF_8));
      o.flush();
      s.shutdownOutput();
    }
  }

  /**
   * One run: start, send lines {@code [from, until)}, wait until the receiver stored them all (no
   * batch has run: the batch interval is an hour), SIGTERM, exit code 0. The final batch is written
   * only by the graceful drain.
   */
  private void runOnceAndTerminate(Path config, String logName, int from, int until)
      throws Exception {
    Run gw = start(logName, false, "run", "--config", config.toString());
    await().atMost(Duration.ofSeconds(60)).until(() -> gw.port(ADMIN) > 0 && gw.port(SOCKET) > 0);
    int admin = gw.port(ADMIN);
    assertThat(get(admin, "/health")).contains("UP");
    int before = outputLines().size();
    send(gw.port(SOCKET), from, until);
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () -> {
              Matcher m = STORED.matcher(get(admin, "/metrics"));
              return m.find() && Double.parseDouble(m.group(1)) >= until - from;
            });
    assertThat(outputLines()).as("nothing written before the drain").hasSize(before);
    String status = get(admin, "/status");
    assertThat(status).contains("\"state\":\"RUNNING\"").contains("\"recordsOut\":0");
    if (from == 0) {
      assertThat(status).contains("\"lastCommittedBatch\":-1");
    }

    gw.process().destroy(); // SIGTERM
    assertThat(gw.awaitExit()).as("exit code after SIGTERM; output:\n%s", gw.output()).isZero();
    assertThat(gw.output()).contains("event=pipeline_stopped pipeline=lines");
  }

  @Test
  void sigtermDrainsEveryReceivedLineExactlyOnceAndExitsZero() throws Exception {
    Path config = tmp.resolve("gateway.yaml");
    Files.writeString(
        config,
        """
        pipelines:
          - id: lines
            settings: { batch-interval: 1h, graceful-stop-timeout: 60s, wal: { enabled: true } }
            checkpoint: ./data/checkpoint/lines
            source: { type: socket, mode: server, host: 127.0.0.1, port: 0, framing: lines }
            sinks:
              - { type: files, path: ./data/out, max-file-size: 4kb }
        admin: { host: 127.0.0.1, port: 0 }
        """);
    runOnceAndTerminate(config, "run-1.log", 0, 2000);
    assertThat(Files.isDirectory(tmp.resolve("data/checkpoint/lines/commits")))
        .as("relative to the working dir")
        .isTrue();
    // Again on the same checkpoint: the first run's lines are not written again.
    runOnceAndTerminate(config, "run-2.log", 2000, 3000);

    List<String> lines = outputLines();
    assertThat(new HashSet<>(lines)).as("no duplicates").hasSize(lines.size());
    assertThat(lines).hasSize(3000);
    for (int i = 0; i < 3000; i++) {
      assertThat(lines.get(i)).isEqualTo(String.format("line-%05d", i));
    }
  }

  @Test
  void aFailingPipelineStopsTheOthersAndExitsOne() throws Exception {
    Path config = tmp.resolve("failing.yaml");
    Files.writeString(
        config,
        """
        on-pipeline-failure: stop-gateway
        pipelines:
          - id: good
            settings: { batch-interval: 50ms }
            checkpoint: ./data/checkpoint/good
            source: { type: test-sequence, count: 100 }
            sinks: [ { type: files, path: ./data/out } ]
          - id: bad
            settings: { batch-interval: 50ms }
            checkpoint: ./data/checkpoint/bad
            source: { type: test-sequence, count: 100 }
            sinks: [ { type: test-failing, message: disk on fire } ]
        """);
    Run gw = start("failing.log", true, "run", "--config", config.toString());
    assertThat(gw.awaitExit()).as("output:\n%s", gw.output()).isEqualTo(TributaryCli.FAILED);
    assertThat(gw.output())
        .contains("event=pipeline_failed pipeline=bad")
        .contains("disk on fire")
        .contains("event=pipeline_stopped pipeline=good");
    List<String> good = outputLines();
    assertThat(new HashSet<>(good)).hasSize(good.size());
  }

  /**
   * A real OutOfMemoryError on a pipeline thread: the files source reads a 96 MB file whole into a
   * 48 MB heap. The process logs event=fatal_error and exits with 1 at once, while the other
   * pipeline (an endless sequence) is still running. Before, the failed pipeline showed FAILED and
   * the process never exited.
   */
  @Test
  void anOutOfMemoryErrorOnAPipelineThreadEndsTheProcessWithExitCodeOne() throws Exception {
    Path in = Files.createDirectories(tmp.resolve("in"));
    byte[] mb = new byte[1 << 20];
    java.util.Arrays.fill(mb, (byte) 'x');
    Path big = tmp.resolve("big.txt");
    try (OutputStream o = Files.newOutputStream(big)) {
      for (int i = 0; i < 96; i++) {
        o.write(mb);
      }
    }
    Files.move(big, in.resolve("big.txt"));
    Path config = tmp.resolve("oom.yaml");
    Files.writeString(
        config,
        """
        pipelines:
          - id: hungry
            settings: { batch-interval: 100ms }
            checkpoint: ./data/checkpoint/hungry
            source:
              type: files
              paths: ["%s"]
              include-existing: true
              stable-for: 0s
              format: whole-file
              max-file-size: 512mb
            sinks: [ { type: files, path: ./data/out } ]
          - id: steady
            settings: { batch-interval: 100ms }
            checkpoint: ./data/checkpoint/steady
            source: { type: test-sequence, count: 1000000000 }
            sinks: [ { type: files, path: ./data/out-steady } ]
        """
            .formatted(in.toUri()));
    heap = "-Xmx48m";
    Run gw = start("oom.log", true, "run", "--config", config.toString());
    assertThat(gw.awaitExit()).as("output:\n%s", gw.output()).isEqualTo(TributaryCli.FAILED);
    assertThat(gw.output()).contains("event=fatal_error").contains("OutOfMemoryError");
  }

  @Test
  void sigtermDuringStartStopsWhatStartedAndExitsZero() throws Exception {
    Path config = tmp.resolve("slow.yaml");
    Path gate = tmp.resolve("slow-open-gate");
    Files.writeString(
        config,
        """
        pipelines:
          - id: slow
            checkpoint: ./data/checkpoint/slow
            source: { type: test-sequence, count: 50, open-gate: "%s" }
            sinks: [ { type: files, path: ./data/out } ]
          - id: never
            checkpoint: ./data/checkpoint/never
            source: { type: test-sequence, count: 50 }
            sinks: [ { type: files, path: ./data/out-never } ]
        """
            .formatted(gate));
    Run gw = start("slow.log", true, "run", "--config", config.toString());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> gw.output().contains("event=test_source_opening pipeline=slow"));
    gw.process().destroy(); // SIGTERM while the first pipeline is still starting
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> gw.output().contains("event=stop_requested"));
    Files.writeString(gate, "open"); // now let the first pipeline finish starting
    assertThat(gw.awaitExit()).as("exit code; output:\n%s", gw.output()).isZero();
    assertThat(gw.output())
        .contains("event=pipeline_started pipeline=slow")
        .contains("event=start_abandoned reason=stop_requested started=1")
        .contains("event=pipeline_stopped pipeline=slow")
        .doesNotContain("pipeline=never");
    assertThat(tmp.resolve("data/checkpoint/never")).doesNotExist();
  }

  /**
   * README's first command, {@code ./tributary run}, as written: the script at the repository root
   * (the jar is built by now, so it does not rebuild) runs the embedded default config, which
   * listens on the fixed ports 127.0.0.1:9999 (lines) and 9090 (admin) and writes under {@code
   * ./data} of the working directory.
   */
  @Test
  void readmeFirstCommandRunsTheEmbeddedDefaultEndToEnd() throws Exception {
    Path script =
        Path.of(System.getProperty("basedir", "."))
            .toAbsolutePath()
            .getParent()
            .resolve("tributary");
    assertThat(script).as("the script README.md names").isRegularFile();
    for (int port : new int[] {9999, 9090}) {
      try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
        probe.bind(new java.net.InetSocketAddress("127.0.0.1", port));
      } catch (IOException e) {
        throw new AssertionError(
            "127.0.0.1:"
                + port
                + " is in use: the embedded default config needs it; stop what listens there",
            e);
      }
    }
    Path log = tmp.resolve("readme-run.log");
    Process p =
        new ProcessBuilder("bash", script.toString(), "run")
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    started.add(p);
    await()
        .atMost(Duration.ofSeconds(180))
        .ignoreExceptions()
        .until(() -> get(9090, "/health").contains("UP"));
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .untilAsserted(() -> send(9999, 0, 500));
    await().atMost(Duration.ofSeconds(60)).until(() -> outputLines().size() >= 500);
    assertThat(get(9090, "/status")).contains("\"id\":\"lines\"").contains("\"state\":\"RUNNING\"");
    p.destroy(); // SIGTERM to java: the script execs it
    assertThat(p.waitFor(90, TimeUnit.SECONDS))
        .as("exited; output:\n%s", Files.readString(log))
        .isTrue();
    assertThat(p.exitValue())
        .as("exit code after SIGTERM; output:\n%s", Files.readString(log))
        .isZero();
    List<String> lines = outputLines();
    assertThat(lines).hasSize(500);
    for (int i = 0; i < 500; i++) {
      assertThat(lines.get(i)).isEqualTo(String.format("line-%05d", i));
    }
    assertThat(Files.readString(log))
        .contains("line-00000"); // the console sink prints the first records
    assertThat(tmp.resolve("data/checkpoint/lines/commits")).isDirectory();
  }

  @Test
  void classPathHoldsNoConnectorAndEachConnectorIsAPlugin() throws Exception {
    String classPath;
    try (java.util.jar.JarFile jar = new java.util.jar.JarFile(jar().toFile())) {
      classPath = jar.getManifest().getMainAttributes().getValue("Class-Path");
    }
    List<String> entries = List.of(classPath.trim().split("\\s+"));
    for (String entry : entries) {
      assertThat(jar().resolveSibling(entry))
          .as("manifest entry %s is in lib/", entry)
          .isRegularFile();
    }
    assertThat(entries)
        .as("connectors, their clients and the SDK are plugins (plugins/), not on the class path")
        .noneMatch(e -> e.startsWith("lib/tributary-connector-"))
        .noneMatch(e -> e.startsWith("lib/tributary-custom-receiver-sdk-"))
        .noneMatch(e -> e.matches("lib/(kafka-|hadoop-|flume-|avro-|kinesis-|aws-).*"))
        .as("the SDK's test kit libraries are optional dependencies and never ship")
        .noneMatch(
            e ->
                e.matches(
                    "lib/(junit-|opentest4j-|apiguardian-|assertj-|awaitility-|hamcrest-).*"));
    Path plugins = jar().resolveSibling("plugins");
    for (String c : List.of("socket", "kafka", "file", "kinesis", "flume")) {
      try (java.util.stream.Stream<Path> jars =
          Files.list(plugins.resolve("tributary-connector-" + c))) {
        assertThat(jars.map(p -> p.getFileName().toString()).toList())
            .anyMatch(n -> n.startsWith("tributary-connector-" + c + "-"))
            .noneMatch(n -> n.startsWith("tributary-core-"))
            .noneMatch(n -> n.matches("(junit-|assertj-|awaitility-).*"));
      }
    }
    Run r = start("plugins.log", false, "plugins");
    assertThat(r.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(r.process().exitValue()).as(r.output()).isZero();
    assertThat(r.output())
        .contains("tributary-connector-socket")
        .contains("    sources: socket")
        .contains("duplicates:\n  (none)");
  }

  @Test
  void commandLineExitCodes() throws Exception {
    Path good = tmp.resolve("good.yaml");
    Files.writeString(
        good,
        """
        pipelines:
          - id: lines
            checkpoint: ./data/checkpoint/lines
            source: { type: socket, mode: server, host: 127.0.0.1, port: 0 }
            sinks: [ { type: files, path: ./data/out } ]
        """);
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, "pipelines:\n  - id: x\n    source: { type: nope }\n    sinks: []\n");

    Run ok = cli("validate", "--config", good.toString());
    assertThat(ok.process().exitValue()).isZero();
    assertThat(ok.output()).contains("OK: 1 pipeline in " + good);

    Run embedded = cli("validate");
    assertThat(embedded.process().exitValue()).isZero();
    assertThat(embedded.output()).contains("OK: 1 pipeline in tributary-default.yaml (embedded)");

    Run invalid = cli("validate", "--config", bad.toString());
    assertThat(invalid.process().exitValue()).isEqualTo(TributaryCli.INVALID);
    assertThat(invalid.output())
        .contains(bad + ":2: Missing required key pipelines[0].checkpoint")
        .contains(bad + ":3: Invalid value nope for pipelines[0].source.type")
        .contains(bad + ":4: Invalid value [] for pipelines[0].sinks")
        .contains("3 problem(s) found");

    assertThat(cli("run", "--config", bad.toString()).process().exitValue())
        .isEqualTo(TributaryCli.INVALID);
    assertThat(cli("run", "--config", tmp.resolve("missing.yaml").toString()).process().exitValue())
        .isEqualTo(TributaryCli.INVALID);
    assertThat(cli("run", "--no-such-option").process().exitValue())
        .isEqualTo(TributaryCli.INVALID);

    Run version = cli("version");
    assertThat(version.process().exitValue()).isZero();
    assertThat(version.output()).startsWith("tributary 0.1.0-SNAPSHOT (Java ");

    Run help = cli("run", "--help");
    assertThat(help.process().exitValue()).isZero();
    assertThat(help.output()).contains("Exit codes:").contains("3   a checkpoint is incompatible");

    // A checkpoint that belongs to another pipeline: refused before anything starts.
    new LocalCheckpointStorage(tmp.resolve("data/checkpoint/lines"))
        .writeAtomically(
            "metadata",
            "{\"version\":1,\"pipelineId\":\"other\",\"configFingerprint\":\"x\",\"createdMs\":0}"
                .getBytes(StandardCharsets.UTF_8));
    Run refused = cli("run", "--config", good.toString());
    assertThat(refused.process().exitValue())
        .as(refused.output())
        .isEqualTo(TributaryCli.CHECKPOINT);
    assertThat(refused.output()).contains("belongs to pipeline 'other'");
  }
}
