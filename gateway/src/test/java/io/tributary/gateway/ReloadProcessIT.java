package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged gateway as a process with {@code --log-format json}: every line it writes is a JSON
 * object; SIGHUP reloads the configuration (a pipeline added to the file starts; an invalid file is
 * refused and the pipelines keep running); SIGTERM still exits 0.
 */
class ReloadProcessIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;

  private String pipeline(String id) {
    return """
          - id: %s
            settings: { batch-interval: 100ms }
            checkpoint: %s
            source: { type: test-sequence, count: 5, prefix: %s- }
            sinks: [ { type: files, path: %s } ]
        """
        .formatted(id, tmp.resolve("cp-" + id), id, tmp.resolve("out-" + id));
  }

  private static List<JsonNode> events(Path log) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      if (!line.isBlank()) {
        out.add(JSON.readTree(line)); // throws if a line is not JSON
      }
    }
    return out;
  }

  private static boolean has(Path log, String event) throws Exception {
    return events(log).stream()
        .anyMatch(e -> e.has("event") && e.get("event").asText().equals(event));
  }

  private static void signal(Process p, String sig) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  @Test
  void sighupReloadsAndEveryLogLineIsJson() throws Exception {
    Path file = tmp.resolve("gateway.yaml");
    String admin = "admin: { host: 127.0.0.1, port: 0 }\n";
    Files.writeString(file, "pipelines:\n" + pipeline("first") + admin);
    Path jar = Path.of(System.getProperty("gateway.jar", "target/missing.jar"));
    assertThat(jar).isRegularFile();
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-cp",
            jar + java.io.File.pathSeparator + System.getProperty("gateway.test-classes"),
            TributaryCli.class.getName(),
            "run",
            "--config",
            file.toString(),
            "--log-format",
            "json");
    Path log = tmp.resolve("gateway.log");
    Process p =
        new ProcessBuilder(cmd)
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> has(log, "admin_listening") || !p.isAlive());
      String address =
          events(log).stream()
              .filter(e -> e.path("event").asText().equals("admin_listening"))
              .findFirst()
              .orElseThrow()
              .get("address")
              .asText();
      HttpClient http = HttpClient.newHttpClient();
      HttpRequest list = HttpRequest.newBuilder(URI.create(address + "pipelines")).build();

      Files.writeString(file, "pipelines:\n" + pipeline("first") + pipeline("second") + admin);
      signal(p, "HUP");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  JSON.readTree(http.send(list, HttpResponse.BodyHandlers.ofString()).body())
                      .findValuesAsText("id")
                      .equals(List.of("first", "second")));
      await().atMost(Duration.ofSeconds(30)).until(() -> has(log, "config_reloaded"));

      Files.writeString(file, "pipelines:\n  - id: 3\n");
      signal(p, "HUP");
      await().atMost(Duration.ofSeconds(30)).until(() -> has(log, "reload_refused"));
      JsonNode after = JSON.readTree(http.send(list, HttpResponse.BodyHandlers.ofString()).body());
      assertThat(after.findValuesAsText("id")).containsExactly("first", "second");
      assertThat(after.findValuesAsText("state")).containsOnly("RUNNING");

      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(Files.readString(log)).isZero();
      List<JsonNode> all = events(log);
      assertThat(all).isNotEmpty();
      assertThat(all).allSatisfy(e -> assertThat(e.has("level")).isTrue());
      assertThat(all)
          .anySatisfy(
              e -> {
                assertThat(e.path("event").asText()).isEqualTo("pipeline_started");
                assertThat(e.path("pipeline").asText()).isEqualTo("second");
              });
    } finally {
      p.destroyForcibly();
    }
  }
}
