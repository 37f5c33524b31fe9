package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.core.runtime.PipelineState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin endpoint on a free loopback port while one pipeline runs and another has failed. */
class AdminServerIT {
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void reportsAFailedPipelineAsDownWithItsFailure() throws Exception {
    String yaml =
        """
        pipelines:
          - id: ok
            checkpoint: %s
            source: { type: test-sequence, count: 5 }
            sinks: [ { type: files, path: %s } ]
          - id: broken
            settings: { batch-interval: 50ms }
            checkpoint: %s
            source: { type: test-sequence, count: 5 }
            sinks: [ { type: test-failing, message: "quote \\" and <tag>" } ]
        admin: { host: 127.0.0.1, port: 0 }
        """
            .formatted(tmp.resolve("c1"), tmp.resolve("out"), tmp.resolve("c2"));
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "admin.yaml"))) {
      gw.start();
      int port = gw.adminPort();
      assertThat(port).isPositive();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> gw.pipelines().get(1).status().state() == PipelineState.FAILED);

      HttpResponse<String> health = get(port, "/health");
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.headers().firstValue("Content-Type")).hasValue("application/json");
      JsonNode h = new ObjectMapper().readTree(health.body());
      assertThat(h.get("status").asText()).isEqualTo("DOWN");
      assertThat(h.get("pipelines").get("ok").asText()).isEqualTo("RUNNING");
      assertThat(h.get("pipelines").get("broken").asText()).isEqualTo("FAILED");

      JsonNode status = new ObjectMapper().readTree(get(port, "/status").body());
      assertThat(status.isArray()).isTrue();
      assertThat(status).hasSize(2);
      assertThat(status.get(1).get("id").asText()).isEqualTo("broken");
      assertThat(status.get(1).get("state").asText()).isEqualTo("FAILED");
      assertThat(status.get(1).get("failure").asText()).contains("quote \" and <tag>");
      assertThat(status.get(0).get("failure").isNull()).isTrue();

      HttpResponse<String> page = get(port, "/");
      assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
      assertThat(page.body())
          .contains("<b id=\"health\">DOWN</b>")
          .contains("quote &quot; and &lt;tag&gt;")
          .doesNotContain("<tag>")
          .doesNotContain("http://")
          .doesNotContain("https://");

      HttpResponse<String> metrics = get(port, "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body())
          .contains("tributary_records_in_total{pipeline=\"ok\"")
          .contains("jvm_memory_used_bytes{")
          .contains("jvm_threads_live_threads ")
          .contains("process_uptime_seconds ");

      assertThat(get(port, "/nope").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aFailureThatHappensToContainASecretIsShownMasked() throws Exception {
    String secret = "s3cr3t-client-pass";
    String yaml =
        """
        pipelines:
          - id: leaky
            settings: { batch-interval: 50ms }
            checkpoint: %s
            source: { type: test-sequence, count: 5 }
            sinks: [ { type: test-failing, client.password: %s, message: "login refused for password %s" } ]
        admin: { host: 127.0.0.1, port: 0 }
        """
            .formatted(tmp.resolve("c"), secret, secret);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream originalErr = System.err;
    System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "admin.yaml"))) {
      gw.start();
      int port = gw.adminPort();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> gw.pipelines().get(0).status().state() == PipelineState.FAILED);
      String status = get(port, "/status").body();
      assertThat(status).contains("login refused for password").doesNotContain(secret);
      assertThat(get(port, "/").body())
          .contains("login refused for password")
          .doesNotContain(secret);
      assertThat(gw.awaitStopOrFailure()).isEqualTo(Gateway.Outcome.FAILED);
    } finally {
      System.setErr(originalErr);
    }
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("event=pipeline_failed pipeline=leaky error=")
        .satisfies(
            text ->
                assertThat(text.lines().filter(l -> l.contains("Gateway")).toList())
                    .allSatisfy(l -> assertThat(l).doesNotContain(secret)));
  }
}
