package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile clients on the admin HTTP port while a well-behaved client keeps asking {@code /health}:
 * random bytes, a TLS ClientHello on the plain port, hundreds of silent and half-sent connections,
 * a request trickled a header at a time (slow loris), an endless whitespace preamble, an oversize
 * request line, oversize and endless headers, a request followed by a half-close, and pipelined
 * requests in one write (answered in order). Each is answered or closed within bounds and counted
 * in {@code tributary_admin_rejected_total{reason}}; the good client gets every answer in time.
 */
class AdminHostileClientsIT {
  @TempDir Path tmp;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Reads what the server sends until it closes (or 20 s pass: then the test fails). */
  private static String readToClose(Socket s) throws IOException {
    s.setSoTimeout(20_000);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    InputStream in = s.getInputStream();
    byte[] b = new byte[8192];
    try {
      for (int n; (n = in.read(b)) != -1; ) {
        buf.write(b, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server kept the connection open for 20 s: " + buf, e);
    } catch (java.net.SocketException e) {
      // a reset after the server closed on unread input: what it sent before still counts
    }
    return buf.toString(StandardCharsets.ISO_8859_1);
  }

  private static Socket connect(int port) throws IOException {
    return new Socket(InetAddress.getLoopbackAddress(), port);
  }

  private long rejected(int port, String reason) throws Exception {
    String metrics =
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Matcher m =
        Pattern.compile(
                "tributary_admin_rejected_total\\{reason=\"" + reason + "\"} (\\d+)(\\.\\d+)?")
            .matcher(metrics);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  /** A real TLS 1.3/1.2 ClientHello, as a TLS client's first flight. */
  private static byte[] clientHello() throws Exception {
    SSLEngine engine = SSLContext.getDefault().createSSLEngine("127.0.0.1", 9090);
    engine.setUseClientMode(true);
    engine.beginHandshake();
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] b = new byte[out.remaining()];
    out.get(b);
    return b;
  }

  @Test
  void hostileClientsAreBoundedAndTheGoodClientIsAlwaysServed() throws Exception {
    String yaml =
        """
        pipelines:
          - id: seq
            settings: { batch-interval: 200ms }
            checkpoint: %s
            source: { type: test-sequence, count: 10 }
            sinks: [ { type: files, path: %s } ]
        admin: { host: 127.0.0.1, port: 0, read-idle-timeout: 1s }
        """
            .formatted(tmp.resolve("cp"), tmp.resolve("out"));
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "hostile.yaml"))) {
      gw.start();
      int port = gw.adminPort();

      // The good client: GET /health in a loop, each answer within 3 s.
      AtomicBoolean attacking = new AtomicBoolean(true);
      AtomicLong served = new AtomicLong();
      AtomicLong slowest = new AtomicLong();
      List<String> goodFailures = new CopyOnWriteArrayList<>();
      Thread good =
          new Thread(
              () -> {
                HttpRequest req =
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                        .timeout(Duration.ofSeconds(3))
                        .build();
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (attacking.get() && System.nanoTime() < deadline) {
                  long t0 = System.nanoTime();
                  try {
                    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) {
                      goodFailures.add(r.statusCode() + " " + r.body());
                    }
                    served.incrementAndGet();
                  } catch (IOException e) {
                    goodFailures.add(e.toString());
                  } catch (InterruptedException e) {
                    return;
                  }
                  slowest.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                }
              },
              "good-client");
      good.setDaemon(true);
      good.start();
      List<Socket> held = new ArrayList<>();
      try {
        await().atMost(Duration.ofSeconds(10)).until(() -> served.get() > 0);

        // 1. Random bytes: a 4xx answer or a close, never a hang.
        try (Socket s = connect(port)) {
          byte[] junk = new byte[16 * 1024];
          new Random(42).nextBytes(junk);
          s.getOutputStream().write(junk);
          String answer = readToClose(s);
          assertThat(answer).matches("(?s)(HTTP/1\\.1 4\\d\\d .*)?");
        }

        // 2. A TLS ClientHello on the plain port: closed without an answer, counted.
        try (Socket s = connect(port)) {
          s.getOutputStream().write(clientHello());
          assertThat(readToClose(s)).isEmpty();
        }
        assertThat(rejected(port, "tls_on_plain_port")).isEqualTo(1);

        // 3. 300 silent connections and 300 half-sent requests: all closed by the idle timeout.
        for (int i = 0; i < 300; i++) {
          held.add(connect(port));
          Socket half = connect(port);
          half.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nX-Half: ".getBytes());
          held.add(half);
        }
        long served0 = served.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> served.get() > served0 + 5);
        for (Socket s : held) {
          assertThat(readToClose(s)).isEmpty();
        }
        assertThat(rejected(port, "idle")).isGreaterThanOrEqualTo(600);

        // 4. Slow loris: a header every 300 ms (never idle for 1 s): answered 408 and closed
        // once the request has taken longer than read-idle-timeout.
        try (Socket s = connect(port)) {
          OutputStream out = s.getOutputStream();
          out.write("GET /health HTTP/1.1\r\nHost: x\r\n".getBytes());
          Thread trickle =
              new Thread(
                  () -> {
                    try {
                      for (int i = 0; i < 60; i++) { // at most 18 s
                        Thread.sleep(300); // the attacker's pace, not a synchronisation
                        out.write(("X-" + i + ": y\r\n").getBytes());
                        out.flush();
                      }
                    } catch (IOException | InterruptedException e) {
                      // closed by the server: the point
                    }
                  },
                  "slow-loris");
          trickle.setDaemon(true);
          trickle.start();
          assertThat(readToClose(s)).startsWith("HTTP/1.1 408 ");
          trickle.join(20_000);
          assertThat(trickle.isAlive()).as("the trickle was cut off").isFalse();
        }
        // The same with an endless preamble of blank lines (the codec skips them unbounded).
        try (Socket s = connect(port)) {
          OutputStream out = s.getOutputStream();
          Thread blanks =
              new Thread(
                  () -> {
                    try {
                      for (int i = 0; i < 200; i++) { // at most 20 s
                        Thread.sleep(100); // the attacker's pace, not a synchronisation
                        out.write("\r\n\r\n        \r\n".getBytes());
                      }
                    } catch (IOException | InterruptedException e) {
                      // closed by the server
                    }
                  },
                  "blank-lines");
          blanks.setDaemon(true);
          blanks.start();
          assertThat(readToClose(s)).startsWith("HTTP/1.1 408 ");
          blanks.join(25_000);
          assertThat(blanks.isAlive()).isFalse();
        }
        assertThat(rejected(port, "request_timeout")).isEqualTo(2);

        // 5. Oversize request line, oversize headers, endless headers.
        try (Socket s = connect(port)) {
          s.getOutputStream()
              .write(("GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes());
          assertThat(readToClose(s)).startsWith("HTTP/1.1 414 ");
        }
        try (Socket s = connect(port)) {
          s.getOutputStream()
              .write(
                  ("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n")
                      .getBytes());
          assertThat(readToClose(s)).startsWith("HTTP/1.1 431 ");
        }
        try (Socket s = connect(port)) {
          OutputStream out = s.getOutputStream();
          Thread endless =
              new Thread(
                  () -> {
                    try {
                      out.write("GET /health HTTP/1.1\r\nHost: x\r\n".getBytes());
                      byte[] line =
                          "X-More: 0123456789012345678901234567890123456789\r\n".getBytes();
                      for (int i = 0; i < 200_000; i++) { // 10 MB at most
                        out.write(line);
                      }
                    } catch (IOException e) {
                      // closed by the server
                    }
                  },
                  "endless-headers");
          endless.setDaemon(true);
          endless.start();
          assertThat(readToClose(s)).startsWith("HTTP/1.1 431 ");
          endless.join(20_000);
          assertThat(endless.isAlive()).isFalse();
        }
        assertThat(rejected(port, "line_too_long")).isEqualTo(1);
        assertThat(rejected(port, "headers_too_large")).isEqualTo(2);

        // 6. A whole request, then the client half-closes (HTTP/1.0 style): still answered.
        try (Socket s = connect(port)) {
          s.getOutputStream().write("GET /health HTTP/1.0\r\n\r\n".getBytes());
          s.shutdownOutput();
          String answer = readToClose(s);
          assertThat(answer).startsWith("HTTP/1.1 200 ").contains("\"UP\"");
        }

        // 7. Three pipelined requests in one write: three answers, in order.
        try (Socket s = connect(port)) {
          s.getOutputStream()
              .write(
                  ("GET /pipelines HTTP/1.1\r\nHost: x\r\n\r\n"
                          + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                          + "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                      .getBytes());
          String answers = readToClose(s);
          Matcher m = Pattern.compile("HTTP/1\\.1 (\\d{3}) ").matcher(answers);
          List<String> codes = new ArrayList<>();
          while (m.find()) {
            codes.add(m.group(1));
          }
          assertThat(codes).as(answers).containsExactly("200", "404", "200");
          assertThat(answers.indexOf("\"id\":\"seq\""))
              .isLessThan(answers.indexOf("not found"))
              .isPositive();
        }
      } finally {
        attacking.set(false);
        good.join(10_000);
        for (Socket s : held) {
          s.close();
        }
      }
      assertThat(goodFailures).as("the good client's failed requests").isEmpty();
      assertThat(served.get()).isGreaterThan(20);
      assertThat(slowest.get()).as("slowest /health in ms").isLessThan(3000);
    }
  }
}
