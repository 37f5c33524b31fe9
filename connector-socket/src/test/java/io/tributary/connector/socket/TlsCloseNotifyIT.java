package io.tributary.connector.socket;

import static io.tributary.connector.socket.TestSupport.config;
import static io.tributary.connector.socket.TestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import io.tributary.sdk.testkit.ReceiverContractTest;
import io.tributary.sdk.testkit.ReceiverTestContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real TLS clients that end a clean send with {@code close_notify} and wait for the server's answer
 * (Debian's {@code socat} and {@code openssl}; .ci/run installs them). Before the fix the server
 * never answered, so they hung until killed. The class also runs the SDK's receiver contract over
 * TLS (reliable server, {@link ReliableSocketClient} with TLS).
 */
class TlsCloseNotifyIT extends ReceiverContractTest {
  @TempDir static Path certDir;
  private static TestSupport.Cert sharedCert;
  @TempDir Path dir;
  private EmbeddedReceiver embedded;
  private SocketServerReceiver receiver;
  private TestSupport.Cert cert;
  private Path input;
  private final List<String> lines = new ArrayList<>();

  @BeforeAll
  static void certificate() throws Exception {
    sharedCert = TestSupport.selfSignedCert(certDir); // keytool is slow: once per class
  }

  @Override
  protected ReceiverTestContext createContext() throws Exception {
    return new ReliableClientContext(sharedCert);
  }

  private void start() throws Exception {
    cert = sharedCert;
    receiver =
        new SocketServerReceiver(
            config(
                "mode",
                "server",
                "port",
                0,
                "tls.enabled",
                true,
                "tls.cert-file",
                cert.certPem().toString(),
                "tls.key-file",
                cert.keyPem().toString()),
            new SimpleMeterRegistry());
    embedded = new EmbeddedReceiver(receiver, "tls");
    embedded.start();
    for (int i = 0; i < 1000; i++) {
      lines.add("tls line " + i);
    }
    input = dir.resolve("lines.txt");
    Files.writeString(input, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
  }

  @AfterEach
  void stop() throws Exception {
    if (embedded != null) {
      embedded.close();
    }
  }

  private void runToCompletion(List<String> command) throws Exception {
    Path log = dir.resolve("client.log");
    Process p =
        new ProcessBuilder(command)
            .redirectInput(input.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    try {
      boolean exited = p.waitFor(20, TimeUnit.SECONDS);
      assertThat(exited)
          .as("%s ended after a clean send (output: %s)", command.get(0), Files.readString(log))
          .isTrue();
      assertThat(p.exitValue()).as("exit code; output: %s", Files.readString(log)).isZero();
    } finally {
      p.destroyForcibly();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> embedded.durable().size() == lines.size());
    assertThat(values(embedded.durable())).containsExactlyElementsOf(lines);
    await("the server closed its side too")
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiver.errorCount(SocketErrorReason.TLS_HANDSHAKE) == 0);
  }

  @Test
  void socatOpensslEndsAfterACleanSend() throws Exception {
    start();
    int port = receiver.boundAddress().getPort();
    runToCompletion(
        List.of(
            "socat",
            "-u",
            "STDIN",
            "OPENSSL:127.0.0.1:" + port + ",cafile=" + cert.certPem() + ",verify=1"));
  }

  @Test
  void plainBytesOnATlsPortAreCountedAndNotStored() throws Exception {
    start();
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", receiver.boundAddress().getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write("GET / HTTP/1.1\r\nHost: example\r\n\r\n".getBytes(StandardCharsets.UTF_8));
      assertThat(s.getInputStream().read()).as("closed by the server").isEqualTo(-1);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiver.errorCount(SocketErrorReason.TLS_HANDSHAKE) == 1);
    assertThat(embedded.durable()).isEmpty();
  }

  @Test
  void opensslSClientEndsAfterACleanSend() throws Exception {
    start();
    int port = receiver.boundAddress().getPort();
    runToCompletion(
        List.of(
            "openssl",
            "s_client",
            "-connect",
            "127.0.0.1:" + port,
            "-CAfile",
            cert.certPem().toString(),
            "-verify_return_error",
            "-quiet",
            "-no_ign_eof"));
  }
}
