package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.gateway.internal.SystemdNotify;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * systemd's notify protocol against a real AF_UNIX datagram receiver ({@code socat UNIX-RECV}, and
 * {@code ABSTRACT-RECV} for an abstract socket name), with the packaged gateway as a process
 * started as systemd starts a {@code Type=notify} unit ({@code NOTIFY_SOCKET}, {@code
 * WATCHDOG_USEC}): READY=1 comes only once the admin endpoint answers healthy, WATCHDOG=1 follows,
 * SIGHUP brackets a reload with RELOADING=1 and READY=1, SIGTERM sends STOPPING=1 and the process
 * exits 0. (systemd itself does not run in this environment: no systemd as PID 1. {@code
 * DistributionIT} checks the unit with {@code systemd-analyze verify}.)
 */
class SystemdNotifyIT {
  private static final Path SOCAT = Path.of("/usr/bin/socat");
  @TempDir Path tmp;
  private final List<Process> started = new ArrayList<>();
  private final List<String> received = new CopyOnWriteArrayList<>();

  @BeforeEach
  void needsSocat() {
    Assumptions.assumeTrue(
        Files.isExecutable(SOCAT), "needs socat (.ci/run installs it for the socket tests)");
  }

  @AfterEach
  void stopProcesses() throws InterruptedException {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Starts socat receiving datagrams on {@code address}; each line it prints goes to {@link
   * #received}, and {@code onLine} runs on the reader thread as it arrives.
   */
  private void receive(String address, java.util.function.Consumer<String> onLine)
      throws Exception {
    Process socat =
        new ProcessBuilder(SOCAT.toString(), "-u", address, "STDOUT")
            .redirectError(tmp.resolve("socat.err").toFile())
            .start();
    started.add(socat);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(socat.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  received.add(line);
                  onLine.accept(line);
                }
              } catch (java.io.IOException e) {
                received.add("reader failed: " + e);
              }
            },
            "socat-reader");
    reader.setDaemon(true);
    reader.start();
  }

  private static Path jar() {
    Path jar = Path.of(System.getProperty("gateway.jar", "target/missing.jar"));
    assertThat(jar).as("the packaged gateway").isRegularFile();
    return jar;
  }

  @Test
  void readyOnlyWhenHealthyThenWatchdogReloadAndStoppingOnSigterm() throws Exception {
    Path sock = tmp.resolve("notify.sock");
    HttpClient http = HttpClient.newHttpClient();
    List<String> healthAtReady = new CopyOnWriteArrayList<>();
    Pattern admin = Pattern.compile("admin http://127\\.0\\.0\\.1:(\\d+)/");
    receive(
        "UNIX-RECV:" + sock,
        line -> {
          // The first STATUS line comes in READY=1's datagram: ask /health at that moment.
          Matcher m = admin.matcher(line);
          if (received.size() >= 2
              && received.get(received.size() - 2).equals("READY=1")
              && healthAtReady.isEmpty()
              && m.find()) {
            try {
              HttpResponse<String> h =
                  http.send(
                      HttpRequest.newBuilder(
                              URI.create("http://127.0.0.1:" + m.group(1) + "/health"))
                          .build(),
                      HttpResponse.BodyHandlers.ofString());
              healthAtReady.add(h.statusCode() + " " + h.body());
            } catch (Exception e) {
              healthAtReady.add("no answer: " + e);
            }
          }
        });
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(sock));
    Path cfg = tmp.resolve("tributary.yaml");
    Files.writeString(
        cfg,
        """
        pipelines:
          - id: lines
            checkpoint: data/checkpoint
            source: { type: socket, mode: server, host: 127.0.0.1, port: 0 }
            sinks: [ { type: files, path: data/out } ]
        admin: { host: 127.0.0.1, port: 0 }
        """);
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-jar",
                jar().toString(),
                "run",
                "--config",
                cfg.toString())
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("gateway.log").toFile());
    pb.environment().put("NOTIFY_SOCKET", sock.toString());
    pb.environment().put("WATCHDOG_USEC", "600000"); // WatchdogSec=0.6s: pings every 300 ms
    Process gw = pb.start();
    started.add(gw);
    String log = "see " + tmp.resolve("gateway.log");

    await().atMost(Duration.ofSeconds(90)).until(() -> !healthAtReady.isEmpty());
    assertThat(received.get(0)).as("nothing before READY=1; " + log).isEqualTo("READY=1");
    assertThat(healthAtReady.get(0))
        .as("/health when READY=1 arrived")
        .startsWith("200 ")
        .contains("\"UP\"");
    assertThat(received.get(1)).startsWith("STATUS=1 pipelines, 1 RUNNING; admin http://");

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> received.stream().filter("WATCHDOG=1"::equals).count() >= 3);

    Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(gw.pid())).inheritIO().start();
    assertThat(hup.waitFor(10, TimeUnit.SECONDS)).isTrue();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                received.contains("RELOADING=1")
                    && received.lastIndexOf("READY=1") > received.indexOf("RELOADING=1"));
    int reloading = received.indexOf("RELOADING=1");
    assertThat(reloading).as(log).isPositive();
    assertThat(received.get(reloading + 1)).matches("MONOTONIC_USEC=\\d+");
    assertThat(received.get(reloading + 2)).startsWith("STATUS=reloading ");

    gw.destroy(); // SIGTERM
    assertThat(gw.waitFor(60, TimeUnit.SECONDS)).as(log).isTrue();
    assertThat(gw.exitValue()).as(log).isZero();
    await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("STOPPING=1"));
    int stopping = received.indexOf("STOPPING=1");
    assertThat(stopping).isGreaterThan(received.lastIndexOf("READY=1"));
    assertThat(received.get(stopping + 1)).isEqualTo("STATUS=stopping: draining 1 pipelines");
    assertThat(received).noneMatch(l -> l.startsWith("reader failed"));
  }

  @Test
  void sendsToAnAbstractSocketNameAndIsSilentWithoutNotifySocket() throws Exception {
    String name = "tributary-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    receive("ABSTRACT-RECV:" + name, line -> {});
    SystemdNotify n =
        SystemdNotify.fromEnvironment(
            Map.of(
                "NOTIFY_SOCKET",
                "@" + name,
                "WATCHDOG_USEC",
                "10000000",
                "WATCHDOG_PID",
                Long.toString(ProcessHandle.current().pid())));
    assertThat(n.enabled()).isTrue();
    assertThat(n.watchdogIntervalMillis()).isEqualTo(5000);
    // socat binds asynchronously: send until the first datagram gets through.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              n.status("probe");
              return received.contains("STATUS=probe");
            });
    n.ready("up\nwith a newline");
    n.watchdog();
    await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("WATCHDOG=1"));
    int ready = received.indexOf("READY=1");
    assertThat(received.get(ready + 1)).isEqualTo("STATUS=up with a newline");
    n.close();

    SystemdNotify none = SystemdNotify.fromEnvironment(Map.of());
    assertThat(none.enabled()).isFalse();
    assertThat(none.watchdogIntervalMillis()).isZero();
    SystemdNotify otherPid =
        SystemdNotify.fromEnvironment(
            Map.of("NOTIFY_SOCKET", "@" + name, "WATCHDOG_USEC", "1000", "WATCHDOG_PID", "1"));
    assertThat(otherPid.watchdogIntervalMillis()).as("the watchdog is another process's").isZero();
    assertThat(SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", "vsock:2:1234")).enabled())
        .isFalse();
  }
}
