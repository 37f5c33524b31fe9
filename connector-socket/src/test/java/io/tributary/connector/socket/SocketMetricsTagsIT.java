package io.tributary.connector.socket;

import static io.tributary.connector.socket.TestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.runtime.Pipeline;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two pipelines, each with a socket source named {@code in}, created by the {@code ServiceLoader}
 * factory as the gateway does, share one meter registry: each pipeline has its own counters and its
 * own connections gauge (before, all were tagged {@code source="in"} only, so counters were summed
 * and the second gauge was dropped).
 */
class SocketMetricsTagsIT {
  @TempDir Path dir;

  private static Pipeline pipeline(String id, Path dir, MeterRegistry registry, int port) {
    Pipeline p =
        Pipeline.builder(id)
            .checkpointDir(dir.resolve(id))
            .batchInterval(Duration.ofMillis(100))
            .meterRegistry(registry)
            .source(
                "in",
                new SocketConnectorFactory().create("in", config("mode", "server", "port", port)))
            .foreachBatch((batchId, records) -> {})
            .build();
    p.start();
    return p;
  }

  private static Search meter(MeterRegistry r, String name, String pipeline) {
    return r.find(name).tag("pipeline", pipeline).tag("source", "in");
  }

  @Test
  void everySocketMeterIsTaggedWithPipelineAndSource() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    int port1 = TestSupport.freePort();
    int port2 = TestSupport.freePort();
    Pipeline p1 = pipeline("p1", dir, registry, port1);
    Pipeline p2 = pipeline("p2", dir, registry, port2);
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int port : new int[] {port1, port1, port2}) {
        Socket s =
            await()
                .atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(() -> new Socket("127.0.0.1", port), java.util.Objects::nonNull);
        sockets.add(s);
      }
      sockets.get(0).getOutputStream().write("a\nb\n".getBytes(StandardCharsets.UTF_8));
      sockets.get(1).getOutputStream().write("c\n".getBytes(StandardCharsets.UTF_8));
      sockets.get(2).getOutputStream().write("d\n".getBytes(StandardCharsets.UTF_8));
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                assertThat(meter(registry, "tributary.socket.records", "p1").counter().count())
                    .isEqualTo(3);
                assertThat(meter(registry, "tributary.socket.records", "p2").counter().count())
                    .isEqualTo(1);
                assertThat(meter(registry, "tributary.socket.connections", "p1").gauge().value())
                    .isEqualTo(2);
                assertThat(meter(registry, "tributary.socket.connections", "p2").gauge().value())
                    .isEqualTo(1);
              });
      assertThat(
              meter(registry, "tributary.socket.errors", "p2")
                  .tag("reason", "idle_timeout")
                  .counter())
          .isNotNull();
      assertThat(registry.find("tributary.socket.records").counters())
          .as("no socket meter without its pipeline tag")
          .allMatch(c -> c.getId().getTag("pipeline") != null);
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
      p1.stopGracefully();
      p2.stopGracefully();
    }
  }
}
