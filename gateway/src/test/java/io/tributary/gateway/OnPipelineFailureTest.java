package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineState;
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code on-pipeline-failure}: two {@code files} pipelines in one gateway, one of which fails on
 * bad input (a truncated gzip file): under keep-running (the default) the other keeps ingesting and
 * the admin endpoint shows the failed one.
 */
class OnPipelineFailureTest {
  @TempDir Path tmp;

  private String filesPipeline(String id) {
    return """
          - id: %s
            settings: { batch-interval: 50ms }
            checkpoint: %s
            source: { type: files, paths: [ "%s" ], stable-for: 0s, watch-changes-for: 0s }
            sinks: [ { type: files, path: "%s" } ]
        """
        .formatted(id, tmp.resolve("ckpt-" + id), in(id).toUri(), tmp.resolve("out-" + id));
  }

  private Path in(String id) {
    return tmp.resolve("in-" + id);
  }

  private void put(String id, String name, byte[] content) throws Exception {
    Path dir = Files.createDirectories(in(id));
    Path t = Files.write(dir.resolve("." + name + ".tmp"), content);
    Files.move(t, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  private static byte[] lines(String prefix, int from, int to) {
    StringBuilder b = new StringBuilder();
    for (int i = from; i < to; i++) {
      b.append(prefix).append(i).append('\n');
    }
    return b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static byte[] truncatedGzip() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(lines("bad-", 0, 5000));
    }
    byte[] whole = bytes.toByteArray();
    return java.util.Arrays.copyOf(whole, whole.length / 2);
  }

  private List<String> output(String id) throws Exception {
    Path dir = tmp.resolve("out-" + id);
    List<String> out = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.list(dir)) {
        for (Path f :
            s.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList()) {
          out.addAll(Files.readAllLines(f));
        }
      }
    }
    return out;
  }

  private GatewayConfig config(String policy) throws Exception {
    Files.createDirectories(in("good"));
    Files.createDirectories(in("bad"));
    return GatewayConfig.parse(
        new StringReader(
            policy
                + "pipelines:\n"
                + filesPipeline("good")
                + filesPipeline("bad")
                + "admin: { host: 127.0.0.1, port: 0 }\n"),
        "two.yaml");
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static void awaitRunning(Pipeline p) {
    await().atMost(Duration.ofSeconds(20)).until(() -> p.status().state() == PipelineState.RUNNING);
  }

  @Test
  void onePipelineFailingOnBadInputLeavesTheOtherIngestingByDefault() throws Exception {
    try (Gateway gw = new Gateway(config(""))) {
      gw.start();
      Pipeline good = gw.pipelines().get(0);
      Pipeline bad = gw.pipelines().get(1);
      awaitRunning(good);
      awaitRunning(bad);
      CompletableFuture<Gateway.Outcome> outcome =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return gw.awaitStopOrFailure();
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      put("good", "a.txt", lines("good-", 0, 100));
      await().atMost(Duration.ofSeconds(20)).until(() -> output("good").size() == 100);

      put("bad", "broken.gz", truncatedGzip());
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> bad.status().state() == PipelineState.FAILED);
      assertThat(bad.status().failure()).contains("broken.gz");

      put("good", "b.txt", lines("good-", 100, 250));
      await().atMost(Duration.ofSeconds(20)).until(() -> output("good").size() >= 250);
      List<String> got = output("good");
      assertThat(new HashSet<>(got)).hasSize(got.size()).hasSize(250);
      assertThat(good.status().state()).isEqualTo(PipelineState.RUNNING);
      assertThat(outcome).as("the gateway keeps running").isNotDone();

      int port = gw.adminPort();
      HttpResponse<String> health = get(port, "/health");
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.body()).contains("\"bad\":\"FAILED\"").contains("\"good\":\"RUNNING\"");
      assertThat(get(port, "/").body()).contains("broken.gz");
      assertThat(get(port, "/status").body()).contains("FAILED").contains("broken.gz");

      gw.stop();
      assertThat(outcome.get()).isEqualTo(Gateway.Outcome.STOPPED);
      assertThat(good.status().state()).isEqualTo(PipelineState.STOPPED);
      assertThat(good.failure()).isEmpty();
    }
  }

  @Test
  void stopGatewayStopsTheOtherPipelineGracefully() throws Exception {
    try (Gateway gw = new Gateway(config("on-pipeline-failure: stop-gateway\n"))) {
      gw.start();
      Pipeline good = gw.pipelines().get(0);
      awaitRunning(good);
      awaitRunning(gw.pipelines().get(1));
      put("good", "a.txt", lines("good-", 0, 10));
      await().atMost(Duration.ofSeconds(20)).until(() -> output("good").size() == 10);
      put("bad", "broken.gz", truncatedGzip());
      assertThat(gw.awaitStopOrFailure()).isEqualTo(Gateway.Outcome.FAILED);
      assertThat(good.status().state()).isEqualTo(PipelineState.STOPPED);
      assertThat(good.failure()).isEmpty();
    }
  }

  @Test
  void anUnknownPolicyIsRefusedWithItsLine() {
    assertThatThrownBy(
            () ->
                GatewayConfig.parse(
                    new StringReader("on-pipeline-failure: carry-on\npipelines: []\n"), "p.yaml"))
        .isInstanceOf(GatewayConfigException.class)
        .hasMessageContaining(
            "p.yaml:1: Invalid value carry-on for on-pipeline-failure: unknown policy (expected"
                + " one of: keep-running, stop-gateway)");
  }

  @Test
  void aBatchThatMakesNoProgressShowsAsStalledUntilItMovesAgain() throws Exception {
    Path gate = tmp.resolve("gate");
    String yaml =
        """
        pipelines:
          - id: slow
            settings: { batch-interval: 50ms, stall-timeout: 300ms }
            checkpoint: %s
            source: { type: test-sequence, count: 3, prefix: "slow-", read-gate: "%s" }
            sinks: [ { type: files, path: "%s" } ]
        admin: { host: 127.0.0.1, port: 0 }
        """
            .formatted(tmp.resolve("ckpt-slow"), gate, tmp.resolve("out-slow"));
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "slow.yaml"))) {
      gw.start();
      int port = gw.adminPort();
      Pipeline slow = gw.pipelines().get(0);
      await().atMost(Duration.ofSeconds(20)).until(() -> slow.status().stalled());
      assertThat(slow.status().state()).isEqualTo(PipelineState.RUNNING);
      HttpResponse<String> health = get(port, "/health");
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.body()).contains("\"slow\":\"STALLED\"");
      assertThat(get(port, "/status").body()).containsPattern("\"stalledMs\":[1-9]");
      assertThat(get(port, "/").body()).contains("(stalled ");

      Files.createFile(gate);
      await().atMost(Duration.ofSeconds(20)).until(() -> output("slow").size() == 3);
      await().atMost(Duration.ofSeconds(20)).until(() -> get(port, "/health").statusCode() == 200);
      assertThat(slow.status().stalled()).isFalse();
    }
  }
}
