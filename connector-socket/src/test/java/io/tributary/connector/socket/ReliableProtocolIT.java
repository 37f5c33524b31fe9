package io.tributary.connector.socket;

import static io.tributary.connector.socket.TestSupport.config;
import static io.tributary.connector.socket.TestSupport.data;
import static io.tributary.connector.socket.TestSupport.hello;
import static io.tributary.connector.socket.TestSupport.readReplies;
import static io.tributary.connector.socket.TestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.socket.TestSupport.Reply;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReliableProtocolIT {
  private static final Duration FLUSH = Duration.ofSeconds(30);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private SocketServerReceiver receiver;
  private EmbeddedReceiver embedded;

  private int start(Object... extra) throws Exception {
    List<Object> opts = new ArrayList<>(List.of("mode", "server", "reliable", true));
    opts.addAll(List.of(extra));
    if (!opts.contains("port")) {
      opts.addAll(List.of("port", 0));
    }
    receiver = new SocketServerReceiver(config(opts.toArray()), registry);
    embedded = new EmbeddedReceiver(receiver, "rel");
    embedded.start();
    closeables.add(embedded);
    return receiver.boundAddress().getPort();
  }

  private <T extends AutoCloseable> T closeLater(T c) {
    closeables.add(c);
    return c;
  }

  private Socket raw(int port) throws Exception {
    Socket s = closeLater(new Socket("127.0.0.1", port));
    s.setSoTimeout(10_000);
    return s;
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void framesAreStoredWithProducerPositionsAndAcknowledged() throws Exception {
    int port = start();
    ReliableSocketClient client = closeLater(ReliableSocketClient.connect("127.0.0.1", port, "p1"));
    for (int i = 0; i < 100; i++) {
      assertThat(client.send("line " + i)).isEqualTo(i);
    }
    assertThat(client.flush(FLUSH)).isTrue();
    assertThat(client.lastAcked()).isEqualTo(99);
    assertThat(client.unackedCount()).isZero();
    List<Record> durable = embedded.durable();
    assertThat(durable).hasSize(100);
    for (int i = 0; i < 100; i++) {
      assertThat(durable.get(i).valueAsString()).isEqualTo("line " + i);
      assertThat(durable.get(i).position()).isEqualTo(new SourcePosition("rel", "p1", i));
    }
  }

  @Test
  void acknowledgesOnlyAfterTheStoreCompleted() throws Exception {
    int port = start();
    ReliableSocketClient client = closeLater(ReliableSocketClient.connect("127.0.0.1", port, "p1"));
    embedded.holdReliableStores();
    client.send("a");
    client.send("b");
    client.send("c");
    await().until(() -> embedded.heldStoreCount() >= 1);
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(5))
        .until(() -> client.lastAcked() == -1 && embedded.durable().isEmpty());
    embedded.releaseReliableStores();
    assertThat(client.flush(FLUSH)).isTrue();
    assertThat(client.lastAcked()).isEqualTo(2);
    assertThat(values(embedded.durable())).containsExactly("a", "b", "c");
  }

  @Test
  void serverCrashesAndRestartsWhileSendingEveryAcknowledgedFrameStoredExactlyOnce()
      throws Exception {
    int port = TestSupport.freePort();
    start("port", port);
    ReliableSocketClient client =
        closeLater(
            ReliableSocketClient.builder("127.0.0.1", port, "crashy")
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .maxUnacked(64)
                .connect());
    int phase = 750;
    int total = 4 * phase;
    Semaphore gate = new Semaphore(0);
    CompletableFuture<Void> sender =
        CompletableFuture.runAsync(
            () -> {
              try {
                for (int i = 0; i < total; i++) {
                  if (i % phase == 0) {
                    gate.acquire();
                  }
                  client.send("v" + i);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
              }
            });
    for (int crash = 0; crash < 3; crash++) {
      int phaseStart = crash * phase;
      // Stores in flight at the crash fail: their frames were never acknowledged and must be
      // resent. While stores
      // are held no ACK arrives, so the sender blocks after 64 frames: it is mid-phase when the
      // crash happens.
      embedded.holdReliableStores();
      gate.release();
      await().atMost(Duration.ofSeconds(10)).until(() -> embedded.heldStoreCount() >= 1);
      assertThat(client.lastAcked()).isEqualTo(phaseStart - 1);
      embedded.crash();
      embedded.releaseReliableStores();
      embedded.start();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> client.lastAcked() == phaseStart + phase - 1);
    }
    gate.release();
    sender.get(60, TimeUnit.SECONDS);
    assertThat(client.flush(FLUSH)).isTrue();
    assertThat(client.lastAcked()).isEqualTo(total - 1);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      expected.add("v" + i);
    }
    assertThat(values(embedded.durable())).containsExactlyElementsOf(expected);
    assertThat(client.connectionCount()).isGreaterThanOrEqualTo(4);
  }

  @Test
  void restartedClientProcessContinuesTheSequence() throws Exception {
    int port = start();
    try (ReliableSocketClient first = ReliableSocketClient.connect("127.0.0.1", port, "p")) {
      first.send("one");
      first.send("two");
      assertThat(first.flush(FLUSH)).isTrue();
    }
    try (ReliableSocketClient second = ReliableSocketClient.connect("127.0.0.1", port, "p")) {
      assertThat(second.lastAcked()).isEqualTo(1);
      assertThat(second.send("three")).isEqualTo(2);
      assertThat(second.flush(FLUSH)).isTrue();
    }
    assertThat(values(embedded.durable())).containsExactly("one", "two", "three");
  }

  @Test
  void clientKeepsItsNumberingWhenTheServerForgotItsProducer() throws Exception {
    int port = TestSupport.freePort();
    start("port", port);
    ReliableSocketClient client =
        closeLater(
            ReliableSocketClient.builder("127.0.0.1", port, "returning")
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .connect());
    client.send("one");
    client.send("two");
    assertThat(client.flush(FLUSH)).isTrue();
    // A server that knows nothing of the producer: as after reliable.producer-idle-timeout (or a
    // new checkpoint).
    embedded.close();
    start("port", port);

    assertThat(client.send("three")).isEqualTo(2);
    assertThat(client.flush(FLUSH)).isTrue();

    assertThat(client.lastAcked()).isEqualTo(2);
    assertThat(embedded.durable())
        .extracting(Record::position)
        .containsExactly(new SourcePosition("rel", "returning", 2));
  }

  @Test
  void firstDataAfterWelcomeMinusOneStartsTheSequence() throws Exception {
    int port = start();
    Socket s = raw(port);
    OutputStream out = s.getOutputStream();
    out.write(hello("forgotten"));
    out.write(data(1001, "a"));
    out.write(data(1002, "b"));
    out.write(data(1001, "a again"));
    out.flush();
    await().until(() -> registry.get("tributary.socket.duplicates").counter().count() == 1);
    s.shutdownOutput();
    List<Reply> replies = readReplies(s.getInputStream(), 100);
    assertThat(replies.get(0)).isEqualTo(new Reply((byte) 0x81, -1, 0, null));
    assertThat(replies.get(replies.size() - 1)).isEqualTo(new Reply((byte) 0x82, 1002, 0, null));
    assertThat(values(embedded.durable())).containsExactly("a", "b");
  }

  @Test
  void duplicatesAreDroppedButAcknowledged() throws Exception {
    int port = start();
    Socket s = raw(port);
    OutputStream out = s.getOutputStream();
    out.write(hello("dup"));
    out.write(data(0, "a"));
    out.write(data(1, "b"));
    out.flush();
    await().until(() -> embedded.durable().size() == 2);
    out.write(data(1, "b again"));
    out.write(data(0, "a again"));
    out.flush();
    await().until(() -> registry.get("tributary.socket.duplicates").counter().count() == 2);
    s.shutdownOutput();
    List<Reply> replies = readReplies(s.getInputStream(), 100);
    assertThat(replies.get(0)).isEqualTo(new Reply((byte) 0x81, -1, 0, null));
    assertThat(replies.get(replies.size() - 1)).isEqualTo(new Reply((byte) 0x82, 1, 0, null));
    assertThat(values(embedded.durable())).containsExactly("a", "b");
  }

  @Test
  void sequenceGapIsAnErrorAndClosesTheConnection() throws Exception {
    int port = start();
    Socket s = raw(port);
    s.getOutputStream().write(hello("gap"));
    s.getOutputStream().write(data(0, "a"));
    s.getOutputStream().write(data(5, "f"));
    List<Reply> replies = readReplies(s.getInputStream(), 100);
    Reply last = replies.get(replies.size() - 1);
    assertThat(last.type()).isEqualTo((byte) 0x83);
    assertThat(last.code()).isEqualTo(SocketErrorReason.SEQUENCE_GAP.code());
    assertThat(last.message()).contains("seq=5").contains("next expected is 1");
    assertThat(receiver.errorCount(SocketErrorReason.SEQUENCE_GAP)).isEqualTo(1);
  }

  @Test
  void garbageGetsBadMagicErrorWhileOtherProducersGoOn() throws Exception {
    int port = start();
    ReliableSocketClient good = closeLater(ReliableSocketClient.connect("127.0.0.1", port, "good"));
    good.send("before");
    Socket s = raw(port);
    s.getOutputStream()
        .write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    List<Reply> replies = readReplies(s.getInputStream(), 10);
    assertThat(replies)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.code()).isEqualTo(SocketErrorReason.BAD_MAGIC.code());
              assertThat(r.message()).contains("TRB1");
            });
    good.send("after");
    assertThat(good.flush(FLUSH)).isTrue();
    assertThat(values(embedded.durable())).containsExactly("before", "after");
    assertThat(receiver.errorCount(SocketErrorReason.BAD_MAGIC)).isEqualTo(1);
  }

  @Test
  void oversizeDataFrameIsAnErrorAndTheClientRefusesOversizePayloads() throws Exception {
    int port = start("max-frame-bytes", 8);
    Socket s = raw(port);
    s.getOutputStream().write(hello("big"));
    s.getOutputStream().write(data(0, "123456789"));
    List<Reply> replies = readReplies(s.getInputStream(), 10);
    assertThat(replies.get(replies.size() - 1).code())
        .isEqualTo(SocketErrorReason.FRAME_TOO_LONG.code());

    ReliableSocketClient client =
        closeLater(ReliableSocketClient.builder("127.0.0.1", port, "c").maxFrameBytes(8).connect());
    assertThatThrownBy(() -> client.send("123456789")).isInstanceOf(FrameTooLongException.class);
    assertThat(client.unackedCount()).isZero();
  }

  @Test
  void disconnectMidFrameDropsThePartialFrameWithoutAcknowledgingIt() throws Exception {
    int port = start();
    Socket s = raw(port);
    s.getOutputStream().write(hello("mid"));
    s.getOutputStream().write(data(0, "whole"));
    byte[] partial = data(1, "partial frame");
    s.getOutputStream().write(partial, 0, partial.length - 3);
    s.getOutputStream().flush();
    await().until(() -> embedded.durable().size() == 1);
    s.close();
    await().until(() -> receiver.errorCount(SocketErrorReason.TRUNCATED_FRAME) == 1);
    try (ReliableSocketClient client = ReliableSocketClient.connect("127.0.0.1", port, "mid")) {
      assertThat(client.lastAcked()).isZero();
      assertThat(client.send("partial frame")).isEqualTo(1);
      assertThat(client.flush(FLUSH)).isTrue();
    }
    assertThat(values(embedded.durable())).containsExactly("whole", "partial frame");
  }

  @Test
  void newConnectionWithSameProducerIdReplacesTheOldOne() throws Exception {
    int port = start();
    Socket old = raw(port);
    old.getOutputStream().write(hello("same"));
    ReliableSocketClient client =
        closeLater(ReliableSocketClient.connect("127.0.0.1", port, "same"));
    List<Reply> replies = readReplies(old.getInputStream(), 10);
    assertThat(replies.get(replies.size() - 1).code()).isEqualTo(SocketErrorReason.REPLACED.code());
    client.send("x");
    assertThat(client.flush(FLUSH)).isTrue();
  }

  @Test
  void sendBlocksWhileTooMuchIsUnacknowledgedAndNothingIsLost() throws Exception {
    int port = start();
    ReliableSocketClient client =
        closeLater(ReliableSocketClient.builder("127.0.0.1", port, "bp").maxUnacked(5).connect());
    embedded.holdReliableStores();
    for (int i = 0; i < 5; i++) {
      client.send("m" + i);
    }
    CompletableFuture<Long> sixth =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return client.send("m5");
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
              }
            });
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(5))
        .until(() -> !sixth.isDone());
    assertThat(embedded.heldStoreCount()).as("one group in flight per connection").isEqualTo(1);
    embedded.releaseReliableStores();
    assertThat(sixth.get(10, TimeUnit.SECONDS)).isEqualTo(5);
    assertThat(client.flush(FLUSH)).isTrue();
    assertThat(values(embedded.durable())).containsExactly("m0", "m1", "m2", "m3", "m4", "m5");
  }

  @Test
  void connectRetriesWhileTheServerIsDownAndFailsAfterTheTimeout() throws Exception {
    int port = TestSupport.freePort();
    assertThatThrownBy(
            () ->
                ReliableSocketClient.builder("127.0.0.1", port, "x")
                    .connectTimeout(Duration.ofMillis(300))
                    .connect())
        .isInstanceOf(SocketConnectException.class)
        .hasMessageContaining("Connection refused");
  }

  @Test
  void tlsConnection(@TempDir Path dir) throws Exception {
    TestSupport.Cert cert = TestSupport.selfSignedCert(dir);
    int port =
        start(
            "tls.enabled",
            true,
            "tls.cert-file",
            cert.certPem().toString(),
            "tls.key-file",
            cert.keyPem().toString());
    ReliableSocketClient client =
        closeLater(
            ReliableSocketClient.builder("127.0.0.1", port, "tls").tls(cert.certPem()).connect());
    for (int i = 0; i < 50; i++) {
      client.send("s" + i);
    }
    assertThat(client.flush(FLUSH)).isTrue();
    assertThat(embedded.durable()).hasSize(50);
  }
}
