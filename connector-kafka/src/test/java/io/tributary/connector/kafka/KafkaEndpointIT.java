package io.tributary.connector.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.sun.net.httpserver.HttpServer;
import io.tributary.connector.kafka.internal.KafkaPeerProbe;
import io.tributary.connector.kafka.internal.KafkaPeerProbe.Kind;
import io.tributary.core.api.RetriableException;
import io.tributary.core.runtime.Pipeline;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka components pointed at the wrong endpoint fail their start within seconds with an error
 * that names the component, the address, what answered and the setting to check, instead of a bare
 * {@code TimeoutException} after a minute or an {@code OutOfMemoryError}: nothing listening, an
 * HTTP server, a server speaking another protocol, a silent peer, a TLS listener with a plaintext
 * setting and the reverse, SASL without a JAAS entry. Against a real broker's PLAINTEXT, SASL and
 * TLS listeners and real servers of the wrong kind on loopback.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaEndpointIT {
  private static final java.util.concurrent.atomic.AtomicBoolean TOPICS_CREATED =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final KafkaBroker kafka;
  private final List<AutoCloseable> servers = new ArrayList<>();

  @TempDir Path checkpointDir;

  /**
   * The run's broker when it has the SASL and TLS listeners (the local broker), else (the container
   * broker has neither) a local broker of this class's own, started once and closed after it.
   */
  private static KafkaBroker ownLocalBroker;

  KafkaEndpointIT(KafkaBroker runBroker) {
    this.kafka =
        runBroker.saslPlain().isPresent() && runBroker.tls().isPresent()
            ? runBroker
            : ownLocalBroker();
  }

  private static synchronized KafkaBroker ownLocalBroker() {
    if (ownLocalBroker == null) {
      ownLocalBroker = KafkaBroker.startLocal();
    }
    return ownLocalBroker;
  }

  @org.junit.jupiter.api.AfterAll
  static synchronized void closeOwnLocalBroker() {
    if (ownLocalBroker != null) {
      ownLocalBroker.close();
      ownLocalBroker = null;
    }
  }

  @AfterEach
  void closeServers() throws Exception {
    for (AutoCloseable s : servers) {
      s.close();
    }
  }

  @Test
  void theProbeTellsEachKindOfPeerApart() throws Exception {
    Duration t = Duration.ofSeconds(3);
    assertThat(KafkaPeerProbe.probe(kafka.bootstrapServers(), t).kind())
        .isEqualTo(Kind.KAFKA_PLAINTEXT);
    kafka
        .saslPlain()
        .ifPresent(
            s ->
                assertThat(KafkaPeerProbe.probe(s.bootstrapServers(), t).kind())
                    .as("a SASL_PLAINTEXT listener answers ApiVersions before authentication")
                    .isEqualTo(Kind.KAFKA_PLAINTEXT));
    kafka
        .tls()
        .ifPresent(
            s ->
                assertThat(KafkaPeerProbe.probe(s.bootstrapServers(), t).kind())
                    .isEqualTo(Kind.TLS));
    assertThat(KafkaPeerProbe.probe(httpServer(), t).kind()).isEqualTo(Kind.HTTP);
    assertThat(KafkaPeerProbe.probe(greetingServer("SSH-2.0-OpenSSH_9.2\r\n"), t))
        .satisfies(a -> assertThat(a.kind()).isEqualTo(Kind.OTHER))
        .satisfies(a -> assertThat(a.detail()).isEqualTo("an answer starting with 'SSH-2.0-'"));
    assertThat(KafkaPeerProbe.probe(silentServer(), Duration.ofMillis(500)).kind())
        .isEqualTo(Kind.NO_ANSWER);
    assertThat(KafkaPeerProbe.probe(closingServer(), t).kind()).isEqualTo(Kind.CLOSED);
    assertThat(KafkaPeerProbe.probe("127.0.0.1:" + freePort(), t).kind())
        .isEqualTo(Kind.UNREACHABLE);
    assertThat(KafkaPeerProbe.probe("no-such-host.invalid:9092", t).kind())
        .isEqualTo(Kind.UNKNOWN_HOST);
  }

  @Test
  void anHttpServerFailsTheSinkAndTheSourceAtOnceNamingItNotRunningTheHeapOut() throws Exception {
    String http = httpServer();
    for (Component c : Component.values()) {
      Throwable failure = startFailure(c, http, Map.of(), Duration.ofSeconds(30));
      assertThat(chain(failure))
          .as(c.name())
          .contains(c.label + " of pipeline p-endpoint")
          .contains("wrong kind of peer at " + http + " (an HTTP response)")
          .contains("an HTTP server answers, not a Kafka broker (check bootstrap-servers");
      assertThat(failure).as(c.name()).isNotInstanceOf(RetriableException.class);
    }
  }

  @Test
  void aTlsListenerWithAPlaintextSettingAndThePlaintextListenerWithTlsFailAtOnce()
      throws Exception {
    String tlsAddress = kafka.tls().orElseThrow().bootstrapServers();
    long t0 = System.nanoTime();
    Throwable plainOnTls =
        startFailure(Component.SINK, tlsAddress, Map.of(), Duration.ofSeconds(30));
    assertThat(chain(plainOnTls))
        .contains("a TLS listener answers, but kafka.security.protocol is PLAINTEXT")
        .contains("set kafka.security.protocol: SSL");
    Throwable tlsOnPlain =
        startFailure(
            Component.SOURCE,
            kafka.bootstrapServers(),
            Map.of("security.protocol", "SSL"),
            Duration.ofSeconds(30));
    assertThat(chain(tlsOnPlain))
        .contains("a Kafka listener without TLS answers, but kafka.security.protocol is SSL")
        .contains("set kafka.security.protocol: PLAINTEXT");
    Throwable saslSslOnPlain =
        startFailure(
            Component.GROUP_SOURCE,
            kafka.bootstrapServers(),
            Map.of("security.protocol", "SASL_SSL"),
            Duration.ofSeconds(30));
    assertThat(chain(saslSslOnPlain)).contains("set kafka.security.protocol: SASL_PLAINTEXT");
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0))
        .as("three wrong-protocol starts, each within seconds (a connect-timeout of 30 s unused)")
        .isLessThan(30);
  }

  @Test
  void nothingListeningFailsAfterConnectTimeoutNamingTheAddressAndTheRefusal() throws Exception {
    String nowhere = "127.0.0.1:" + freePort();
    for (Component c : Component.values()) {
      Throwable failure = startFailure(c, nowhere, Map.of(), Duration.ofSeconds(1));
      assertThat(chain(failure))
          .as(c.name())
          .contains(c.label + " of pipeline p-endpoint: no Kafka broker answers at " + nowhere)
          .contains("connection refused")
          .contains("waited 1000 ms (connect-timeout)");
    }
  }

  @Test
  void aBrokerThatComesUpWithinConnectTimeoutIsWaitedFor() throws Exception {
    // A relay in front of the real broker that, like a broker still starting, closes the first
    // connections without an answer, then forwards: the start waits for it instead of failing.
    CountDownLatch refused = new CountDownLatch(3);
    String address = relay(kafka.bootstrapServers(), refused);
    KafkaPeerProbe.awaitBrokers(
        "Kafka sink x of pipeline p", address, Map.of(), Duration.ofSeconds(60));
    assertThat(refused.getCount()).as("connections closed before the relay forwarded").isZero();
  }

  @Test
  void saslWithoutAJaasEntryShowsTheClientsOwnCause() throws Exception {
    String sasl = kafka.saslPlain().orElseThrow().bootstrapServers();
    Throwable failure =
        startFailure(
            Component.SOURCE,
            sasl,
            Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN"),
            Duration.ofSeconds(10));
    assertThat(chain(failure))
        .contains("Kafka source in of pipeline p-endpoint could not create its Kafka client")
        .contains("Could not find a 'KafkaClient' entry in the JAAS configuration")
        .contains("kafka.security.protocol (now SASL_PLAINTEXT)");
  }

  private enum Component {
    SOURCE("Kafka source in"),
    GROUP_SOURCE("Kafka source in"),
    SINK("Kafka sink out"),
    AT_LEAST_ONCE_SINK("Kafka sink out");

    final String label;

    Component(String label) {
      this.label = label;
    }
  }

  /**
   * Starts a pipeline whose {@code c} points at {@code address} (the other end at the real broker's
   * plaintext listener, so only {@code c} can fail) and returns the start's failure.
   */
  private Throwable startFailure(
      Component c, String address, Map<String, String> settings, Duration connectTimeout) {
    if (TOPICS_CREATED.compareAndSet(false, true)) {
      kafka.createTopic("endpoint-in", 1);
      kafka.createTopic("endpoint-out", 1);
    }
    boolean sourceSide = c == Component.SOURCE || c == Component.GROUP_SOURCE;
    Map<String, Object> source = new HashMap<>();
    source.put("bootstrap-servers", sourceSide ? address : kafka.bootstrapServers());
    source.put("topics", List.of("endpoint-in"));
    Map<String, Object> sink = new HashMap<>();
    sink.put("bootstrap-servers", sourceSide ? kafka.bootstrapServers() : address);
    sink.put("topic", "endpoint-out");
    Map<String, Object> side = sourceSide ? source : sink;
    side.put("connect-timeout", connectTimeout.toMillis() + "ms");
    settings.forEach((k, v) -> side.put("kafka." + k, v));
    Pipeline.Builder b =
        Pipeline.builder("p-endpoint")
            .checkpointDir(checkpointDir.resolve(c.name() + System.nanoTime()))
            .batchInterval(Duration.ofMillis(100));
    if (c == Component.GROUP_SOURCE) {
      source.put("group-id", "endpoint-group");
      b.source("in", new KafkaGroupSource(KafkaOptions.GROUP_SOURCE.parse(source)));
    } else {
      b.source("in", new KafkaDirectSource(KafkaOptions.SOURCE.parse(source)));
    }
    if (c == Component.AT_LEAST_ONCE_SINK) {
      b.sink("out", new KafkaAtLeastOnceSink(KafkaOptions.AT_LEAST_ONCE_SINK.parse(sink)));
    } else {
      b.sink("out", new KafkaSink(KafkaOptions.SINK.parse(sink)));
    }
    Pipeline p = b.build();
    try {
      Throwable failure = catchThrowable(p::start);
      assertThat(failure).as("start of a pipeline with %s at %s", c, address).isNotNull();
      return failure;
    } finally {
      p.stopNow();
    }
  }

  private static String chain(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c).append(" <- ");
    }
    return b.toString();
  }

  private String httpServer() throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          byte[] body = "bad request".getBytes(StandardCharsets.US_ASCII);
          exchange.sendResponseHeaders(400, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    servers.add(() -> server.stop(0));
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /** A server that writes {@code greeting} to each connection (as SSH or SMTP servers do). */
  private String greetingServer(String greeting) throws IOException {
    return server(
        s -> {
          try {
            s.getOutputStream().write(greeting.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            s.getInputStream().read(new byte[64]);
          } catch (IOException e) {
            // the client went away
          }
        });
  }

  /** A server that accepts and never answers. */
  private String silentServer() throws IOException {
    return server(
        s -> {
          try {
            while (s.getInputStream().read(new byte[64]) >= 0) {
              // read and say nothing
            }
          } catch (IOException e) {
            // the client went away
          }
        });
  }

  /** A server that accepts and closes at once. */
  private String closingServer() throws IOException {
    return server(s -> {});
  }

  private String server(Consumer<Socket> handler) throws IOException {
    ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t =
        new Thread(
            () -> {
              while (!ss.isClosed()) {
                try (Socket s = ss.accept()) {
                  handler.accept(s);
                } catch (IOException e) {
                  return;
                }
              }
            });
    t.setDaemon(true);
    t.start();
    servers.add(ss);
    return "127.0.0.1:" + ss.getLocalPort();
  }

  /**
   * A relay to {@code target} ({@code host:port}) that closes each connection at once until {@code
   * refused} reached zero, then forwards connections.
   */
  private String relay(String target, CountDownLatch refused) throws IOException {
    int colon = target.lastIndexOf(':');
    String host = target.substring(0, colon);
    int targetPort = Integer.parseInt(target.substring(colon + 1));
    ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t =
        new Thread(
            () -> {
              while (!ss.isClosed()) {
                try {
                  Socket in = ss.accept();
                  if (refused.getCount() > 0) {
                    in.close();
                    refused.countDown();
                    continue;
                  }
                  Socket out = new Socket(host, targetPort);
                  pump(in, out);
                  pump(out, in);
                } catch (IOException e) {
                  return;
                }
              }
            });
    t.setDaemon(true);
    t.start();
    servers.add(ss);
    return "127.0.0.1:" + ss.getLocalPort();
  }

  private static void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              try {
                from.getInputStream().transferTo(to.getOutputStream());
              } catch (IOException e) {
                // either side closed
              } finally {
                try {
                  from.close();
                  to.close();
                } catch (IOException e) {
                  // closing anyway
                }
              }
            });
    t.setDaemon(true);
    t.start();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
