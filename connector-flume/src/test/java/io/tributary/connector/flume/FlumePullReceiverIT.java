package io.tributary.connector.flume;

import static io.tributary.connector.flume.FlumeTestSupport.config;
import static io.tributary.connector.flume.FlumeTestSupport.freePort;
import static io.tributary.connector.flume.FlumeTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.flume.agent.PullProtocol;
import io.tributary.connector.flume.agent.PulledBatch;
import io.tributary.connector.flume.agent.PulledEvent;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Record;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.avro.ipc.netty.NettyTransceiver;
import org.apache.avro.ipc.reflect.ReflectRequestor;
import org.apache.flume.Event;
import org.apache.flume.api.RpcClient;
import org.apache.flume.api.RpcClientFactory;
import org.apache.flume.event.EventBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pull mode against a real Flume 1.11 agent (child JVM) running the {@code tributary-flume-sink}:
 * file channel → {@code TributarySink} → {@link FlumePullReceiver}.
 */
class FlumePullReceiverIT {
  @TempDir Path dir;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private <T extends AutoCloseable> T track(T c) {
    closeables.add(c);
    return c;
  }

  /** avro source (we fill it) → file channel → tributary-flume-sink. */
  private FlumeAgent agent(String name, int avroPort, int sinkPort, long txTimeoutMs) {
    return track(
        new FlumeAgent(dir.resolve(name), "a1")
            .set("sources", "r1")
            .set("channels", "c1")
            .set("sinks", "k1")
            .set("sources.r1.type", "avro")
            .set("sources.r1.bind", "127.0.0.1")
            .set("sources.r1.port", avroPort)
            .set("sources.r1.channels", "c1")
            .fileChannel("c1")
            .set("sinks.k1.type", "io.tributary.connector.flume.agent.TributarySink")
            .set("sinks.k1.hostname", "127.0.0.1")
            .set("sinks.k1.port", sinkPort)
            .set("sinks.k1.threads", 4)
            .set("sinks.k1.transaction-timeout", txTimeoutMs)
            .set("sinks.k1.channel", "c1"));
  }

  /** Sends {@code n} numbered events into the agent; each was answered OK (in its file channel). */
  private static Set<String> fill(int avroPort, String prefix, int n) throws Exception {
    Properties p = new Properties();
    p.setProperty("hosts", "h1");
    p.setProperty("hosts.h1", "127.0.0.1:" + avroPort);
    p.setProperty("batch-size", "500");
    RpcClient c = RpcClientFactory.getInstance(p);
    Set<String> sent = new HashSet<>();
    try {
      for (int i = 0; i < n; i += 500) {
        List<Event> batch = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + 500); j++) {
          batch.add(
              EventBuilder.withBody(
                  prefix + j, StandardCharsets.UTF_8, java.util.Map.of("seq", "" + j)));
          sent.add(prefix + j);
        }
        c.appendBatch(batch);
      }
    } finally {
      c.close();
    }
    return sent;
  }

  private EmbeddedReceiver poller(String name, int sinkPort, Object... extra) throws Exception {
    List<Object> kv =
        new ArrayList<>(List.of("mode", "pull", "pull.hosts", "127.0.0.1:" + sinkPort));
    kv.addAll(List.of(extra));
    FlumePullReceiver r = new FlumePullReceiver(config(kv.toArray()), new SimpleMeterRegistry());
    return track(new EmbeddedReceiver(r, name));
  }

  @Test
  void pollsEveryEventOnceWithHeaders() throws Exception {
    int avro = freePort();
    int sink = freePort();
    agent("agent", avro, sink, 30_000).start().awaitPort(avro);
    Set<String> sent = fill(avro, "e", 5000);
    EmbeddedReceiver h =
        poller("pull-all", sink, "pull.batch-size", 300, "pull.threads-per-host", 3);
    h.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> h.durable().size() >= sent.size());
    List<Record> got = h.durable();
    assertThat(values(got)).hasSize(sent.size()).containsExactlyInAnyOrderElementsOf(sent);
    Record r = got.get(0);
    assertThat(new String(r.headers().get("seq"), StandardCharsets.UTF_8))
        .isEqualTo(r.valueAsString().substring(1));
    assertThat(r.position().partition()).matches("127\\.0\\.0\\.1:" + sink + "#[012]");
  }

  @Test
  void pollIsIdempotentPerBatchIdAndAckTellsCommittedFromRolledBack() throws Exception {
    int avro = freePort();
    int sink = freePort();
    agent("agent", avro, sink, 30_000).start().awaitPort(avro);
    fill(avro, "i", 50);
    NettyTransceiver t = new NettyTransceiver(new InetSocketAddress("127.0.0.1", sink), 10_000);
    track(t::close);
    PullProtocol p = ReflectRequestor.getClient(PullProtocol.class, t);
    PulledBatch first = p.poll(20, "p/r/slot@1");
    assertThat(first.error).isEmpty();
    assertThat(first.id).isEqualTo("p/r/slot@1");
    // the poller lost the answer and asks again with the same id: the same open batch
    PulledBatch again = p.poll(20, "p/r/slot@1");
    assertThat(bodies(again)).hasSize(20).isEqualTo(bodies(first));
    // another id opens another transaction with other events
    PulledBatch other = p.poll(20, "p/r/other@1");
    assertThat(bodies(other)).hasSize(20).doesNotContainAnyElementsOf(bodies(first));
    assertThat(p.ack("p/r/slot@1")).isEqualTo(PullProtocol.ACK_COMMITTED);
    assertThat(p.ack("p/r/slot@1")).isEqualTo(PullProtocol.ACK_ALREADY_COMMITTED);
    assertThat(p.ack("p/r/slot@0")).isEqualTo(PullProtocol.ACK_ALREADY_COMMITTED);
    assertThat(p.ack("p/r/slot@2")).isEqualTo(PullProtocol.ACK_UNKNOWN);
    assertThat(p.nack("p/r/other@1")).isTrue();
    assertThat(p.ack("p/r/other@1")).isEqualTo(PullProtocol.ACK_UNKNOWN);
    // a committed id polled again is a new batch: the nacked events come back, then the rest
    PulledBatch rest = p.poll(100, "p/r/slot@2");
    assertThat(bodies(rest)).hasSize(30).doesNotContainAnyElementsOf(bodies(first));
    assertThat(p.ack("p/r/slot@2")).isEqualTo(PullProtocol.ACK_COMMITTED);
    assertThat(p.poll(100, "p/r/slot@3").events).isEmpty();
    assertThat(p.poll(0, "p/r/slot@3").error).contains("maxEvents");
    assertThat(p.poll(10, "").error).contains("batchId");
  }

  @Test
  void crashBetweenStoreAndAckIsCommittedByTheRecoveryAckWithoutDuplicates() throws Exception {
    int avro = freePort();
    int sink = freePort();
    // A short transaction-timeout: a stored batch that the restarted poller did not ack would be
    // rolled back and served again within the during() window below.
    agent("agent", avro, sink, 3_000).start().awaitPort(avro);
    Set<String> sent = fill(avro, "c", 3000);
    EmbeddedReceiver h = poller("pull-recover", sink, "pull.batch-size", 100);
    h.holdCompletions(); // durable in the "WAL", but the store does not complete: no ack
    h.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> h.heldStoreCount() >= 2);
    int held = h.heldStoreCount();
    h.crash();
    assertThat(values(h.durable())).hasSize(held * 100);
    FlumePullReceiver fresh =
        new FlumePullReceiver(
            config("mode", "pull", "pull.hosts", "127.0.0.1:" + sink, "pull.batch-size", 100),
            new SimpleMeterRegistry());
    EmbeddedReceiver again = track(h.afterCrash(fresh));
    again.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> again.durable().size() >= sent.size());
    // longer than the transaction-timeout: nothing is served a second time
    await()
        .during(Duration.ofSeconds(4))
        .atMost(Duration.ofSeconds(10))
        .until(() -> again.durable().size() == sent.size());
    assertThat(values(again.durable()))
        .hasSize(sent.size())
        .containsExactlyInAnyOrderElementsOf(sent);
    assertThat(fresh.recoveredCount()).isEqualTo(held);
    assertThat(fresh.errorCount(FlumeErrorReason.RECOVERED_BATCH_ROLLED_BACK)).isZero();
  }

  @Test
  void recoveryAckAfterTheTransactionTimedOutIsCountedAsDuplicates() throws Exception {
    int avro = freePort();
    int sink = freePort();
    FlumeAgent agent = agent("agent", avro, sink, 1_000);
    agent.start().awaitPort(avro);
    Set<String> sent = fill(avro, "t", 400);
    EmbeddedReceiver h =
        poller("pull-late", sink, "pull.batch-size", 100, "pull.threads-per-host", 1);
    h.holdCompletions();
    h.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> h.heldStoreCount() >= 1);
    h.crash();
    // the gateway stays down longer than the sink's transaction-timeout: rolled back
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> agent.log().contains("event=batch_timed_out"));
    FlumePullReceiver fresh =
        new FlumePullReceiver(
            config(
                "mode",
                "pull",
                "pull.hosts",
                "127.0.0.1:" + sink,
                "pull.batch-size",
                100,
                "pull.threads-per-host",
                1),
            new SimpleMeterRegistry());
    EmbeddedReceiver again = track(h.afterCrash(fresh));
    again.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> again.durable().size() >= 500);
    assertThat(new HashSet<>(values(again.durable()))).isEqualTo(sent);
    assertThat(values(again.durable())).hasSize(500); // the one held batch, twice
    assertThat(fresh.errorCount(FlumeErrorReason.RECOVERED_BATCH_ROLLED_BACK)).isEqualTo(1);
    assertThat(fresh.recoveredCount()).isZero();
  }

  private static List<String> bodies(PulledBatch b) {
    List<String> out = new ArrayList<>();
    for (PulledEvent e : b.events) {
      byte[] bytes = new byte[e.body.remaining()];
      e.body.duplicate().get(bytes);
      out.add(new String(bytes, StandardCharsets.UTF_8));
    }
    return out;
  }

  @Test
  void failedStoreIsNackedAndTheAgentServesTheEventsAgain() throws Exception {
    int avro = freePort();
    int sink = freePort();
    agent("agent", avro, sink, 30_000).start().awaitPort(avro);
    Set<String> sent = fill(avro, "n", 1000);
    EmbeddedReceiver h = poller("pull-nack", sink, "pull.batch-size", 100);
    h.failReliableStoresUntilRestart();
    h.restartAutomatically();
    h.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> h.durable().size() >= sent.size());
    assertThat(h.failedRecords()).isNotEmpty();
    assertThat(h.restartsPerformed()).isGreaterThanOrEqualTo(1);
    // nothing of a failed store was durable and every nacked event came back: exactly once
    assertThat(values(h.durable())).hasSize(sent.size()).containsExactlyInAnyOrderElementsOf(sent);
  }

  @Test
  void agentKilledMidStreamLosesNothingItAccepted() throws Exception {
    int avro = freePort();
    int sink = freePort();
    FlumeAgent agent = agent("agent", avro, sink, 30_000);
    agent.start().awaitPort(avro);
    Set<String> sent = fill(avro, "k", 20_000);
    EmbeddedReceiver h = poller("pull-kill", sink, "pull.batch-size", 200);
    h.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> h.durable().size() >= 2000);
    agent.kill();
    int atKill = h.durable().size();
    assertThat(atKill).isLessThan(sent.size());
    agent.start();
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> new HashSet<>(values(h.durable())).size() >= sent.size());
    List<String> got = values(h.durable());
    assertThat(new HashSet<>(got)).isEqualTo(sent);
    // a batch stored but whose ack the killed agent never committed is served again: at most one
    // batch per poll thread (2 by default) at the kill
    assertThat(got.size() - sent.size()).isLessThanOrEqualTo(2 * 200);
    assertThat(((FlumePullReceiver) h.receiver()).errorCount(FlumeErrorReason.SINK_UNAVAILABLE))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void pollerStoppedWithBatchesOpenLosesNothing() throws Exception {
    int avro = freePort();
    int sink = freePort();
    agent("agent", avro, sink, 2_000).start().awaitPort(avro);
    Set<String> sent = fill(avro, "s", 3000);
    EmbeddedReceiver h = poller("pull-stop", sink, "pull.batch-size", 100);
    h.holdReliableStores();
    h.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> h.heldStoreCount() > 0);
    h.crash(); // the held batch never became durable and was never acked
    EmbeddedReceiver again =
        track(
            h.afterCrash(
                new FlumePullReceiver(
                    config("mode", "pull", "pull.hosts", "127.0.0.1:" + sink),
                    new SimpleMeterRegistry())));
    again.start();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> new HashSet<>(values(again.durable())).size() >= sent.size());
    // the restarted poller polled the held batches' ids again and got the same open batches
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(() -> again.durable().size() == sent.size());
    assertThat(values(again.durable()))
        .hasSize(sent.size())
        .containsExactlyInAnyOrderElementsOf(sent);
  }

  @Test
  void pushOnlyOptionsAreRejectedInPullMode() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new FlumePullReceiver(
                    config("mode", "pull", "pull.hosts", "nohostport", "tls.enabled", true),
                    new SimpleMeterRegistry()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("pull.hosts")
        .hasMessageContaining("tls.enabled");
  }

  @SuppressWarnings("unused")
  private static Set<String> numbered(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> prefix + i).collect(Collectors.toSet());
  }
}
