package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.connector.flume.FlumeAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Flume 1.11 agent (child JVM, durable file channel) feeds the packaged gateway ({@code
 * flume} source → WAL → {@code files} sink), in push mode (agent {@code avro} sink → Tributary's
 * Avro server) and in pull mode (agent {@code tributary-flume-sink} ← Tributary's poller). The
 * agent's {@code seq} source puts 200,000 numbered events into its file channel; the gateway is
 * SIGKILLed 5 times at seeded random moments and the agent twice (after its source finished: the
 * {@code seq} source itself is not durable, its file channel is; the agent restarts without it).
 * The independent reader is the files sink's published output: every event must be in it; the
 * number of duplicates is printed and bounded.
 *
 * <p>Duplicates are possible, and why: push: a batch that reached the WAL but whose {@code OK} the
 * agent never read (gateway killed in between) is sent again by the agent (Flume events carry no id
 * to deduplicate by). Pull: the gateway kills come first (the agent is killed only after them); the
 * poller names its batches from its WAL (recovery ack, idempotent poll), so the output holds no
 * duplicate before the first agent kill. Each agent kill may duplicate at most one batch per poll
 * thread (a batch stored whose commit the killed agent never made is restored by its file channel).
 */
class FlumeGatewayCrashIT {
  private static final int EVENTS = 200_000;
  private static final int GATEWAY_KILLS = 5;
  private static final int AGENT_KILLS = 2;
  private static final int BATCH = 1000;

  @TempDir Path tmp;

  @Test
  void pushEveryAcceptedEventArrivesAcrossSigkills() throws Exception {
    run("push");
  }

  @Test
  void pullEveryCommittedEventArrivesAcrossSigkills() throws Exception {
    run("pull");
  }

  private void run(String mode) throws Exception {
    long seed = Long.getLong("flume.crash.seed", System.nanoTime());
    Random random = new Random(seed);
    int port = GatewayProcess.freePort();
    int monitoring = GatewayProcess.freePort();
    Path out = tmp.resolve("out");
    Path config = tmp.resolve("gateway.yaml");
    String source =
        mode.equals("push")
            ? "{ type: flume, mode: push, host: 127.0.0.1, port: " + port + " }"
            : "{ type: flume, mode: pull, pull.hosts: [\"127.0.0.1:"
                + port
                + "\"], pull.batch-size: "
                + BATCH
                + ", pull.threads-per-host: 2, pull.empty-backoff: 50ms }";
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: flume-" + mode,
            "    settings:",
            "      batch-interval: 200ms",
            "      wal.enabled: true",
            "      wal.fsync: always",
            "    checkpoint: " + tmp.resolve("checkpoint"),
            "    source: " + source,
            "    sinks:",
            "      - { type: files, path: " + out + ", max-file-size: 1mb }",
            ""));
    FlumeAgent agent =
        new FlumeAgent(tmp.resolve("agent"), "a1")
            .monitoring(monitoring)
            .set("sources", "r1")
            .set("channels", "c1")
            .set("sinks", "k1")
            .set("sources.r1.type", "seq")
            .set("sources.r1.totalEvents", EVENTS)
            .set("sources.r1.batchSize", BATCH)
            .set("sources.r1.channels", "c1")
            .fileChannel("c1")
            .set("sinks.k1.channel", "c1");
    if (mode.equals("push")) {
      agent
          .set("sinks.k1.type", "avro")
          .set("sinks.k1.hostname", "127.0.0.1")
          .set("sinks.k1.port", port)
          .set("sinks.k1.batch-size", BATCH)
          .set("sinks.k1.connect-timeout", 2000)
          .set("sinks.k1.request-timeout", 20000);
    } else {
      agent
          .set("sinks.k1.type", "io.tributary.connector.flume.agent.TributarySink")
          .set("sinks.k1.hostname", "127.0.0.1")
          .set("sinks.k1.port", port)
          .set("sinks.k1.threads", 4)
          // longer than a gateway restart: a batch stored before a kill is committed by the
          // restarted gateway's recovery ack, not rolled back
          .set("sinks.k1.transaction-timeout", 30000);
    }
    int gatewayKills = 0;
    int agentKills = 0;
    long duplicatesBeforeAgentKills = -1;
    try (GatewayProcess gateway = new GatewayProcess(config, tmp.resolve("gateway.log"));
        FlumeAgent a = agent) {
      gateway.start();
      if (mode.equals("push")) {
        await().atMost(Duration.ofSeconds(60)).until(() -> GatewayProcess.isListening(port));
      }
      agent.start();
      // Kill points: output sizes spread over the stream (seeded). The agent is killed after its
      // seq source has put every event into the file channel.
      // Gateway kills first: pull must show no duplicate before the first agent kill.
      char[] plan = {'G', 'G', 'G', 'G', 'G', 'A', 'A'};
      boolean sourceDone = false;
      for (int k = 0; k < plan.length; k++) {
        int target =
            EVENTS * (k + 1) / (plan.length + 2) + random.nextInt(EVENTS / (plan.length * 4));
        await("output passes " + target + " (gateway log: " + tmp.resolve("gateway.log") + ")")
            .atMost(Duration.ofSeconds(180))
            .pollInterval(Duration.ofMillis(50 + random.nextInt(100)))
            .until(() -> outputSize(out) >= target);
        if (plan[k] == 'G') {
          gateway.kill();
          gatewayKills++;
          gateway.start();
        } else {
          if (duplicatesBeforeAgentKills < 0) {
            duplicatesBeforeAgentKills = duplicates(GatewayProcess.outputLines(out));
          }
          if (!sourceDone) {
            await("the agent's seq source put every event into its channel")
                .atMost(Duration.ofSeconds(180))
                .until(() -> agent.counter("SOURCE.r1", "EventAcceptedCount") >= EVENTS);
            sourceDone = true;
          }
          agent.kill();
          agentKills++;
          // The seq source is not durable (it would start again from 0), the file channel is:
          // restart the agent with an idle netcat source instead.
          agent
              .unset("sources.r1.")
              .set("sources.r1.type", "netcat")
              .set("sources.r1.bind", "127.0.0.1")
              .set("sources.r1.port", GatewayProcess.freePort())
              .set("sources.r1.channels", "c1")
              .start();
        }
      }
      await("every event in the output (gateway log: " + tmp.resolve("gateway.log") + ")")
          .atMost(Duration.ofSeconds(240))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> distinct(out) >= EVENTS);
      assertThat(gateway.terminate(Duration.ofSeconds(60))).as("exit code after SIGTERM").isZero();
    }
    List<String> lines = GatewayProcess.outputLines(out);
    int[] counts = new int[EVENTS];
    long foreign = 0;
    for (String l : lines) {
      int n = Integer.parseInt(l.trim());
      if (n < 0 || n >= EVENTS) {
        foreign++;
      } else {
        counts[n]++;
      }
    }
    long lost = 0;
    long duplicated = 0;
    for (int c : counts) {
      if (c == 0) {
        lost++;
      } else {
        duplicated += c - 1;
      }
    }
    System.out.printf(
        "FlumeGatewayCrashIT[%s]: events=%d gateway_kills=%d agent_kills=%d output=%d lost=%d"
            + " duplicated=%d duplicated_before_agent_kills=%d seed=%d%n",
        mode,
        EVENTS,
        gatewayKills,
        agentKills,
        lines.size(),
        lost,
        duplicated,
        duplicatesBeforeAgentKills,
        seed);
    assertThat(gatewayKills).isEqualTo(GATEWAY_KILLS);
    assertThat(agentKills).isEqualTo(AGENT_KILLS);
    assertThat(foreign).isZero();
    assertThat(lost).as("lost events").isZero();
    if (mode.equals("pull")) {
      // the gateway kills alone duplicate nothing; each agent kill at most one batch per poll
      // thread
      assertThat(duplicatesBeforeAgentKills)
          .as("duplicates after %d gateway kills, before any agent kill", GATEWAY_KILLS)
          .isZero();
      assertThat(duplicated)
          .as("duplicates (only batches taken but not committed by a killed agent)")
          .isLessThanOrEqualTo((long) AGENT_KILLS * BATCH * 2);
    } else {
      // at most the batches in flight at each kill (one per connection)
      assertThat(duplicated)
          .as("duplicates (only batches in flight at a kill)")
          .isLessThanOrEqualTo((long) (GATEWAY_KILLS + AGENT_KILLS) * BATCH * 2);
    }
  }

  private static long duplicates(List<String> lines) {
    return lines.size() - lines.stream().distinct().count();
  }

  private static int outputSize(Path out) throws java.io.IOException {
    return GatewayProcess.outputLines(out).size();
  }

  private static int distinct(Path out) throws java.io.IOException {
    return (int) GatewayProcess.outputLines(out).stream().distinct().count();
  }
}
