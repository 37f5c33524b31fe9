package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.connector.socket.ReliableSocketClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway as a separate process, fed 200,000 lines over the reliable socket protocol, killed
 * with SIGKILL several times mid-stream and restarted: every acknowledged line must be in the
 * output files exactly once.
 */
class GatewayCrashIT {
  private static final int LINES = 200_000;
  private static final int KILLS = 4;

  @TempDir Path tmp;

  @Test
  void everyAcknowledgedLineIsWrittenExactlyOnceAcrossSigkills() throws Exception {
    int port = GatewayProcess.freePort();
    Path out = tmp.resolve("out");
    Path config = tmp.resolve("gateway.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: crash",
            "    settings:",
            "      batch-interval: 200ms",
            "      wal.enabled: true",
            "      wal.fsync: always",
            "    checkpoint: " + tmp.resolve("checkpoint"),
            "    source: { type: socket, mode: server, host: 127.0.0.1, port: "
                + port
                + ", reliable: true }",
            "    sinks:",
            "      - { type: files, path: " + out + ", max-file-size: 1mb }",
            ""));
    Random random = new Random(42);
    int kills = 0;
    try (GatewayProcess gateway = new GatewayProcess(config, tmp.resolve("gateway.log"))) {
      gateway.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> GatewayProcess.isListening(port));
      try (ReliableSocketClient client =
          ReliableSocketClient.builder("127.0.0.1", port, "crash-test")
              .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
              .connect()) {
        CompletableFuture<Void> sender =
            CompletableFuture.runAsync(
                () -> {
                  try {
                    for (int i = 0; i < LINES; i++) {
                      client.send(String.format("line-%06d", i));
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                  }
                });
        // Kill at random points spread over the stream, each time after more lines were
        // acknowledged.
        for (int k = 0; k < KILLS; k++) {
          long target = (long) LINES * (k + 1) / (KILLS + 2) + random.nextInt(LINES / (KILLS * 4));
          await().atMost(Duration.ofSeconds(120)).until(() -> client.lastAcked() >= target);
          gateway.kill();
          kills++;
          gateway.start();
        }
        sender.get(300, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(client.flush(Duration.ofSeconds(120)))
            .as("all lines acknowledged; gateway log:\n%s", gateway.logTail())
            .isTrue();
        assertThat(client.lastAcked()).isEqualTo(LINES - 1);
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> GatewayProcess.outputLines(out).size() >= LINES);
      assertThat(gateway.terminate(Duration.ofSeconds(60))).as("exit code after SIGTERM").isZero();
    }

    List<String> lines = GatewayProcess.outputLines(out);
    Map<String, Integer> counts = new HashMap<>();
    for (String l : lines) {
      counts.merge(l, 1, Integer::sum);
    }
    long duplicated = counts.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
    long lost = 0;
    for (int i = 0; i < LINES; i++) {
      if (!counts.containsKey(String.format("line-%06d", i))) {
        lost++;
      }
    }
    System.out.printf(
        "GatewayCrashIT: records=%d kills=%d output=%d lost=%d duplicated=%d%n",
        LINES, kills, lines.size(), lost, duplicated);
    assertThat(kills).isGreaterThanOrEqualTo(3);
    assertThat(lost).as("lost lines").isZero();
    assertThat(duplicated).as("duplicated lines").isZero();
    assertThat(lines).hasSize(LINES);
  }
}
