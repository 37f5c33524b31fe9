package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.checkpoint.LocalCheckpointStorage;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.ServerSocket;
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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway in-process with the real socket connector: data path, admin endpoints, CLI exit
 * codes.
 */
class GatewayIT {
  @TempDir Path tmp;

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private String config(int port, String extra) {
    return """
        pipelines:
          - id: web
            settings: { batch-interval: 100ms }
            checkpoint: %s
            source: { type: socket, mode: server, host: 127.0.0.1, port: %d }
            transforms:
              - { type: filter, not-empty: true }
              - { type: map, op: upper-case }
            sinks:
              - { type: files, path: %s }
        %s
        """
        .formatted(tmp.resolve("ckpt"), port, tmp.resolve("out"), extra);
  }

  private List<String> output() throws Exception {
    Path out = tmp.resolve("out");
    List<String> lines = new ArrayList<>();
    if (!Files.isDirectory(out)) {
      return lines;
    }
    try (Stream<Path> s = Files.list(out)) {
      for (Path f : s.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList()) {
        lines.addAll(Files.readAllLines(f));
      }
    }
    return lines;
  }

  @Test
  void runsPipelinesAndServesAdminEndpoints() throws Exception {
    int port = freePort();
    GatewayConfig cfg =
        GatewayConfig.parse(new StringReader(config(port, "admin: { port: 0 }")), "it.yaml");
    try (Gateway gw = new Gateway(cfg)) {
      gw.start();
      // Receivers start on their supervisor thread: wait until the socket server listens.
      await()
          .atMost(Duration.ofSeconds(20))
          .ignoreExceptions()
          .until(
              () -> {
                new Socket("127.0.0.1", port).close();
                return true;
              });
      try (Socket s = new Socket("127.0.0.1", port);
          OutputStream o = s.getOutputStream()) {
        o.write("alpha\n\nbeta\n".getBytes(StandardCharsets.UTF_8));
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> output().size() == 2);
      assertThat(output()).containsExactly("ALPHA", "BETA");

      HttpClient http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + gw.adminPort();
      HttpResponse<String> health =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/health")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).contains("UP");
      String status =
          http.send(
                  HttpRequest.newBuilder(URI.create(base + "/status")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(status)
          .contains("\"id\":\"web\"")
          .contains("\"state\":\"RUNNING\"")
          .contains("\"recordsIn\":3")
          .contains("\"recordsOut\":2");
      String metrics =
          http.send(
                  HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics)
          .contains("tributary_records_in_total{pipeline=\"web\"")
          .contains("tributary_batch_processing_time_seconds")
          .contains("tributary_wal_fsync");
      String page =
          http.send(
                  HttpRequest.newBuilder(URI.create(base + "/")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(page).contains("<table id=\"pipelines\">").contains("web").contains("RUNNING");
    }
  }

  @Test
  void cliExitCodes() throws Exception {
    Path good = tmp.resolve("good.yaml");
    Files.writeString(good, config(freePort(), ""));
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, "pipelines: 3\n");
    assertThat(TributaryCli.execute("validate", "--config", good.toString()))
        .isEqualTo(TributaryCli.OK);
    assertThat(TributaryCli.execute("validate", "--config", bad.toString()))
        .isEqualTo(TributaryCli.INVALID);
    assertThat(TributaryCli.execute("validate", "--config", tmp.resolve("missing.yaml").toString()))
        .isEqualTo(TributaryCli.INVALID);
    assertThat(TributaryCli.execute("version")).isEqualTo(TributaryCli.OK);
    assertThat(TributaryCli.execute("--no-such-flag")).isEqualTo(TributaryCli.INVALID);
    assertThat(TributaryCli.execute("run", "--config", bad.toString()))
        .isEqualTo(TributaryCli.INVALID);

    // A checkpoint written by another pipeline: refused with exit code 3, nothing started.
    new LocalCheckpointStorage(tmp.resolve("ckpt"))
        .writeAtomically(
            "metadata",
            "{\"version\":1,\"pipelineId\":\"other\",\"configFingerprint\":\"x\",\"createdMs\":0}"
                .getBytes(StandardCharsets.UTF_8));
    assertThat(TributaryCli.execute("run", "--config", good.toString()))
        .isEqualTo(TributaryCli.CHECKPOINT);
  }
}
