package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.baseConfig;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.RetriableException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * Wrong endpoint, missing stream, wrong credentials: the source and the sink fail at open with an
 * error that names the stream, what went wrong and what to change.
 */
class KinesisBadInputIT {
  private final LocalKinesis kinesis = LocalKinesis.get();

  private static void openSource(Map<String, Object> c) throws Exception {
    try (KinesisDirectSource s = new KinesisDirectSource(KinesisTestSupport.sourceConfig(c))) {
      s.open(KinesisTestSupport.context("p", new SimpleMeterRegistry()));
    }
  }

  private static void openSink(Map<String, Object> c) {
    try (KinesisSink s = new KinesisSink(KinesisOptions.SINK.parse(c))) {
      s.open(KinesisSinkIT.sinkContext("p", new SimpleMeterRegistry()));
    }
  }

  @Test
  void missingStreamNamesTheStreamAndTheFix() {
    Map<String, Object> c = baseConfig(kinesis.endpoint(), "no-such-stream");
    assertThatThrownBy(() -> openSource(c))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("stream no-such-stream")
        .hasMessageContaining("does not exist")
        .hasMessageContaining("create the stream, or fix 'stream', 'region' or 'endpoint'");
    assertThatThrownBy(() -> openSink(c))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void unreachableEndpointIsRetriableAndNamesTheEndpoint() throws Exception {
    String dead = "http://127.0.0.1:" + LocalKinesis.freePort();
    Map<String, Object> c = baseConfig(dead, "s");
    assertThatThrownBy(() -> openSource(c))
        .isInstanceOf(RetriableException.class)
        .hasMessageContaining("Cannot reach the Kinesis endpoint")
        .hasMessageContaining(dead)
        .hasMessageContaining("Check 'endpoint' and 'region'");
    Map<String, Object> unknownHost = baseConfig("http://no-such-host.invalid:4567", "s");
    assertThatThrownBy(() -> openSink(unknownHost))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown host")
        .hasMessageContaining("fix 'endpoint' or 'region'");
  }

  @Test
  void rejectedCredentialsSayWhichSettingsToCheck() throws Exception {
    // kinesis-mock accepts any key: the proxy answers as AWS does for an unknown access key
    try (KinesisClient k = kinesis.client();
        FaultProxy proxy = new FaultProxy(kinesis.endpoint())) {
      String stream = "creds-" + System.nanoTime();
      LocalKinesis.createStream(k, stream, 1);
      proxy.rejectCredentials = true;
      Map<String, Object> c = baseConfig(proxy.endpoint(), stream);
      assertThatThrownBy(() -> openSource(c))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("rejected the credentials")
          .hasMessageContaining("UnrecognizedClientException")
          .hasMessageContaining("access-key-id/secret-access-key")
          .hasMessageNotContaining(LocalKinesis.SECRET_KEY);
      assertThatThrownBy(() -> openSink(c))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("rejected the credentials");
    }
  }

  @Test
  void wrongSchemeAndWrongKindOfServerSayWhatToFix() throws Exception {
    // https:// to the plain-HTTP port: the server does not speak TLS.
    Map<String, Object> httpsOnPlain = baseConfig("https://127.0.0.1:" + kinesis.port(), "s");
    assertThatThrownBy(() -> openSource(httpsOnPlain))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TLS with the endpoint of stream s")
        .hasMessageContaining("failed")
        .hasMessageContaining("use http://");
    // https:// to a TLS port whose certificate this JVM does not trust.
    Map<String, Object> untrusted = baseConfig("https://127.0.0.1:" + kinesis.tlsPort(), "s");
    assertThatThrownBy(() -> openSink(untrusted))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TLS with the endpoint of stream s")
        .hasMessageContaining("certificate");
    // An HTTP server that is not Kinesis (a web server answering 404 with an HTML page).
    com.sun.net.httpserver.HttpServer web =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    web.createContext(
        "/",
        x -> {
          byte[] body = "<html><body>Not Found</body></html>".getBytes();
          x.getResponseHeaders().add("Content-Type", "text/html");
          x.sendResponseHeaders(404, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    web.start();
    try {
      Map<String, Object> notKinesis =
          baseConfig("http://127.0.0.1:" + web.getAddress().getPort(), "s");
      assertThatThrownBy(() -> openSource(notKinesis))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("answered HTTP 404 without a Kinesis error")
          .hasMessageContaining("Fix 'endpoint'");
      assertThatThrownBy(() -> openSink(notKinesis))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("answered HTTP 404 without a Kinesis error");
    } finally {
      web.stop(0);
    }
  }

  @Test
  void halfGivenCredentialsAndMissingStartingDetailsFailBeforeConnecting() {
    Map<String, Object> c = baseConfig(kinesis.endpoint(), "s");
    c.remove("secret-access-key");
    assertThatThrownBy(() -> new KinesisDirectSource(KinesisTestSupport.sourceConfig(c)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("access-key-id and secret-access-key must be set together");
    Map<String, Object> ts = baseConfig(kinesis.endpoint(), "s");
    ts.put("starting-position", "at_timestamp");
    assertThatThrownBy(() -> new KinesisDirectSource(KinesisTestSupport.sourceConfig(ts)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("starting-timestamp is not set");
  }
}
