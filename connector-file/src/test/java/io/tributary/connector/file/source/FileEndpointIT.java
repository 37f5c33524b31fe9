package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.file.sink.HadoopFileSink;
import io.tributary.connector.file.testing.S3Server;
import io.tributary.connector.file.testing.S3ServerExtension;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.TributaryException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files source and sink pointed at wrong HDFS and S3 endpoints (nothing listening, a JDK HTTP
 * server answering 404 to everything, wrong credentials, a missing bucket, against s3proxy) fail at
 * open within seconds with an error naming the address, what answered and the setting to fix.
 * Before {@code EndpointCheck}, an {@code hdfs://} address of an HTTP server took 120 s and was
 * retried as transient, and an S3 endpoint that was not S3 was read as an empty bucket without any
 * error.
 */
@ExtendWith(S3ServerExtension.class)
class FileEndpointIT {
  private final S3Server s3;
  @TempDir java.nio.file.Path tmp;
  private HttpServer web;
  private int webPort;

  FileEndpointIT(S3Server s3) {
    this.s3 = s3;
  }

  @BeforeEach
  void webServer() throws Exception {
    web = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    web.createContext(
        "/",
        x -> {
          byte[] b = "<html>not here</html>".getBytes(StandardCharsets.UTF_8);
          x.getResponseHeaders().set("Content-Type", "text/html");
          if (x.getRequestMethod().equals("HEAD")) {
            x.sendResponseHeaders(404, -1);
          } else {
            x.sendResponseHeaders(404, b.length);
            x.getResponseBody().write(b);
          }
          x.close();
        });
    web.start();
    webPort = web.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    web.stop(0);
  }

  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The error {@code call} fails with, within 20 s, not retriable. */
  private static String fails(ThrowingCallable call) {
    return fails(call, false);
  }

  /** The error {@code call} fails with, within 20 s, retriable or not. */
  private static String fails(ThrowingCallable call, boolean retriable) {
    long t0 = System.nanoTime();
    Throwable[] caught = new Throwable[1];
    assertThatThrownBy(
            () -> {
              try {
                call.call();
              } catch (Throwable t) {
                caught[0] = t;
                throw t;
              }
            })
        .isInstanceOf(retriable ? RetriableException.class : TributaryException.class)
        .matches(t -> retriable || !(t instanceof RetriableException), "not retriable");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
    return caught[0].getMessage();
  }

  private String source(Map<String, Object> opts) {
    return source(opts, false);
  }

  private String source(Map<String, Object> opts, boolean retriable) {
    return fails(
        () -> {
          try (SourceHarness h = new SourceHarness(opts, tmp.resolve("ck-" + System.nanoTime()))) {
            h.batch();
          }
        },
        retriable);
  }

  private String sink(URI dir, Map<String, String> hadoop) {
    return fails(
        () -> {
          HadoopFileSink s = HadoopFileSink.builder(dir).hadoop(hadoop).build();
          try {
            s.open(
                new SinkContext() {
                  final MeterRegistry r = new SimpleMeterRegistry();

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
                    return r;
                  }
                });
          } finally {
            s.close();
          }
        });
  }

  @Test
  void hdfsAddressWhereNothingListensOrAnHttpServerAnswers() throws Exception {
    int closed = closedPort();
    // Nothing listening may be a NameNode restarting: retriable, but named at once.
    String refused = source(Map.of("paths", "hdfs://127.0.0.1:" + closed + "/in"), true);
    assertThat(refused)
        .contains("hdfs://127.0.0.1:" + closed + "/in")
        .contains("nothing listens at 127.0.0.1:" + closed)
        .contains("paths")
        .contains("8020");

    String http = source(Map.of("paths", "hdfs://127.0.0.1:" + webPort + "/in"));
    assertThat(http)
        .contains("127.0.0.1:" + webPort)
        .contains("an HTTP server answered there (HTTP/1.1 404")
        .contains("not a NameNode's RPC port")
        .contains("dfs.namenode.rpc-address");

    String sink = sink(URI.create("hdfs://127.0.0.1:" + webPort + "/out"), Map.of());
    assertThat(sink)
        .contains("files sink out directory")
        .contains("an HTTP server answered there")
        .contains("expected: the NameNode's RPC address in path");
  }

  @Test
  void s3EndpointThatIsNotS3WrongCredentialsAndMissingBucket() throws Exception {
    String bucket = s3.createBucket("ep");
    Map<String, Object> o = new HashMap<>(s3.hadoopOptions());
    o.put("paths", S3Server.s3a(bucket, "in").toString());
    o.put("hadoop.fs.s3a.endpoint", "http://127.0.0.1:" + webPort);
    assertThat(source(o))
        .contains("the S3 endpoint http://127.0.0.1:" + webPort)
        .contains("answered HTTP 404")
        .contains("it is not S3")
        .contains("hadoop.fs.s3a.endpoint");

    int closed = closedPort();
    o.put("hadoop.fs.s3a.endpoint", "http://127.0.0.1:" + closed);
    assertThat(source(o, true)).contains("refused the connection: nothing listens there");

    o = new HashMap<>(s3.hadoopOptions());
    o.put("paths", S3Server.s3a(bucket, "in").toString());
    o.put("hadoop.fs.s3a.secret.key", "not-the-secret");
    String denied = source(o);
    assertThat(denied)
        .contains("refused the credentials for bucket " + bucket)
        .contains("403")
        .contains("hadoop.fs.s3a.access.key and hadoop.fs.s3a.secret.key")
        .doesNotContain("not-the-secret");

    o = new HashMap<>(s3.hadoopOptions());
    o.put("paths", S3Server.s3a("no-such-bucket-" + closed, "in").toString());
    assertThat(source(o))
        .contains("bucket no-such-bucket-" + closed + " does not exist at " + s3.endpoint())
        .contains("expected: an existing bucket in paths");

    Map<String, String> h = new HashMap<>(s3.hadoopSettings());
    h.put("fs.s3a.endpoint", "http://127.0.0.1:" + webPort);
    assertThat(sink(S3Server.s3a(bucket, "out"), h))
        .contains("files sink out directory")
        .contains("it is not S3");

    // The right settings still open and read.
    o = new HashMap<>(s3.hadoopOptions());
    o.put("paths", S3Server.s3a(bucket, "in").toString());
    try (SourceHarness ok = new SourceHarness(o, tmp.resolve("ok"))) {
      assertThat(ok.batch()).isEmpty();
    }
  }
}
