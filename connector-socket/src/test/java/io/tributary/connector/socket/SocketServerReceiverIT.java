package io.tributary.connector.socket;

import static io.tributary.connector.socket.TestSupport.config;
import static io.tributary.connector.socket.TestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.socket.internal.PlainIngestHandler;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocketServerReceiverIT {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private SocketServerReceiver receiver;
  private EmbeddedReceiver embedded;

  private int start(Object... options) throws Exception {
    receiver = new SocketServerReceiver(config(options), registry);
    embedded = new EmbeddedReceiver(receiver, "sock");
    embedded.start();
    closeables.add(embedded);
    return receiver.boundAddress().getPort();
  }

  private Socket connect(int port) throws Exception {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    closeables.add(s);
    return s;
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void linesFromSeveralConnectionsBecomeRecordsWithPositionsAndRemoteHeader() throws Exception {
    int port = start("mode", "server", "port", 0);
    try (Socket a = connect(port);
        Socket b = connect(port)) {
      a.getOutputStream().write("a1\r\na2\n".getBytes(StandardCharsets.UTF_8));
      b.getOutputStream().write("b1\n".getBytes(StandardCharsets.UTF_8));
      a.getOutputStream().write("\n".getBytes(StandardCharsets.UTF_8));
      await().atMost(Duration.ofSeconds(10)).until(() -> embedded.durable().size() == 4);
      assertThat(values(embedded.durable())).containsExactlyInAnyOrder("a1", "a2", "b1", "");
      assertThat(embedded.durable())
          .extracting(r -> r.position().offset())
          .containsExactlyInAnyOrder(0L, 1L, 2L, 3L);
      Record a1 =
          embedded.durable().stream()
              .filter(r -> r.valueAsString().equals("a1"))
              .findFirst()
              .orElseThrow();
      assertThat(a1.position().source()).isEqualTo("sock");
      assertThat(a1.position().partition()).isEqualTo("127.0.0.1:0");
      assertThat(new String(a1.headers().get("remote"), StandardCharsets.UTF_8))
          .isEqualTo("127.0.0.1:" + a.getLocalPort());
    }
    assertThat(registry.get("tributary.socket.records").counter().count()).isEqualTo(4);
  }

  @Test
  void offsetsContinueAfterRestartFromLastStoredOffset() throws Exception {
    int port = start("mode", "server", "port", 0);
    try (Socket a = connect(port)) {
      a.getOutputStream().write("x\ny\n".getBytes(StandardCharsets.UTF_8));
      await().until(() -> embedded.durable().size() == 2);
    }
    embedded.crash();
    embedded.start();
    try (Socket a = connect(receiver.boundAddress().getPort())) {
      a.getOutputStream().write("z\n".getBytes(StandardCharsets.UTF_8));
      await().until(() -> embedded.durable().size() == 3);
    }
    assertThat(embedded.durable().get(2).position())
        .isEqualTo(new SourcePosition("sock", "127.0.0.1:0", 2));
  }

  @Test
  void lengthPrefixedFrames() throws Exception {
    int port = start("mode", "server", "port", 0, "framing", "length-prefixed");
    try (Socket s = connect(port)) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      for (String v : List.of("one", "", "line\nwith newline")) {
        byte[] b = v.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
      }
      out.flush();
      await().until(() -> embedded.durable().size() == 3);
    }
    assertThat(values(embedded.durable())).containsExactly("one", "", "line\nwith newline");
  }

  @Test
  void oversizeLineIsDroppedConnectionKeptAndOthersUnaffected() throws Exception {
    int port = start("mode", "server", "port", 0, "max-frame-bytes", 16);
    Socket a = connect(port);
    Socket b = connect(port);
    a.getOutputStream()
        .write(("short\n" + "x".repeat(100) + "\nafter\n").getBytes(StandardCharsets.UTF_8));
    b.getOutputStream().write("other\n".getBytes(StandardCharsets.UTF_8));
    await().until(() -> embedded.durable().size() == 3);
    a.getOutputStream().write("more\n".getBytes(StandardCharsets.UTF_8));
    await().until(() -> embedded.durable().size() == 4);
    assertThat(values(embedded.durable()))
        .containsExactlyInAnyOrder("short", "after", "other", "more");
    assertThat(receiver.errorCount(SocketErrorReason.FRAME_TOO_LONG)).isEqualTo(1);
    assertThat(
            registry
                .get("tributary.socket.errors")
                .tag("reason", "frame_too_long")
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void oversizeLengthPrefixClosesThatConnectionOnly() throws Exception {
    int port =
        start("mode", "server", "port", 0, "framing", "length-prefixed", "max-frame-bytes", 16);
    Socket bad = connect(port);
    Socket good = connect(port);
    new DataOutputStream(bad.getOutputStream()).writeInt(1_000_000);
    assertThat(bad.getInputStream().read()).as("server closed the connection").isEqualTo(-1);
    DataOutputStream out = new DataOutputStream(good.getOutputStream());
    out.writeInt(2);
    out.write("ok".getBytes(StandardCharsets.UTF_8));
    out.flush();
    await().until(() -> embedded.durable().size() == 1);
    assertThat(values(embedded.durable())).containsExactly("ok");
    assertThat(receiver.errorCount(SocketErrorReason.FRAME_TOO_LONG)).isEqualTo(1);
  }

  @Test
  void invalidUtf8LineIsDroppedAndCounted() throws Exception {
    int port = start("mode", "server", "port", 0);
    try (Socket s = connect(port)) {
      OutputStream out = s.getOutputStream();
      out.write(new byte[] {'b', 'a', 'd', (byte) 0xFF, (byte) 0xFE, '\n'});
      out.write("good\n".getBytes(StandardCharsets.UTF_8));
      await().until(() -> embedded.durable().size() == 1);
    }
    assertThat(values(embedded.durable())).containsExactly("good");
    assertThat(receiver.errorCount(SocketErrorReason.INVALID_UTF8)).isEqualTo(1);
  }

  @Test
  void disconnectInTheMiddleOfAFrameStoresCompleteFramesAndCountsTheTruncatedOne()
      throws Exception {
    int port = start("mode", "server", "port", 0);
    try (Socket s = connect(port)) {
      s.getOutputStream().write("complete\npart".getBytes(StandardCharsets.UTF_8));
    }
    await().until(() -> receiver.errorCount(SocketErrorReason.TRUNCATED_FRAME) == 1);
    await().until(() -> embedded.durable().size() == 1);
    assertThat(values(embedded.durable())).containsExactly("complete");
  }

  @Test
  void tooManyConnectionsAreClosed() throws Exception {
    int port = start("mode", "server", "port", 0, "max-connections", 1);
    Socket first = connect(port);
    first.getOutputStream().write("1\n".getBytes(StandardCharsets.UTF_8));
    await().until(() -> embedded.durable().size() == 1);
    Socket second = connect(port);
    assertThat(second.getInputStream().read()).isEqualTo(-1);
    assertThat(receiver.errorCount(SocketErrorReason.TOO_MANY_CONNECTIONS)).isEqualTo(1);
    first.getOutputStream().write("2\n".getBytes(StandardCharsets.UTF_8));
    await().until(() -> embedded.durable().size() == 2);
  }

  @Test
  void tlsWithSelfSignedCertificate(@TempDir Path dir) throws Exception {
    TestSupport.Cert cert = TestSupport.selfSignedCert(dir);
    int port =
        start(
            "mode",
            "server",
            "port",
            0,
            "tls.enabled",
            true,
            "tls.cert-file",
            cert.certPem().toString(),
            "tls.key-file",
            cert.keyPem().toString());
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (FileInputStream in = new FileInputStream(cert.certPem().toFile())) {
      trust.setCertificateEntry(
          "test",
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.startHandshake();
      s.getOutputStream().write("secret 1\nsecret 2\n".getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      await().until(() -> embedded.durable().size() == 2);
    }
    assertThat(values(embedded.durable())).containsExactly("secret 1", "secret 2");

    // A client speaking plain text to the TLS port is refused; the server goes on.
    try (Socket plain = connect(port)) {
      plain.getOutputStream().write("not tls\n".getBytes(StandardCharsets.UTF_8));
      InputStream in = plain.getInputStream();
      while (in.read() != -1) {
        // drain until the server closes
      }
    }
    await().until(() -> receiver.errorCount(SocketErrorReason.TLS_HANDSHAKE) == 1);
    assertThat(embedded.durable()).hasSize(2);
  }

  @Test
  void slowStoresPauseReadingAndNothingIsLost() throws Exception {
    int port = start("mode", "server", "port", 0);
    embedded.holdReliableStores();
    int lines = 20_000;
    String pad = "p".repeat(200);
    Socket s = connect(port);
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              try {
                OutputStream out = s.getOutputStream();
                for (int i = 0; i < lines; i++) {
                  out.write((i + " " + pad + "\n").getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await().until(() -> embedded.heldStoreCount() >= 1);
    // While groups are not stored the server submits at most MAX_IN_FLIGHT of them and then stops
    // reading: nothing
    // durable, the number of held groups bounded. (Whether the 4 MB writer itself blocks depends on
    // the kernel's
    // loopback buffer autotuning, so that is not asserted.)
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                embedded.heldStoreCount() <= PlainIngestHandler.MAX_IN_FLIGHT
                    && embedded.durable().isEmpty());
    embedded.releaseReliableStores();
    writer.get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> embedded.durable().size() == lines);
    List<Record> durable = embedded.durable();
    for (int i = 0; i < lines; i++) {
      assertThat(durable.get(i).valueAsString()).startsWith(i + " ");
    }
  }
}
