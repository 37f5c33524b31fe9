package io.tributary.connector.socket;

import static io.tributary.connector.socket.TestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Record;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import io.tributary.sdk.testkit.ReceiverContractTest;
import io.tributary.sdk.testkit.ReceiverTestContext;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real rsyslog (Debian package {@code rsyslog}; .ci/run installs it) forwards with {@code omfwd}
 * over TCP to the socket source: RFC 6587 octet-counted framing with the RFC 5424 format, and
 * rsyslog's traditional LF framing with the RFC 3164 format. rsyslogd runs as a child process in
 * the foreground ({@code -n}) with its own configuration and work directory in a temp dir; the test
 * feeds it through its own {@code imtcp} input.
 *
 * <p>The class also runs the SDK's receiver contract (reliable server, read-idle timeout of 2 s),
 * as every receiver test class of this module does.
 */
class RsyslogOmfwdIT extends ReceiverContractTest {
  private static final String RSYSLOGD = "/usr/sbin/rsyslogd";
  @TempDir Path dir;

  @Override
  protected ReceiverTestContext createContext() throws Exception {
    return new ReliableClientContext("read-idle-timeout", "2s");
  }

  @Test
  void octetCountedRfc5424FromRsyslog() throws Exception {
    List<Record> records =
        forward(
            "octet-counted",
            "RSYSLOG_SyslogProtocol23Format",
            "octet-counted",
            "rfc5424",
            " "); // rsyslog's %msg% keeps the space that followed the tag
    for (Record r : records) {
      assertThat(header(r, "syslog.version")).isEqualTo("1");
      assertThat(header(r, "syslog.procid")).isEqualTo("4242");
      assertThat(header(r, "syslog.timestamp")).matches("\\d{4}-\\d\\d-\\d\\dT.*");
    }
  }

  @Test
  void traditionalLinesRfc3164FromRsyslog() throws Exception {
    List<Record> records =
        forward("traditional", "RSYSLOG_TraditionalForwardFormat", "lines", "rfc3164", "");
    for (Record r : records) {
      assertThat(header(r, "syslog.procid")).isEqualTo("4242");
      assertThat(header(r, "syslog.timestamp"))
          .matches("[A-Z][a-z][a-z] [ \\d]\\d \\d\\d:\\d\\d:\\d\\d");
    }
  }

  /**
   * Sends 300 messages to rsyslog's imtcp input; rsyslog forwards them with {@code tcpFraming} and
   * {@code template}; returns the records, checked for the fields every format has ({@code
   * syslog.message} is expected to be {@code messagePrefix} + the message sent).
   */
  private List<Record> forward(
      String tcpFraming, String template, String framing, String format, String messagePrefix)
      throws Exception {
    assertThat(Path.of(RSYSLOGD))
        .as("rsyslogd (Debian package rsyslog, installed by .ci/run)")
        .isExecutable();
    SocketServerReceiver receiver =
        new SocketServerReceiver(
            config("mode", "server", "port", 0, "framing", framing, "syslog-format", format),
            new SimpleMeterRegistry());
    try (EmbeddedReceiver embedded = new EmbeddedReceiver(receiver, "syslog")) {
      embedded.start();
      int out = receiver.boundAddress().getPort();
      int in = TestSupport.freePort();
      Path conf = dir.resolve("rsyslog.conf");
      Files.writeString(
          conf,
          String.join(
              "\n",
              "global(workDirectory=\"" + dir + "\" maxMessageSize=\"64k\")",
              "module(load=\"imtcp\")",
              "input(type=\"imtcp\" port=\"" + in + "\" address=\"127.0.0.1\")",
              "action(type=\"omfwd\" target=\"127.0.0.1\" port=\""
                  + out
                  + "\" protocol=\"tcp\" TCP_Framing=\""
                  + tcpFraming
                  + "\" template=\""
                  + template
                  + "\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")",
              ""));
      Path log = dir.resolve("rsyslogd.log");
      Process rsyslog =
          new ProcessBuilder(
                  RSYSLOGD,
                  "-n",
                  "-f",
                  conf.toString(),
                  "-i",
                  dir.resolve("rsyslogd.pid").toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      try {
        List<String> expected = new ArrayList<>();
        await("rsyslogd to listen on " + in + " (log: " + log + ")")
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(
                () -> {
                  try (Socket s = new Socket("127.0.0.1", in)) {
                    return true;
                  }
                });
        try (Socket s = new Socket("127.0.0.1", in)) {
          OutputStream os = s.getOutputStream();
          StringBuilder b = new StringBuilder();
          for (int i = 0; i < 300; i++) {
            String msg = "message " + i + " with \"quotes\" and [brackets]";
            expected.add(messagePrefix + msg);
            b.append("<134>Dec  7 05:00:00 sensorhost sensor-app[4242]: ").append(msg).append('\n');
          }
          os.write(b.toString().getBytes(StandardCharsets.UTF_8));
        }
        await("300 messages forwarded by rsyslog")
            .atMost(Duration.ofSeconds(60))
            .until(() -> embedded.durable().size() >= 300);
        List<Record> records = List.copyOf(embedded.durable());
        assertThat(records)
            .extracting(r -> header(r, "syslog.message"))
            .containsExactlyElementsOf(expected);
        for (Record r : records) {
          assertThat(header(r, "syslog.facility")).isEqualTo("16");
          assertThat(header(r, "syslog.severity")).isEqualTo("6");
          assertThat(header(r, "syslog.hostname")).isEqualTo("sensorhost");
          assertThat(header(r, "syslog.app-name")).isEqualTo("sensor-app");
          assertThat(r.headers()).containsKey("remote");
          assertThat(r.valueAsString()).startsWith("<134>");
        }
        assertThat(receiver.errorCount(SocketErrorReason.BAD_OCTET_COUNT)).isZero();
        assertThat(receiver.errorCount(SocketErrorReason.INVALID_UTF8)).isZero();
        return records;
      } finally {
        rsyslog.destroy();
        if (!rsyslog.waitFor(15, TimeUnit.SECONDS)) {
          rsyslog.destroyForcibly();
        }
      }
    }
  }

  private static String header(Record r, String name) {
    Map<String, byte[]> h = r.headers();
    byte[] v = h.get(name);
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }
}
