package io.tributary.connector.flume;

import static io.tributary.connector.flume.FlumeTestSupport.config;
import static io.tributary.connector.flume.FlumeTestSupport.freePort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.TributaryException;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Flume sink and the pull source pointed at peers of the wrong kind: a JDK HTTP server (which
 * waits for a request line and so never answers Avro RPC), a closed port, and this connector's own
 * push server (a real Avro responder of Flume's {@code AvroSourceProtocol}, the wrong protocol for
 * the pull source and the right one for the sink). Each wrong peer fails within seconds naming the
 * address, what answered and the setting.
 */
class FlumeEndpointIT {
  private HttpServer web;
  private int webPort;

  @BeforeEach
  void webServer() throws Exception {
    web = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    web.createContext(
        "/",
        x -> {
          x.sendResponseHeaders(404, -1);
          x.close();
        });
    web.start();
    webPort = web.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    web.stop(0);
  }

  private static FlumeSink sink(String hostPort) {
    Map<String, Object> m = new HashMap<>();
    m.put("hosts", List.of(hostPort));
    FlumeSink s = new FlumeSink(FlumeSinkOptions.SPEC.parse(m));
    s.open(
        new SinkContext() {
          @Override
          public String pipelineId() {
            return "p";
          }

          @Override
          public String sinkName() {
            return "out";
          }

          @Override
          public MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
          }
        });
    return s;
  }

  private static void within(Duration limit, Runnable r) {
    long t0 = System.nanoTime();
    try {
      r.run();
    } finally {
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(limit);
    }
  }

  @Test
  void sinkRefusesAnHttpServerAndSaysWhenNoAgentIsReachable() throws Exception {
    within(
        Duration.ofSeconds(20),
        () ->
            assertThatThrownBy(() -> sink("127.0.0.1:" + webPort))
                .isInstanceOf(TributaryException.class)
                .isNotInstanceOf(RetriableException.class)
                .hasMessageContaining("Flume sink p/out: 127.0.0.1:" + webPort)
                .hasMessageContaining("is not a Flume Avro source")
                .hasMessageContaining("an HTTP server answered (HTTP/1.1 404")
                .hasMessageContaining("in hosts"));
    // Nothing listening: the sink opens (agents restart) and its first send fails at once,
    // retriably, naming the address.
    int closed = freePort();
    within(
        Duration.ofSeconds(20),
        () -> {
          FlumeSink s = sink("127.0.0.1:" + closed);
          try {
            assertThatThrownBy(
                    () -> s.write(0, List.of(io.tributary.core.api.Record.ofString("x"))))
                .isInstanceOf(RetriableException.class)
                .hasMessageContaining("127.0.0.1:" + closed)
                .hasMessageContaining("is the agent's Avro source up?");
          } finally {
            s.close();
          }
        });
  }

  @Test
  void pullSourceRefusesAnHttpServerAndAFlumeAvroSourceAndTheSinkAcceptsTheAvroSource()
      throws Exception {
    FlumePullReceiver http =
        new FlumePullReceiver(
            config("mode", "pull", "pull.hosts", "127.0.0.1:" + webPort),
            new SimpleMeterRegistry());
    try (EmbeddedReceiver h = new EmbeddedReceiver(http, "pull-http")) {
      within(
          Duration.ofSeconds(20),
          () ->
              assertThatThrownBy(h::start)
                  .isInstanceOf(TributaryException.class)
                  .hasMessageContaining("127.0.0.1:" + webPort + " is not a tributary-flume-sink")
                  .hasMessageContaining("an HTTP server answered (HTTP/1.1 404")
                  .hasMessageContaining("in pull.hosts"));
    }

    int port = freePort();
    FlumePushReceiver push =
        new FlumePushReceiver(
            config("mode", "push", "host", "127.0.0.1", "port", port), new SimpleMeterRegistry());
    try (EmbeddedReceiver server = new EmbeddedReceiver(push, "push").start()) {
      FlumePullReceiver wrong =
          new FlumePullReceiver(
              config("mode", "pull", "pull.hosts", "127.0.0.1:" + port), new SimpleMeterRegistry());
      try (EmbeddedReceiver h = new EmbeddedReceiver(wrong, "pull-avro")) {
        assertThatThrownBy(h::start)
            .isInstanceOf(TributaryException.class)
            .hasMessageContaining(
                "an Avro RPC server of protocol org.apache.flume.source.avro.AvroSourceProtocol"
                    + " answered")
            .hasMessageContaining("mode push serves");
      }
      // The sink's right peer: the probe passes and the sink opens.
      sink("127.0.0.1:" + port).close();
    }
  }
}
