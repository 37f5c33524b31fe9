package io.tributary.connector.socket;

import static io.tributary.connector.socket.TestSupport.config;
import static io.tributary.connector.socket.TestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.SourcePosition;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SocketClientReceiverIT {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static boolean ioThreadsAlive(String source) {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.isAlive() && t.getName().startsWith("tributary-" + source + "-socket"));
  }

  @Test
  void readsLinesAndReconnectsAfterThePeerCloses() throws Exception {
    try (ServerSocket peer = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      peer.setSoTimeout(10_000);
      int port = peer.getLocalPort();
      SocketClientReceiver receiver =
          new SocketClientReceiver(
              config("mode", "client", "port", port, "reconnect.initial-backoff", "20ms"),
              registry);
      try (EmbeddedReceiver embedded = new EmbeddedReceiver(receiver, "cli").start()) {
        try (Socket first = peer.accept()) {
          first.getOutputStream().write("a\nb\n".getBytes(StandardCharsets.UTF_8));
          await().until(() -> embedded.durable().size() == 2);
        }
        try (Socket second = peer.accept()) {
          second.getOutputStream().write("c\n".getBytes(StandardCharsets.UTF_8));
          await().until(() -> embedded.durable().size() == 3);
        }
        assertThat(values(embedded.durable())).containsExactly("a", "b", "c");
        assertThat(embedded.durable().get(2).position())
            .isEqualTo(new SourcePosition("cli", "127.0.0.1:" + port, 2));
        assertThat(receiver.connectionCount()).isGreaterThanOrEqualTo(2);
      }
      await().until(() -> !ioThreadsAlive("cli"));
    }
  }

  @Test
  void keepsRetryingWhileThePeerIsUnreachableThenConnects() throws Exception {
    int port = TestSupport.freePort();
    SocketClientReceiver receiver =
        new SocketClientReceiver(
            config(
                "mode",
                "client",
                "port",
                port,
                "reconnect.initial-backoff",
                "10ms",
                "reconnect.max-backoff",
                "100ms"),
            registry);
    try (EmbeddedReceiver embedded = new EmbeddedReceiver(receiver, "late").start()) {
      assertThat(receiver.connectionCount()).isZero();
      try (ServerSocket peer = new ServerSocket()) {
        peer.setReuseAddress(true);
        peer.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        peer.setSoTimeout(10_000);
        try (Socket s = peer.accept()) {
          s.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
          await().until(() -> embedded.durable().size() == 1);
        }
      }
      assertThat(values(embedded.durable())).containsExactly("hello");
    }
  }

  @Test
  void stopClosesTheConnectionAndTheEventLoop() throws Exception {
    try (ServerSocket peer = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      peer.setSoTimeout(10_000);
      SocketClientReceiver receiver =
          new SocketClientReceiver(config("mode", "client", "port", peer.getLocalPort()), registry);
      EmbeddedReceiver embedded = new EmbeddedReceiver(receiver, "stopme").start();
      try (Socket s = peer.accept()) {
        s.setSoTimeout(10_000);
        embedded.stopReceiver();
        assertThat(s.getInputStream().read()).as("receiver closed its side").isEqualTo(-1);
      }
      assertThat(ioThreadsAlive("stopme")).isFalse();
      // Stopped for good: no reconnect attempt arrives.
      peer.setSoTimeout(300);
      assertThatThrownBy(peer::accept).isInstanceOf(SocketTimeoutException.class);
    }
  }
}
