package io.tributary.connector.flume;

import static io.tributary.connector.flume.FlumeTestSupport.config;
import static io.tributary.connector.flume.FlumeTestSupport.freePort;
import static io.tributary.connector.flume.FlumeTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Record;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
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
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.apache.flume.Event;
import org.apache.flume.EventDeliveryException;
import org.apache.flume.api.RpcClient;
import org.apache.flume.api.RpcClientFactory;
import org.apache.flume.event.EventBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Push mode against a real Flume 1.11 agent and real {@code flume-ng-sdk} clients. */
class FlumePushReceiverIT {
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

  private EmbeddedReceiver start(String name, Object... keyValues) throws Exception {
    FlumePushReceiver r = new FlumePushReceiver(config(keyValues), new SimpleMeterRegistry());
    EmbeddedReceiver h = track(new EmbeddedReceiver(r, name));
    h.start();
    return h;
  }

  private static FlumePushReceiver receiver(EmbeddedReceiver h) {
    return (FlumePushReceiver) h.receiver();
  }

  private static List<Event> events(String prefix, int n) {
    List<Event> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(EventBuilder.withBody(prefix + i, StandardCharsets.UTF_8));
    }
    return out;
  }

  private static Set<String> expected(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> prefix + i).collect(Collectors.toSet());
  }

  private static RpcClient client(Properties p) {
    return RpcClientFactory.getInstance(p);
  }

  private static Properties hosts(String clientType, int... ports) {
    Properties p = new Properties();
    if (clientType != null) {
      p.setProperty("client.type", clientType);
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < ports.length; i++) {
      names.add("h" + i);
      p.setProperty("hosts.h" + i, "127.0.0.1:" + ports[i]);
    }
    p.setProperty("hosts", String.join(" ", names));
    p.setProperty("batch-size", "100");
    p.setProperty("connect-timeout", "2000");
    p.setProperty("request-timeout", "10000");
    return p;
  }

  // ------------------------------------------------------------------ a real agent

  @Test
  void agentWithFileChannelAndAvroSinkDeliversEveryEventWithHeaders() throws Exception {
    int port = freePort();
    EmbeddedReceiver h = start("push-agent", "mode", "push", "port", port);
    int n = 3000;
    FlumeAgent agent =
        track(
            new FlumeAgent(dir.resolve("agent"), "a1")
                .set("sources", "r1")
                .set("channels", "c1")
                .set("sinks", "k1")
                .set("sources.r1.type", "seq")
                .set("sources.r1.totalEvents", n)
                .set("sources.r1.batchSize", 100)
                .set("sources.r1.channels", "c1")
                .set("sources.r1.interceptors", "ts origin")
                .set("sources.r1.interceptors.ts.type", "timestamp")
                .set("sources.r1.interceptors.origin.type", "static")
                .set("sources.r1.interceptors.origin.key", "origin")
                .set("sources.r1.interceptors.origin.value", "agent-a1")
                .fileChannel("c1")
                .set("sinks.k1.type", "avro")
                .set("sinks.k1.hostname", "127.0.0.1")
                .set("sinks.k1.port", port)
                .set("sinks.k1.batch-size", 200)
                .set("sinks.k1.channel", "c1"));
    agent.start();
    await("3000 events from the agent")
        .atMost(Duration.ofSeconds(90))
        .until(() -> h.durable().size() >= n);
    List<Record> got = h.durable();
    assertThat(values(got)).hasSize(n).containsExactlyInAnyOrderElementsOf(expected("", n));
    Record first = got.get(0);
    assertThat(new String(first.headers().get("origin"), StandardCharsets.UTF_8))
        .isEqualTo("agent-a1");
    long headerTs =
        Long.parseLong(new String(first.headers().get("timestamp"), StandardCharsets.UTF_8));
    assertThat(first.timestamp()).isEqualTo(headerTs);
    assertThat(first.position().partition()).isEqualTo("127.0.0.1:" + port);
    assertThat(got.stream().map(r -> r.position().offset()).collect(Collectors.toSet())).hasSize(n);
  }

  // ------------------------------------------------------------------ RpcClients

  @Test
  void defaultRpcClientAppendAndAppendBatchAreAcknowledgedOnceDurable() throws Exception {
    int port = freePort();
    EmbeddedReceiver h = start("push-default", "mode", "push", "port", port);
    RpcClient c = client(hosts(null, port));
    try {
      c.append(EventBuilder.withBody("single", StandardCharsets.UTF_8));
      c.appendBatch(events("b", 500));
    } finally {
      c.close();
    }
    // appendBatch returned: the store completed before the OK
    assertThat(values(h.durable())).hasSize(501).contains("single", "b0", "b499");
  }

  @Test
  void heldStoreIsNotAnsweredUntilDurable() throws Exception {
    int port = freePort();
    FlumePushReceiver r =
        new FlumePushReceiver(config("mode", "push", "port", port), new SimpleMeterRegistry());
    EmbeddedReceiver h = track(new EmbeddedReceiver(r, "push-held"));
    h.holdReliableStores();
    h.start();
    RpcClient c = client(hosts(null, port));
    Thread sender =
        new Thread(
            () -> {
              try {
                c.appendBatch(events("held", 10));
              } catch (EventDeliveryException e) {
                throw new IllegalStateException(e);
              }
            });
    sender.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> h.heldStoreCount() > 0);
    assertThat(sender.isAlive()).as("appendBatch answered before the store completed").isTrue();
    h.releaseReliableStores();
    sender.join(10_000);
    assertThat(sender.isAlive()).isFalse();
    c.close();
    assertThat(values(h.durable())).containsExactlyInAnyOrderElementsOf(expected("held", 10));
  }

  @Test
  void loadBalancingRpcClientSpreadsOverTwoReceivers() throws Exception {
    int p1 = freePort();
    int p2 = freePort();
    EmbeddedReceiver h1 = start("push-lb1", "mode", "push", "port", p1);
    EmbeddedReceiver h2 = start("push-lb2", "mode", "push", "port", p2);
    Properties p = hosts("default_loadbalance", p1, p2);
    p.setProperty("host-selector", "round_robin");
    RpcClient c = client(p);
    try {
      for (int i = 0; i < 20; i++) {
        c.appendBatch(events("lb" + i + "-", 50));
      }
    } finally {
      c.close();
    }
    Set<String> all = new HashSet<>(values(h1.durable()));
    all.addAll(values(h2.durable()));
    assertThat(h1.durable()).isNotEmpty();
    assertThat(h2.durable()).isNotEmpty();
    assertThat(h1.durable().size() + h2.durable().size()).isEqualTo(1000);
    assertThat(all).hasSize(1000);
  }

  @Test
  void failoverRpcClientGoesOnWhenTheFirstReceiverStops() throws Exception {
    int p1 = freePort();
    int p2 = freePort();
    EmbeddedReceiver h1 = start("push-fo1", "mode", "push", "port", p1);
    EmbeddedReceiver h2 = start("push-fo2", "mode", "push", "port", p2);
    RpcClient c = client(hosts("default_failover", p1, p2));
    try {
      c.appendBatch(events("before", 100));
      h1.stopReceiver();
      c.appendBatch(events("after", 100));
    } finally {
      c.close();
    }
    assertThat(values(h1.durable())).containsExactlyInAnyOrderElementsOf(expected("before", 100));
    assertThat(values(h2.durable())).containsExactlyInAnyOrderElementsOf(expected("after", 100));
  }

  @Test
  void deflateCompressionInteroperatesWithTheRpcClient() throws Exception {
    int port = freePort();
    EmbeddedReceiver h =
        start("push-deflate", "mode", "push", "port", port, "compression-type", "deflate");
    Properties p = hosts(null, port);
    p.setProperty("compression-type", "deflate");
    p.setProperty("compression-level", "6");
    RpcClient c = client(p);
    try {
      c.appendBatch(events("z", 300));
    } finally {
      c.close();
    }
    assertThat(values(h.durable())).containsExactlyInAnyOrderElementsOf(expected("z", 300));
  }

  @Test
  void tlsInteroperatesWithTheRpcClient() throws Exception {
    int port = freePort();
    Path ks = FlumeTestSupport.keystore(dir, "changeit");
    EmbeddedReceiver h =
        start(
            "push-tls",
            "mode",
            "push",
            "port",
            port,
            "tls.enabled",
            true,
            "tls.keystore",
            ks.toString(),
            "tls.keystore-password",
            "changeit");
    Properties p = hosts(null, port);
    p.setProperty("ssl", "true");
    p.setProperty("trust-all-certs", "true");
    RpcClient c = client(p);
    try {
      c.appendBatch(events("tls", 100));
    } finally {
      c.close();
    }
    assertThat(values(h.durable())).containsExactlyInAnyOrderElementsOf(expected("tls", 100));
    // a plain client on the TLS port: a counted handshake error
    RpcClient plain = null;
    try {
      plain = client(hosts(null, port));
      RpcClient pc = plain;
      assertThatThrownBy(() -> pc.appendBatch(events("plain", 1)))
          .isInstanceOf(EventDeliveryException.class);
    } catch (RuntimeException expectedOnConnect) {
      // the handshake may fail while connecting
    } finally {
      if (plain != null) {
        plain.close();
      }
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiver(h).errorCount(FlumeErrorReason.TLS_HANDSHAKE) >= 1);
  }

  @Test
  void ipFilterDeniesAndCounts() throws Exception {
    int port = freePort();
    EmbeddedReceiver h =
        start("push-ipf", "mode", "push", "port", port, "ip-filter-rules", "deny:ip:127.*");
    assertThatThrownBy(
            () -> {
              RpcClient c = client(hosts(null, port));
              try {
                c.appendBatch(events("denied", 1));
              } finally {
                c.close();
              }
            })
        .isInstanceOfAny(EventDeliveryException.class, RuntimeException.class);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiver(h).errorCount(FlumeErrorReason.IP_REJECTED) >= 1);
    assertThat(h.durable()).isEmpty();
  }

  // ------------------------------------------------------------------ bad input

  /** After a bad sender, a good one is still served. */
  private static void goodSenderStillServed(EmbeddedReceiver h, int port, String prefix)
      throws Exception {
    RpcClient c = client(hosts(null, port));
    try {
      c.appendBatch(events(prefix, 10));
    } finally {
      c.close();
    }
    assertThat(values(h.durable())).containsAll(expected(prefix, 10));
  }

  private static void rawSend(int port, byte[] bytes, boolean close) throws Exception {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
    OutputStream out = s.getOutputStream();
    out.write(bytes);
    out.flush();
    if (close) {
      s.close();
    }
  }

  @Test
  void garbageBytesAreABadFrame() throws Exception {
    int port = freePort();
    EmbeddedReceiver h = start("push-garbage", "mode", "push", "port", port);
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.getOutputStream()
          .write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      assertThat(s.getInputStream().read()).as("closed by the server").isEqualTo(-1);
    }
    assertThat(receiver(h).errorCount(FlumeErrorReason.BAD_FRAME)).isEqualTo(1);
    goodSenderStillServed(h, port, "good");
  }

  @Test
  void wellFramedGarbageIsABadRequest() throws Exception {
    int port = freePort();
    EmbeddedReceiver h = start("push-badreq", "mode", "push", "port", port);
    byte[] junk = "not avro at all".getBytes(StandardCharsets.UTF_8);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(12 + junk.length);
    b.putInt(1).putInt(1).putInt(junk.length).put(junk);
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.getOutputStream().write(b.array());
      s.getOutputStream().flush();
      s.getInputStream().readAllBytes(); // the error answer, then the close
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiver(h).errorCount(FlumeErrorReason.BAD_REQUEST) == 1);
    goodSenderStillServed(h, port, "good");
  }

  @Test
  void truncatedRequestIsCounted() throws Exception {
    int port = freePort();
    EmbeddedReceiver h = start("push-trunc", "mode", "push", "port", port);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(20);
    b.putInt(1).putInt(1).putInt(1000).putInt(42).putInt(43); // promises 1000 bytes, sends 8
    rawSend(port, b.array(), true);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiver(h).errorCount(FlumeErrorReason.TRUNCATED_REQUEST) == 1);
    goodSenderStillServed(h, port, "good");
  }

  @Test
  void tlsHandshakeOnThePlainPortIsCounted() throws Exception {
    int port = freePort();
    EmbeddedReceiver h = start("push-tlsplain", "mode", "push", "port", port);
    SSLSocket s =
        (SSLSocket)
            SSLSocketFactory.getDefault().createSocket(InetAddress.getLoopbackAddress(), port);
    try (s) {
      assertThatThrownBy(s::startHandshake).isInstanceOf(java.io.IOException.class);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiver(h).errorCount(FlumeErrorReason.TLS_ON_PLAIN_PORT) == 1);
    goodSenderStillServed(h, port, "good");
  }

  @Test
  void oversizeBatchIsAnsweredFailedAndCounted() throws Exception {
    int port = freePort();
    EmbeddedReceiver h =
        start("push-bigbatch", "mode", "push", "port", port, "max-batch-events", 50);
    RpcClient c = client(hosts(null, port));
    try {
      assertThatThrownBy(() -> c.appendBatch(events("big", 100)))
          .isInstanceOf(EventDeliveryException.class);
    } finally {
      c.close();
    }
    assertThat(receiver(h).errorCount(FlumeErrorReason.BATCH_TOO_LARGE)).isEqualTo(1);
    assertThat(h.durable()).isEmpty();
    goodSenderStillServed(h, port, "good");
  }

  @Test
  void oversizeRequestClosesTheConnectionAndIsCounted() throws Exception {
    int port = freePort();
    EmbeddedReceiver h =
        start("push-bigreq", "mode", "push", "port", port, "max-request-bytes", 4096);
    RpcClient c = client(hosts(null, port));
    try {
      List<Event> big = List.of(EventBuilder.withBody(new byte[10_000]));
      assertThatThrownBy(() -> c.appendBatch(big)).isInstanceOf(EventDeliveryException.class);
    } finally {
      c.close();
    }
    assertThat(receiver(h).errorCount(FlumeErrorReason.REQUEST_TOO_LARGE)).isEqualTo(1);
    goodSenderStillServed(h, port, "good");
  }

  @Test
  void deflateStreamThatDoesNotInflateIsCounted() throws Exception {
    int port = freePort();
    EmbeddedReceiver h =
        start("push-baddeflate", "mode", "push", "port", port, "compression-type", "deflate");
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.getOutputStream().write(new byte[] {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
      s.getOutputStream().flush();
      s.getInputStream().readAllBytes(); // at most the deflater's trailer, then the close
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiver(h).errorCount(FlumeErrorReason.BAD_DEFLATE) == 1);
    Properties p = hosts(null, port);
    p.setProperty("compression-type", "deflate");
    RpcClient c = client(p);
    try {
      c.appendBatch(events("good", 10));
    } finally {
      c.close();
    }
    assertThat(values(h.durable())).containsAll(expected("good", 10));
  }

  @Test
  void idleAndStalledClientsAreClosedAndCounted() throws Exception {
    int port = freePort();
    EmbeddedReceiver h = start("push-idle", "mode", "push", "port", port, "idle-timeout", "300ms");
    try (Socket idle = new Socket(InetAddress.getLoopbackAddress(), port);
        Socket stalled = new Socket(InetAddress.getLoopbackAddress(), port)) {
      stalled.getOutputStream().write(new byte[] {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 7});
      stalled.getOutputStream().flush();
      assertThat(idle.getInputStream().read()).isEqualTo(-1);
      assertThat(stalled.getInputStream().read()).isEqualTo(-1);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                receiver(h).errorCount(FlumeErrorReason.IDLE_TIMEOUT) == 1
                    && receiver(h).errorCount(FlumeErrorReason.TRUNCATED_REQUEST) == 1);
    goodSenderStillServed(h, port, "good");
  }

  @Test
  void connectionsBeyondMaxConnectionsAreClosedAndCounted() throws Exception {
    int port = freePort();
    EmbeddedReceiver h = start("push-maxconn", "mode", "push", "port", port, "max-connections", 1);
    try (Socket first = new Socket(InetAddress.getLoopbackAddress(), port)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> receiver(h).boundAddress() != null);
      try (Socket second = new Socket(InetAddress.getLoopbackAddress(), port)) {
        assertThat(second.getInputStream().read()).isEqualTo(-1);
      }
      assertThat(receiver(h).errorCount(FlumeErrorReason.TOO_MANY_CONNECTIONS)).isEqualTo(1);
    }
  }
}
