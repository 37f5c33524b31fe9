package io.tributary.connector.socket;

import static io.tributary.connector.socket.TestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Record;
import io.tributary.core.runtime.Pipeline;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reliable server inside a real pipeline with its write-ahead log, across a pipeline restart.
 */
class SocketPipelineIT {
  private final List<Record> delivered = new CopyOnWriteArrayList<>();

  private Pipeline pipeline(Path checkpoint, int port) {
    Pipeline p =
        Pipeline.builder("socket-it")
            .checkpointDir(checkpoint)
            .batchInterval(Duration.ofMillis(100))
            .source(
                "in",
                new SocketServerReceiver(
                    config("mode", "server", "port", port, "reliable", true),
                    new SimpleMeterRegistry()))
            .foreachBatch((batchId, records) -> delivered.addAll(records))
            .build();
    p.start();
    return p;
  }

  @Test
  void acknowledgedLinesReachTheSinkOnceAcrossAPipelineRestart(@TempDir Path checkpoint)
      throws Exception {
    int port = TestSupport.freePort();
    List<String> expected = new ArrayList<>();
    Pipeline first = pipeline(checkpoint, port);
    try (ReliableSocketClient client =
        ReliableSocketClient.builder("127.0.0.1", port, "gw-test")
            .connectTimeout(Duration.ofSeconds(30))
            .connect()) {
      for (int i = 0; i < 500; i++) {
        client.send("line " + i);
        expected.add("line " + i);
      }
      assertThat(client.flush(Duration.ofSeconds(30))).isTrue();
    }
    first.stopGracefully();
    await().atMost(Duration.ofSeconds(30)).until(() -> delivered.size() >= 500);

    Pipeline second = pipeline(checkpoint, port);
    try (ReliableSocketClient client = ReliableSocketClient.connect("127.0.0.1", port, "gw-test")) {
      assertThat(client.lastAcked()).as("WELCOME after restart comes from the WAL").isEqualTo(499);
      for (int i = 500; i < 700; i++) {
        assertThat(client.send("line " + i)).isEqualTo(i);
        expected.add("line " + i);
      }
      assertThat(client.flush(Duration.ofSeconds(30))).isTrue();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> delivered.size() >= 700);
    second.stopGracefully();
    assertThat(delivered).extracting(Record::valueAsString).containsExactlyElementsOf(expected);
    assertThat(delivered).extracting(r -> r.position().partition()).containsOnly("gw-test");
  }
}
