package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution archive of {@code mvn package}: unpacked into a temporary directory, its {@code
 * bin/tributary} validates the shipped configuration and runs a gateway that answers {@code
 * /health} and stops cleanly on SIGTERM; its systemd unit passes {@code systemd-analyze verify}
 * where systemd is installed.
 */
class DistributionIT {
  private static final Pattern ADMIN =
      Pattern.compile("event=admin_listening address=http://127\\.0\\.0\\.1:(\\d+)/");

  @TempDir Path tmp;

  private Path unpack() throws Exception {
    Path archive = Path.of(System.getProperty("gateway.dist", "target/missing-dist.tar.gz"));
    assertThat(archive).as("mvn package builds the distribution archive").isRegularFile();
    Process tar =
        new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", tmp.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(tar.getInputStream().readAllBytes());
    assertThat(tar.waitFor()).as(out).isZero();
    try (Stream<Path> s = Files.list(tmp)) {
      List<Path> dirs = s.filter(Files::isDirectory).toList();
      assertThat(dirs).hasSize(1);
      return dirs.get(0);
    }
  }

  private Process run(Path home, Path log, String... args) throws Exception {
    return runWith(home, log, "-Xmx256m", args);
  }

  private Process runWith(Path home, Path log, String javaOpts, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(home.resolve("bin/tributary").toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("TRIBUTARY_JAVA_OPTS", javaOpts);
    return pb.start();
  }

  @Test
  void theUnpackedArchiveRunsTheGateway() throws Exception {
    Path home = unpack();
    assertThat(home.resolve("bin/tributary")).isExecutable();
    assertThat(home.resolve("conf/tributary.yaml")).isRegularFile();
    assertThat(home.resolve("systemd/tributary.service")).isRegularFile();
    assertThat(home.resolve("Containerfile")).isRegularFile();
    try (Stream<Path> lib = Files.list(home.resolve("lib"))) {
      assertThat(lib.map(p -> p.getFileName().toString()).toList())
          .anyMatch(n -> n.startsWith("tributary-gateway-"))
          .anyMatch(n -> n.startsWith("tributary-core-"))
          .anyMatch(n -> n.startsWith("netty-codec-http-"))
          .as("connectors, their clients and the SDK are plugins, not on the gateway's class path")
          .noneMatch(n -> n.startsWith("tributary-connector-"))
          .noneMatch(n -> n.startsWith("tributary-custom-receiver-sdk"))
          .noneMatch(n -> n.startsWith("kafka-clients-"))
          .noneMatch(n -> n.startsWith("hadoop-"));
    }
    for (String c : List.of("socket", "kafka", "file", "kinesis", "flume")) {
      Path plugin = home.resolve("plugins/tributary-connector-" + c);
      try (Stream<Path> jars = Files.list(plugin)) {
        assertThat(jars.map(p -> p.getFileName().toString()).toList())
            .as(plugin.toString())
            .anyMatch(n -> n.startsWith("tributary-connector-" + c + "-"))
            .as("the gateway provides core to plugins")
            .noneMatch(n -> n.startsWith("tributary-core-"));
      }
    }
    Path pluginsLog = tmp.resolve("plugins.log");
    Process plugins = run(home, pluginsLog, "plugins");
    assertThat(plugins.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String listed = Files.readString(pluginsLog);
    assertThat(plugins.exitValue()).as(listed).isZero();
    assertThat(listed)
        .containsPattern("plugin path: \\[/.*/plugins\\]")
        .contains("    sources: kafka, kafka-group")
        .contains("    sinks: kafka, kafka-at-least-once")
        .contains("    sources: socket")
        .contains("duplicates:\n  (none)");

    Path validateLog = tmp.resolve("validate.log");
    Process validate =
        run(
            home,
            validateLog,
            "validate",
            "--config",
            home.resolve("conf/tributary.yaml").toString());
    assertThat(validate.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(validate.exitValue()).as(Files.readString(validateLog)).isZero();

    // The shipped configuration with free ports (9999 and 9090 may be taken on a build machine).
    String conf =
        Files.readString(home.resolve("conf/tributary.yaml"))
            .replace("port: 9999", "port: 0")
            .replace("port: 9090", "port: 0");
    assertThat(conf).doesNotContain("port: 9999").doesNotContain("port: 9090");
    Path test = tmp.resolve("test.yaml");
    Files.writeString(test, conf);
    Path log = tmp.resolve("run.log");
    Process gw = run(home, log, "run", "--config", test.toString());
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> ADMIN.matcher(Files.readString(log)).find() || !gw.isAlive());
      Matcher m = ADMIN.matcher(Files.readString(log));
      assertThat(m.find()).as(Files.readString(log)).isTrue();
      HttpResponse<String> health =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.group(1) + "/health"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(Files.readString(log))
          .as("the socket source comes from its plugin")
          .contains("event=plugin_loaded plugin=tributary-connector-socket")
          .as("the plugins the configuration does not use are not loaded")
          .doesNotContain("event=plugin_loaded plugin=tributary-connector-kafka")
          .doesNotContain("event=plugin_loaded plugin=tributary-connector-file")
          .doesNotContain("event=plugin_loaded plugin=tributary-connector-kinesis")
          .doesNotContain("event=plugin_loaded plugin=tributary-connector-flume");
      gw.destroy(); // SIGTERM: graceful stop, exit 0
      assertThat(gw.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(gw.exitValue()).as(Files.readString(log)).isZero();
      assertThat(tmp.resolve("data/checkpoint/lines/metadata"))
          .as("relative paths resolve against the working directory")
          .isRegularFile();
    } finally {
      gw.destroyForcibly();
    }
  }

  /**
   * The launcher's default JVM options (serial collector, 32 MiB initial heap) apply unless {@code
   * TRIBUTARY_JAVA_OPTS} chooses otherwise; a collector named there replaces the default one
   * instead of clashing with it ("Multiple garbage collectors selected").
   */
  @Test
  void theLauncherDefaultsGiveWayToTributaryJavaOpts() throws Exception {
    Path home = unpack();
    Path defaultsLog = tmp.resolve("defaults.log");
    Process defaults =
        runWith(home, defaultsLog, "-Xmx256m -XX:+PrintCommandLineFlags", "--version");
    assertThat(defaults.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String flags = Files.readString(defaultsLog);
    assertThat(defaults.exitValue()).as(flags).isZero();
    assertThat(flags)
        .contains("-XX:+UseSerialGC")
        .contains("-XX:InitialHeapSize=33554432")
        .contains("-XX:MaxHeapSize=268435456")
        .contains("tributary ");

    Path chosenLog = tmp.resolve("chosen.log");
    Process chosen =
        runWith(
            home,
            chosenLog,
            "-Xmx256m -XX:+UseG1GC -Xms64m -XX:+PrintCommandLineFlags",
            "--version");
    assertThat(chosen.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String chosenFlags = Files.readString(chosenLog);
    assertThat(chosen.exitValue()).as(chosenFlags).isZero();
    assertThat(chosenFlags)
        .contains("-XX:+UseG1GC")
        .doesNotContain("UseSerialGC")
        .contains("-XX:InitialHeapSize=67108864");
  }

  @Test
  void theSystemdUnitVerifies() throws Exception {
    Path analyze = Path.of("/usr/bin/systemd-analyze");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isExecutable(analyze), "systemd-analyze is not installed");
    Path home = unpack();
    String unit = Files.readString(home.resolve("systemd/tributary.service"));
    assertThat(unit)
        .contains("Restart=on-failure")
        .contains("KillSignal=SIGTERM")
        .contains("User=tributary")
        .contains("ExecReload=/bin/kill -HUP $MAINPID")
        .contains("Type=notify")
        .contains("NotifyAccess=main")
        .containsPattern("WatchdogSec=\\d+")
        .containsPattern("TimeoutStopSec=\\d+");
    // verify checks that ExecStart's program exists: point it at the unpacked archive.
    Path copy = tmp.resolve("tributary.service");
    Files.writeString(copy, unit.replace("/opt/tributary", home.toString()));
    Process p =
        new ProcessBuilder(analyze.toString(), "verify", copy.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).doesNotContain("tributary.service:");
  }
}
