package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
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
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receiver and quarantine detail of {@code GET /pipelines/{id}} and the status page, through
 * the real admin HTTP endpoint of a running gateway: a socket server receiver whose port is taken
 * restarts (state, restart count, the bind error), runs once the port is free and counts its
 * connected clients; a files source under {@code on-bad-file: skip} lists the truncated gzip it
 * skipped.
 */
class ReceiverQuarantineApiIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  private String text(int port, String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  private JsonNode get(int port, String path) throws Exception {
    return JSON.readTree(text(port, path));
  }

  @Test
  void receiverRestartsWhileItsPortIsTakenThenRunsAndCountsItsClients() throws Exception {
    ServerSocket squatter = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    int port = squatter.getLocalPort();
    String yaml =
        """
        pipelines:
          - id: rx
            settings: { batch-interval: 100ms, receiver.restart-delay: 100ms,
                        receiver.max-restart-delay: 200ms }
            checkpoint: %s
            source: { type: socket, mode: server, host: 127.0.0.1, port: %d, framing: lines }
            sinks: [ { type: files, path: %s } ]
        admin: { host: 127.0.0.1, port: 0 }
        """
            .formatted(tmp.resolve("cp"), port, tmp.resolve("out"));
    List<Socket> clients = new ArrayList<>();
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "rx.yaml"))) {
      gw.start();
      int admin = gw.adminPort();
      JsonNode[] rx = new JsonNode[1];
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                rx[0] = get(admin, "/pipelines/rx").get("receivers").get(0);
                return rx[0].get("restarts").asLong() >= 2;
              });
      JsonNode r = rx[0];
      assertThat(r.get("name").asText()).isEqualTo("source");
      assertThat(r.get("state").asText()).isIn("RESTARTING", "STARTING");
      assertThat(r.get("lastError").asText())
          .contains("onStart failed")
          .containsIgnoringCase("address already in use");
      assertThat(r.get("lastErrorAtMs").asLong())
          .isBetween(System.currentTimeMillis() - 60_000, System.currentTimeMillis());
      assertThat(r.get("connectedClients").asInt()).isZero();
      // The page shows the receiver, its state and the error (rendered by status.js; the HTML
      // served carries the script that draws it, the browser test checks the drawing).
      assertThat(text(admin, "/assets/status.js")).contains("connected clients");

      squatter.close();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  get(admin, "/pipelines/rx")
                      .get("receivers")
                      .get(0)
                      .get("state")
                      .asText()
                      .equals("RUNNING"));
      long restarts = get(admin, "/pipelines/rx").get("receivers").get(0).get("restarts").asLong();
      for (int i = 0; i < 3; i++) {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        clients.add(s);
        OutputStream out = s.getOutputStream();
        out.write(("client-" + i + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                JsonNode d = get(admin, "/pipelines/rx");
                return d.get("receivers").get(0).get("connectedClients").asInt() == 3
                    && d.get("recordsOut").asLong() == 3;
              });
      JsonNode running = get(admin, "/pipelines/rx").get("receivers").get(0);
      assertThat(running.get("restarts").asLong()).isEqualTo(restarts); // no restart once bound
      // The buffer is released once the batch holding the lines committed.
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  get(admin, "/pipelines/rx").get("receivers").get(0).get("bufferedBytes").asLong()
                      == 0);
      for (Socket s : clients) {
        s.close();
      }
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  get(admin, "/pipelines/rx")
                          .get("receivers")
                          .get(0)
                          .get("connectedClients")
                          .asInt()
                      == 0);

      gw.stop();
      // A stopped gateway's pipelines report a stopped receiver (read through the Pipeline, the
      // endpoint is closed with the gateway).
      assertThat(gw.pipelines().get(0).receivers().get(0).state().name()).isEqualTo("STOPPED");
    } finally {
      squatter.close();
      for (Socket s : clients) {
        s.close();
      }
    }
  }

  @Test
  void filesSourceListsTheFileItSkippedInTheApiAndOnThePage() throws Exception {
    Path in = Files.createDirectories(tmp.resolve("in"));
    String yaml =
        """
        pipelines:
          - id: f
            settings: { batch-interval: 100ms }
            checkpoint: %s
            source: { type: files, paths: [ "%s" ], stable-for: 0s, watch-changes-for: 0s,
                      on-bad-file: skip }
            sinks: [ { type: files, path: %s } ]
        admin: { host: 127.0.0.1, port: 0 }
        """
            .formatted(tmp.resolve("cp"), in.toUri(), tmp.resolve("out"));
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "f.yaml"))) {
      gw.start();
      int admin = gw.adminPort();
      JsonNode empty = get(admin, "/pipelines/f");
      assertThat(empty.get("quarantine")).isEmpty();
      assertThat(empty.get("receivers")).isEmpty(); // a direct source has no receiver

      // Files present at the first listing are ignored (include-existing: false): write after it.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> get(admin, "/pipelines/f").get("lastCommittedBatch").asLong() >= 0);
      Files.write(in.resolve("good.txt"), "a\nb\nc\n".getBytes(StandardCharsets.UTF_8));
      ByteArrayOutputStream gz = new ByteArrayOutputStream();
      try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
        for (int i = 0; i < 5000; i++) {
          z.write(("bad-" + i + "\n").getBytes(StandardCharsets.UTF_8));
        }
      }
      byte[] whole = gz.toByteArray();
      Path broken = in.resolve("broken <x>.gz");
      Files.write(broken, java.util.Arrays.copyOf(whole, whole.length / 2));

      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> get(admin, "/pipelines/f").get("quarantine").size() == 1);
      JsonNode d = get(admin, "/pipelines/f");
      JsonNode q = d.get("quarantine").get(0);
      assertThat(q.get("item").asText()).endsWith("broken <x>.gz");
      assertThat(q.get("reason").asText()).isEqualTo("corrupt");
      assertThat(q.get("message").asText()).isNotBlank();
      assertThat(q.get("quarantinedAtMs").asLong()).isPositive();
      assertThat(q.get("partition").asText()).isNotBlank();
      assertThat(d.get("state").asText()).isEqualTo("RUNNING");
      assertThat(get(admin, "/pipelines").get(0).get("quarantined").asInt()).isEqualTo(1);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> get(admin, "/pipelines/f").get("recordsOut").asLong() == 3);
      // The page's first paint counts it (the table is escaped HTML), status.js draws the list.
      String page = text(admin, "/");
      assertThat(page).contains("<th>quarantined</th>").contains("class=\"quarantined\">1<");
      assertThat(text(admin, "/assets/status.js")).contains("Quarantine (");
    }
  }
}
