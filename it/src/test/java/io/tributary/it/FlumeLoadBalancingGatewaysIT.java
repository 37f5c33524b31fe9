package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flume.Event;
import org.apache.flume.api.RpcClient;
import org.apache.flume.api.RpcClientFactory;
import org.apache.flume.event.EventBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flume's own load-balancing {@code RpcClient} (flume-ng-sdk, round robin with backoff) spreading
 * batches over two Tributary gateways, each a separate process with the {@code flume} push source,
 * the WAL and the files sink: while it sends, the first gateway is SIGKILLed and later started
 * again on its checkpoint. Every batch the client was answered OK for is in the union of the two
 * outputs; a batch is written twice only if a gateway stored it and died before its OK reached the
 * client, which then sent it to the other gateway (at most the batches in flight at the kill).
 */
class FlumeLoadBalancingGatewaysIT {
  private static final int BATCHES = 300;
  private static final int BATCH = 100;

  @TempDir Path tmp;

  @Test
  void everyAcknowledgedEventIsStoredByOneOfTwoGatewaysWhileOneIsKilledAndRestarted()
      throws Exception {
    int port1 = GatewayProcess.freePort();
    int port2 = GatewayProcess.freePort();
    Path out1 = tmp.resolve("out1");
    Path out2 = tmp.resolve("out2");
    List<String> acked = new ArrayList<>();
    int failedCalls = 0;
    try (GatewayProcess g1 = new GatewayProcess(config("lb1", port1, out1), tmp.resolve("g1.log"));
        GatewayProcess g2 = new GatewayProcess(config("lb2", port2, out2), tmp.resolve("g2.log"))) {
      g1.start();
      g2.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> GatewayProcess.isListening(port1));
      await().atMost(Duration.ofSeconds(60)).until(() -> GatewayProcess.isListening(port2));
      Properties p = new Properties();
      p.setProperty("client.type", "default_loadbalance");
      p.setProperty("hosts", "h1 h2");
      p.setProperty("hosts.h1", "127.0.0.1:" + port1);
      p.setProperty("hosts.h2", "127.0.0.1:" + port2);
      p.setProperty("host-selector", "round_robin");
      p.setProperty("backoff", "true");
      p.setProperty("maxBackoff", "2000");
      p.setProperty("batch-size", Integer.toString(BATCH));
      p.setProperty("connect-timeout", "5000");
      p.setProperty("request-timeout", "20000");
      RpcClient client = RpcClientFactory.getInstance(p);
      try {
        for (int b = 0; b < BATCHES; b++) {
          if (b == BATCHES / 3) {
            g1.kill();
            System.out.printf("FlumeLoadBalancingGatewaysIT: gateway 1 SIGKILLed at batch %d%n", b);
          }
          if (b == 2 * BATCHES / 3) {
            g1.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> GatewayProcess.isListening(port1));
            System.out.printf("FlumeLoadBalancingGatewaysIT: gateway 1 restarted at batch %d%n", b);
          }
          List<Event> events = new ArrayList<>(BATCH);
          List<String> bodies = new ArrayList<>(BATCH);
          for (int i = 0; i < BATCH; i++) {
            String body = String.format("lb-%04d-%03d", b, i);
            bodies.add(body);
            events.add(EventBuilder.withBody(body, StandardCharsets.UTF_8));
          }
          try {
            client.appendBatch(events);
            acked.addAll(bodies);
          } catch (org.apache.flume.EventDeliveryException e) {
            // both hosts refused this call (the dead one, and the live one busy past its timeout):
            // a Flume sink would roll back and resend; so does this sender
            failedCalls++;
            b--;
            assertThat(failedCalls)
                .as("calls both gateways refused: %s", e.toString())
                .isLessThan(20);
          }
        }
      } finally {
        client.close();
      }
      List<String> expected = acked;
      await("every acknowledged event in the two outputs")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> union(out1, out2).keySet().containsAll(expected));
      assertThat(g1.terminate(Duration.ofSeconds(60))).as("gateway 1 exit after SIGTERM").isZero();
      assertThat(g2.terminate(Duration.ofSeconds(60))).as("gateway 2 exit after SIGTERM").isZero();
    }
    Map<String, Integer> counts = union(out1, out2);
    long duplicated = counts.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
    long fromG1 = GatewayProcess.outputLines(out1).size();
    long fromG2 = GatewayProcess.outputLines(out2).size();
    System.out.printf(
        "FlumeLoadBalancingGatewaysIT: acked=%d gateway1=%d gateway2=%d duplicated=%d"
            + " failed_calls=%d%n",
        acked.size(), fromG1, fromG2, duplicated, failedCalls);
    assertThat(acked).hasSize(BATCHES * BATCH);
    assertThat(counts.keySet()).as("only events that were sent").allMatch(l -> l.startsWith("lb-"));
    assertThat(counts.keySet()).as("every acknowledged event").containsAll(acked);
    assertThat(fromG1)
        .as("gateway 1 took batches before its kill and after its restart")
        .isPositive();
    assertThat(fromG2).as("gateway 2 took batches").isPositive();
    assertThat(duplicated)
        .as("duplicates: only batches in flight at the kill, resent to the other gateway")
        .isLessThanOrEqualTo(BATCH);
  }

  private static Map<String, Integer> union(Path a, Path b) throws java.io.IOException {
    Map<String, Integer> counts = new HashMap<>();
    for (Path dir : List.of(a, b)) {
      for (String l : GatewayProcess.outputLines(dir)) {
        counts.merge(l, 1, Integer::sum);
      }
    }
    return counts;
  }

  private Path config(String id, int port, Path out) throws java.io.IOException {
    Path config = tmp.resolve(id + ".yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: " + id,
            "    settings:",
            "      batch-interval: 200ms",
            "      wal.enabled: true",
            "      wal.fsync: always",
            "    checkpoint: " + tmp.resolve("checkpoint-" + id),
            "    source: { type: flume, mode: push, host: 127.0.0.1, port: " + port + " }",
            "    sinks:",
            "      - { type: files, path: " + out + " }",
            ""));
    return config;
  }
}
