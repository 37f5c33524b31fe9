package io.tributary.connector.kinesis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.RetriableException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * Bad settings of the {@code kinesis-kcl} source fail when it opens, before any KCL worker starts,
 * with an error that names the problem and what to fix.
 */
class KinesisKclBadInputIT {
  private final LocalKinesis kinesis = LocalKinesis.get();
  private final LocalDynamo dynamo = LocalDynamo.get();

  private static void open(Map<String, Object> c) throws Exception {
    KinesisKclSource s = new KinesisKclSource(KinesisOptions.KCL_SOURCE.parse(c));
    try {
      s.open(KinesisTestSupport.context("bad", new SimpleMeterRegistry()));
    } finally {
      s.close();
    }
  }

  private String stream() {
    String stream = "kcl-bad-" + System.nanoTime();
    try (KinesisClient k = kinesis.client()) {
      LocalKinesis.createStream(k, stream, 1);
    }
    return stream;
  }

  @Test
  void missingStreamNamesTheStreamAndTheFix() {
    Map<String, Object> c =
        KinesisKclSourceIT.kclConfig(kinesis, dynamo, "app-bad-stream", "no-such-stream");
    assertThatThrownBy(() -> open(c))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("no-such-stream")
        .hasMessageContaining("does not exist")
        .hasMessageContaining("create the stream");
  }

  @Test
  void unreachableDynamoDbEndpointIsRetriableAndNamesIt() throws Exception {
    int port = LocalKinesis.freePort(); // nothing listens there
    Map<String, Object> c = KinesisKclSourceIT.kclConfig(kinesis, dynamo, "app-bad-ddb", stream());
    c.put("dynamodb-endpoint", "http://127.0.0.1:" + port);
    assertThatThrownBy(() -> open(c))
        .isInstanceOf(RetriableException.class)
        .hasMessageContaining("Cannot reach DynamoDB")
        .hasMessageContaining("127.0.0.1:" + port)
        .hasMessageContaining("dynamodb-endpoint");
  }

  @Test
  void leaseTableWithoutPermissionSaysWhichPermissionsAreNeeded() throws Exception {
    // dynalite checks no permissions: an endpoint that answers every call as AWS answers an
    // identity without DynamoDB rights.
    AtomicInteger calls = new AtomicInteger();
    HttpServer denying = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
    denying.createContext(
        "/",
        ex -> {
          calls.incrementAndGet();
          ex.getRequestBody().readAllBytes();
          byte[] body =
              ("{\"__type\":\"com.amazon.coral.service#AccessDeniedException\",\"message\":\"User:"
                      + " arn:aws:iam::123456789012:user/gateway is not authorized to perform:"
                      + " dynamodb:DescribeTable on resource: table/app-denied\"}")
                  .getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.0");
          ex.getResponseHeaders().add("x-amzn-ErrorType", "AccessDeniedException");
          ex.sendResponseHeaders(400, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    denying.start();
    try {
      Map<String, Object> c = KinesisKclSourceIT.kclConfig(kinesis, dynamo, "app-denied", stream());
      c.put("dynamodb-endpoint", "http://127.0.0.1:" + denying.getAddress().getPort());
      assertThatThrownBy(() -> open(c))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("DynamoDB refused to describe the lease table app-denied")
          .hasMessageContaining("AccessDeniedException")
          .hasMessageContaining("dynamodb:DescribeTable")
          .hasMessageContaining("CreateTable");
      assertThat(calls.get()).isPositive();
    } finally {
      denying.stop(0);
    }
  }

  @Test
  void badOptionsFailBeforeConnecting() {
    Map<String, Object> c = KinesisKclSourceIT.kclConfig(kinesis, dynamo, "app-ok", "s");
    c.put("starting-position", "at-timestamp");
    assertThatThrownBy(() -> new KinesisKclSource(KinesisOptions.KCL_SOURCE.parse(c)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("starting-timestamp is not set");
    Map<String, Object> d = KinesisKclSourceIT.kclConfig(kinesis, dynamo, "a b", "s");
    assertThatThrownBy(() -> KinesisOptions.KCL_SOURCE.parse(d))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("application-name")
        .hasMessageContaining("DynamoDB table name");
  }
}
