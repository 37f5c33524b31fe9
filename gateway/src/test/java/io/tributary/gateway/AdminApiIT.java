package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.core.runtime.PipelineState;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin API: listing, detail, control, offsets, reload, security rules and HTTP limits. */
class AdminApiIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "t0ken-for-tests-0123456789";
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  private Path tokenFile() throws Exception {
    Path f = tmp.resolve("admin.token");
    Files.writeString(f, TOKEN + "\n");
    return f;
  }

  private String config(String pipelines, String adminExtra) {
    return "pipelines:\n" + pipelines + "admin: { host: 127.0.0.1, port: 0" + adminExtra + " }\n";
  }

  private String seqPipeline(String id, long count) {
    return seqPipeline(id, count, "50ms");
  }

  private String seqPipeline(String id, long count, String interval) {
    return """
          - id: %s
            settings: { batch-interval: %s, direct.max-records-per-partition: 10 }
            checkpoint: %s
            source: { type: test-sequence, count: %d, prefix: %s- }
            sinks: [ { type: files, path: %s } ]
        """
        .formatted(id, interval, tmp.resolve("cp-" + id), count, id, tmp.resolve("out-" + id));
  }

  private HttpResponse<String> call(int port, String method, String path, String body, boolean auth)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (auth) {
      b.header("Authorization", "Bearer " + TOKEN);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  @Test
  void showsBatchesPartitionsAndControlsAPipelineAndItsOffsets() throws Exception {
    String yaml = config(seqPipeline("seq", 50), ", token-file: " + tokenFile());
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "api.yaml"))) {
      gw.start();
      int port = gw.adminPort();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gw.pipelines().get(0).status().recordsIn() == 50);

      HttpResponse<String> list = call(port, "GET", "/pipelines", null, true);
      assertThat(list.statusCode()).isEqualTo(200);
      JsonNode p = json(list).get(0);
      assertThat(p.get("id").asText()).isEqualTo("seq");
      assertThat(p.get("state").asText()).isEqualTo("RUNNING");
      assertThat(p.get("source").get("type").asText()).isEqualTo("test-sequence");
      assertThat(p.get("source").get("kind").asText()).isEqualTo("direct");
      assertThat(p.get("sinks").get(0).get("type").asText()).isEqualTo("files");
      assertThat(p.get("sinks").get(0).get("guarantee").asText())
          .isEqualTo("EXACTLY_ONCE_IDEMPOTENT");

      JsonNode d = json(call(port, "GET", "/pipelines/seq", null, true));
      long sum = 0;
      for (JsonNode b : d.get("batches")) {
        sum += b.get("records").asLong();
        assertThat(b.get("records").asLong()).isBetween(0L, 10L);
        assertThat(b.get("processingTimeMs").asLong()).isNotNegative();
        assertThat(b.get("totalDelayMs").asLong())
            .isEqualTo(b.get("schedulingDelayMs").asLong() + b.get("processingTimeMs").asLong());
        assertThat(b.has("schedulingDelayMs")).isTrue();
        assertThat(b.get("bytes").asLong()).isPositive();
      }
      assertThat(sum).isEqualTo(50);
      assertThat(d.get("lastCommittedBatch").asLong()).isGreaterThanOrEqualTo(4);
      JsonNode part = d.get("partitions").get(0);
      assertThat(part.get("partition").asText()).isEqualTo("seq");
      assertThat(part.get("committedPosition").asText()).isEqualTo("50");
      assertThat(part.get("latestPosition").asText()).isEqualTo("50");
      assertThat(part.get("lag").asLong()).isZero();

      // Reads need the token once one is configured; /health does not.
      assertThat(call(port, "GET", "/pipelines", null, false).statusCode()).isEqualTo(401);
      assertThat(call(port, "GET", "/health", null, false).statusCode()).isEqualTo(200);

      // Pause and resume.
      assertThat(call(port, "POST", "/pipelines/seq/pause", null, false).statusCode())
          .isEqualTo(401);
      JsonNode paused = json(call(port, "POST", "/pipelines/seq/pause", null, true));
      assertThat(paused.get("paused").asBoolean()).isTrue();
      assertThat(gw.pipelines().get(0).paused()).isTrue();
      JsonNode resumed = json(call(port, "POST", "/pipelines/seq/resume", null, true));
      assertThat(resumed.get("paused").asBoolean()).isFalse();

      // Offsets change only on a stopped pipeline.
      HttpResponse<String> refused =
          call(port, "PATCH", "/pipelines/seq/offsets", "{\"partitions\":{\"seq\":\"20\"}}", true);
      assertThat(refused.statusCode()).isEqualTo(409);
      assertThat(json(refused).get("error").asText()).contains("stop");

      JsonNode stopped = json(call(port, "POST", "/pipelines/seq/stop", null, true));
      assertThat(stopped.get("state").asText()).isEqualTo("STOPPED");
      assertThat(stopped.get("stoppedByOperator").asBoolean()).isTrue();
      assertThat(call(port, "GET", "/health", null, false).statusCode())
          .as("an operator's stop is not a failure")
          .isEqualTo(200);

      JsonNode offsets = json(call(port, "GET", "/pipelines/seq/offsets", null, true));
      assertThat(offsets.get("partitions").get("seq").asText()).isEqualTo("50");
      long before = offsets.get("batchId").asLong();

      JsonNode altered =
          json(
              call(
                  port,
                  "PATCH",
                  "/pipelines/seq/offsets",
                  "{\"partitions\":{\"seq\":\"20\"}}",
                  true));
      assertThat(altered.get("batchId").asLong()).isEqualTo(before + 1);
      assertThat(altered.get("partitions").get("seq").asText()).isEqualTo("20");
      String entry =
          Files.readString(tmp.resolve("cp-seq").resolve("offsets").resolve("" + (before + 1)));
      assertThat(entry).contains("\"alteration\"").contains("\"by\" : \"admin-api\"");
      assertThat(tmp.resolve("cp-seq").resolve("offsets").resolve("" + before))
          .as("history is kept")
          .exists();

      // Restart reads from the altered position: offsets 20..49 again.
      JsonNode restarted = json(call(port, "POST", "/pipelines/seq/restart", null, true));
      assertThat(restarted.get("state").asText()).isEqualTo("RUNNING");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gw.pipelines().get(0).status().recordsIn() == 30);

      // Reset to the source's starting position: everything again.
      json(call(port, "POST", "/pipelines/seq/stop", null, true));
      JsonNode reset = json(call(port, "DELETE", "/pipelines/seq/offsets", null, true));
      assertThat(reset.get("partitions").size()).isZero();
      json(call(port, "POST", "/pipelines/seq/restart", null, true));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gw.pipelines().get(0).status().recordsIn() == 50);

      // Errors.
      HttpResponse<String> wrongMethod = call(port, "GET", "/pipelines/seq/pause", null, true);
      assertThat(wrongMethod.statusCode()).isEqualTo(405);
      assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("POST");
      assertThat(call(port, "POST", "/pipelines", null, true).statusCode()).isEqualTo(405);
      assertThat(call(port, "GET", "/pipelines/nope", null, true).statusCode()).isEqualTo(404);
      assertThat(call(port, "POST", "/pipelines/nope/stop", null, true).statusCode())
          .isEqualTo(404);
      assertThat(call(port, "GET", "/nope", null, true).statusCode()).isEqualTo(404);
      assertThat(
              call(port, "PATCH", "/pipelines/seq/offsets", "{\"partitions\":{}}", true)
                  .statusCode())
          .isEqualTo(400);
    }
  }

  @Test
  void withoutATokenReadsAreOpenAndStateChangingCallsAreRefused() throws Exception {
    String yaml = config(seqPipeline("open", 5), "");
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "api.yaml"))) {
      gw.start();
      int port = gw.adminPort();
      assertThat(call(port, "GET", "/pipelines/open", null, false).statusCode()).isEqualTo(200);
      HttpResponse<String> r = call(port, "POST", "/pipelines/open/stop", null, false);
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(json(r).get("error").asText()).contains("admin.token-file");
      assertThat(call(port, "POST", "/reload", null, false).statusCode()).isEqualTo(403);
      assertThat(gw.pipelines().get(0).status().state()).isEqualTo(PipelineState.RUNNING);
    }
  }

  @Test
  void aNonLoopbackAddressWithoutATokenIsRefusedAndATokenInClearIsRefused() {
    String open = "pipelines:\n" + seqPipeline("x", 1) + "admin: { host: 0.0.0.0, port: 0 }\n";
    assertThatThrownBy(() -> GatewayConfig.parse(new StringReader(open), "open.yaml"))
        .isInstanceOf(GatewayConfigException.class)
        .hasMessageContaining("admin.host")
        .hasMessageContaining("token");
    String clear =
        "pipelines:\n" + seqPipeline("x", 1) + "admin: { host: 127.0.0.1, token: abc }\n";
    assertThatThrownBy(() -> GatewayConfig.parse(new StringReader(clear), "clear.yaml"))
        .isInstanceOf(GatewayConfigException.class)
        .hasMessageContaining("never written in the configuration in clear");
    String missingEnv =
        "pipelines:\n"
            + seqPipeline("x", 1)
            + "admin: { host: 0.0.0.0, token-env: TRIBUTARY_TEST_NO_SUCH_VARIABLE }\n";
    assertThatThrownBy(() -> GatewayConfig.parse(new StringReader(missingEnv), "env.yaml"))
        .isInstanceOf(GatewayConfigException.class)
        .hasMessageContaining("TRIBUTARY_TEST_NO_SUCH_VARIABLE");
  }

  @Test
  void aNonLoopbackAddressWithATokenFileStarts() throws Exception {
    String yaml =
        "pipelines:\n"
            + seqPipeline("wide", 1)
            + "admin: { host: 0.0.0.0, port: 0, token-file: "
            + tokenFile()
            + " }\n";
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "wide.yaml"))) {
      gw.start();
      assertThat(call(gw.adminPort(), "GET", "/status", null, false).statusCode()).isEqualTo(401);
      assertThat(call(gw.adminPort(), "GET", "/status", null, true).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void oversizeHeadersGet431AndAHalfSentRequestBlocksNothingAndIsClosedWhenIdle() throws Exception {
    String yaml = config(seqPipeline("h", 1), ", read-idle-timeout: 300ms");
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "h.yaml"))) {
      gw.start();
      int port = gw.adminPort();
      HttpResponse<String> big =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                  .header("X-Big", "a".repeat(10_000))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(big.statusCode()).isEqualTo(431);

      try (Socket half = new Socket("127.0.0.1", port)) {
        OutputStream out = half.getOutputStream();
        out.write(
            "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        // Other clients are served while this request is incomplete.
        assertThat(call(port, "GET", "/health", null, false).statusCode()).isEqualTo(200);
        assertThat(call(port, "GET", "/metrics", null, false).statusCode()).isEqualTo(200);
        // The idle connection is closed by the server (read returns -1) after the timeout.
        half.setSoTimeout((int) TimeUnit.SECONDS.toMillis(20));
        InputStream in = half.getInputStream();
        assertThat(in.read()).isEqualTo(-1);
      }
    }
  }

  @Test
  void servesHttpsWithTheConfiguredCertificate() throws Exception {
    Path cert = tmp.resolve("cert.pem");
    Path key = tmp.resolve("key.pem");
    Process openssl;
    try {
      openssl =
          new ProcessBuilder(
                  "openssl",
                  "req",
                  "-x509",
                  "-newkey",
                  "rsa:2048",
                  "-nodes",
                  "-keyout",
                  key.toString(),
                  "-out",
                  cert.toString(),
                  "-days",
                  "1",
                  "-subj",
                  "/CN=localhost")
              .redirectErrorStream(true)
              .start();
    } catch (java.io.IOException e) {
      Assumptions.abort("openssl is not installed: " + e.getMessage());
      return;
    }
    openssl.getInputStream().readAllBytes();
    assertThat(openssl.waitFor()).isZero();
    String yaml = config(seqPipeline("tls", 1), ", tls-cert: " + cert + ", tls-key: " + key);
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "tls.yaml"))) {
      gw.start();
      SSLContext trustAll = SSLContext.getInstance("TLS");
      trustAll.init(
          null,
          new TrustManager[] {
            new X509TrustManager() {
              @Override
              public void checkClientTrusted(X509Certificate[] c, String a) {}

              @Override
              public void checkServerTrusted(X509Certificate[] c, String a) {}

              @Override
              public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
              }
            }
          },
          null);
      HttpClient https = HttpClient.newBuilder().sslContext(trustAll).build();
      HttpResponse<String> r =
          https.send(
              HttpRequest.newBuilder(URI.create("https://localhost:" + gw.adminPort() + "/health"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("\"UP\"");
    }
  }

  @Test
  void reloadStartsAddedStopsRemovedRestartsChangedAndRefusesAnInvalidFileWhole() throws Exception {
    Path file = tmp.resolve("gateway.yaml");
    String admin = ", token-file: " + tokenFile();
    Files.writeString(
        file,
        config(seqPipeline("keep", 5) + seqPipeline("drop", 5) + seqPipeline("change", 5), admin));
    try (Gateway gw = new Gateway(GatewayConfig.load(file), file)) {
      gw.start();
      int port = gw.adminPort();
      var keep = gw.pipelines().get(0);

      Files.writeString(file, "pipelines: [ { id: broken } ]\n");
      HttpResponse<String> bad = call(port, "POST", "/reload", null, true);
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(json(bad).get("error").asText())
          .contains("nothing changed")
          .contains("gateway.yaml");
      assertThat(gw.pipelines()).hasSize(3);
      assertThat(gw.pipelines()).allMatch(p -> p.status().state() == PipelineState.RUNNING);

      Files.writeString(
          file,
          config(
              seqPipeline("keep", 5) + seqPipeline("change", 5, "60ms") + seqPipeline("added", 3),
              admin));
      HttpResponse<String> ok = call(port, "POST", "/reload", null, true);
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
      JsonNode r = json(ok);
      assertThat(r.get("added").toString()).isEqualTo("[\"added\"]");
      assertThat(r.get("removed").toString()).isEqualTo("[\"drop\"]");
      assertThat(r.get("restarted").toString()).isEqualTo("[\"change\"]");
      assertThat(r.get("unchanged").toString()).isEqualTo("[\"keep\"]");
      assertThat(gw.pipelines()).extracting(p -> p.id()).containsExactly("keep", "change", "added");
      assertThat(gw.pipelines().get(0)).as("unchanged pipelines keep running").isSameAs(keep);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gw.pipelines().get(2).status().recordsIn() == 3);
      JsonNode ids = json(call(port, "GET", "/pipelines", null, true));
      assertThat(ids.findValuesAsText("id")).containsExactly("keep", "change", "added");
      assertThat(List.of(gw.pipelines().get(1).status().state()))
          .containsExactly(PipelineState.RUNNING);
    }
  }

  @Test
  void aSlowRestartIsAnsweredAlthoughItOutlastsTheIdleTimeout() throws Exception {
    Path gate = tmp.resolve("gate");
    Files.createFile(gate);
    String yaml =
        config(
            """
              - id: slow
                settings: { batch-interval: 50ms }
                checkpoint: %s
                source: { type: test-sequence, count: 3, prefix: slow-restart-, open-gate: %s }
                sinks: [ { type: files, path: %s } ]
            """
                .formatted(tmp.resolve("cp-slow"), gate, tmp.resolve("out-slow")),
            ", token-file: " + tokenFile() + ", read-idle-timeout: 300ms");
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "slow.yaml"))) {
      gw.start();
      int port = gw.adminPort();
      Files.delete(gate);
      int built = io.tributary.gateway.testing.SequenceSourceFactory.CREATED.get("slow-restart-");
      var restart =
          http.sendAsync(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/pipelines/slow/restart"))
                  .header("Authorization", "Bearer " + TOKEN)
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      // The new run's source is built and blocks in open() until the gate exists.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  io.tributary.gateway.testing.SequenceSourceFactory.CREATED.get("slow-restart-")
                      > built);
      // An idle connection opened meanwhile is closed: the idle timeout has passed since.
      try (Socket idle = new Socket("127.0.0.1", port)) {
        idle.setSoTimeout((int) TimeUnit.SECONDS.toMillis(20));
        assertThat(idle.getInputStream().read()).isEqualTo(-1);
      }
      assertThat(restart).isNotDone();
      Files.createFile(gate);
      HttpResponse<String> r = restart.get(60, TimeUnit.SECONDS);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(json(r).get("state").asText()).isEqualTo("RUNNING");
    }
  }
}
