package io.tributary.connector.socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.ConfigException;
import io.tributary.core.api.SourceFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class SocketOptionsTest {
  static final String START =
      "<!-- config-table:start (generated from SocketOptions.SPEC; do not edit) -->\n";
  static final String END = "<!-- config-table:end -->";

  @Test
  void readmeConfigTableMatchesSpec() throws Exception {
    Path readme = Path.of(System.getProperty("basedir", "."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    int start = text.indexOf(START);
    int end = text.indexOf(END);
    assertThat(start)
        .as("README.md must contain the marker " + START.trim())
        .isGreaterThanOrEqualTo(0);
    assertThat(end).as("README.md must contain the marker " + END).isGreaterThan(start);
    String expected = SocketOptions.markdownTable();
    String actual = text.substring(start + START.length(), end);
    if (Boolean.getBoolean("tributary.regenerateDocs")) {
      Files.writeString(
          readme,
          text.substring(0, start + START.length()) + expected + text.substring(end),
          StandardCharsets.UTF_8);
      return;
    }
    assertThat(actual)
        .as(
            "The configuration table in connector-socket/README.md is stale. Regenerate it with:\n"
                + "  mvn -pl connector-socket -am test -Dtest=SocketOptionsTest -Dsurefire.failIfNoSpecifiedTests=false"
                + " -Dtributary.regenerateDocs=true\nand commit README.md.")
        .isEqualTo(expected);
  }

  @Test
  void defaultsAreLoopbackOneMebibyteLinesUnreliable() {
    var c = SocketOptions.SPEC.parse(Map.of("mode", "server", "port", 9999));
    assertThat(c.get(SocketOptions.HOST)).isEqualTo("127.0.0.1");
    assertThat(c.get(SocketOptions.MAX_FRAME_BYTES)).isEqualTo(1024L * 1024);
    assertThat(c.get(SocketOptions.FRAMING)).isEqualTo(SocketOptions.Framing.LINES);
    assertThat(c.get(SocketOptions.RELIABLE)).isFalse();
    assertThat(
            SocketOptions.SPEC
                .parse(Map.of("mode", "server", "port", 1, "framing", "length-prefixed"))
                .get(SocketOptions.FRAMING))
        .isEqualTo(SocketOptions.Framing.LENGTH_PREFIXED);
  }

  @Test
  void reportsEveryInvalidValueAtOnce() {
    assertThatThrownBy(
            () ->
                SocketOptions.SPEC.parse(
                    Map.of("mode", "sideways", "port", 70000, "colour", "red")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).problems()).hasSize(3))
        .hasMessageContaining("Invalid value sideways for mode")
        .hasMessageContaining("Invalid value 70000 for port")
        .hasMessageContaining("Unknown key colour");
  }

  @Test
  void rejectsOptionsThatDoNotFitTheMode() {
    var client =
        TestSupport.config("mode", "client", "port", 0, "reliable", true, "max-connections", 3);
    assertThatThrownBy(() -> new SocketClientReceiver(client))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid value 0 for port")
        .hasMessageContaining("Invalid value true for reliable")
        .hasMessageContaining("max-connections: applies to mode server only");
    var server =
        TestSupport.config(
            "mode", "server", "port", 0, "tls.enabled", true, "reconnect.max-backoff", "1s");
    assertThatThrownBy(() -> new SocketServerReceiver(server))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Missing required key tls.cert-file")
        .hasMessageContaining("Missing required key tls.key-file")
        .hasMessageContaining("reconnect.max-backoff: applies to mode client only");
  }

  @Test
  void hardeningOptionsHaveSafeDefaultsAndFitTheServerOnly() {
    var c = TestSupport.config("mode", "server", "port", 0);
    assertThat(c.get(SocketOptions.READ_IDLE_TIMEOUT)).isEqualTo(java.time.Duration.ofSeconds(60));
    assertThat(c.get(SocketOptions.MAX_BUFFERED_BYTES)).isEqualTo(64L * 1024 * 1024);
    assertThat(c.get(SocketOptions.SYSLOG_FORMAT)).isEqualTo(SocketOptions.SyslogFormat.NONE);
    assertThat(
            TestSupport.config("mode", "server", "port", 0, "framing", "octet-counted")
                .get(SocketOptions.FRAMING))
        .isEqualTo(SocketOptions.Framing.OCTET_COUNTED);
    var client =
        TestSupport.config(
            "mode",
            "client",
            "port",
            9,
            "read-idle-timeout",
            "5s",
            "max-buffered-bytes",
            "1mb",
            "syslog-format",
            "auto");
    assertThatThrownBy(() -> new SocketClientReceiver(client))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("read-idle-timeout: applies to mode server only")
        .hasMessageContaining("max-buffered-bytes: applies to mode server only")
        .hasMessageContaining("syslog-format: applies to mode server only");
    var reliable =
        TestSupport.config("mode", "server", "port", 0, "reliable", true, "syslog-format", "auto");
    assertThatThrownBy(() -> new SocketServerReceiver(reliable))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("syslog-format: applies to plain mode only");
    assertThatThrownBy(
            () -> TestSupport.config("mode", "server", "port", 0, "read-idle-timeout", "0s"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("read-idle-timeout");
  }

  @Test
  void reliableServerDeclaresItsProducerIdleTimeoutToTheRuntime() {
    var reliable =
        new SocketServerReceiver(TestSupport.config("mode", "server", "port", 0, "reliable", true));
    assertThat(reliable.partitionIdleTimeout()).contains(java.time.Duration.ofDays(7));
    var custom =
        new SocketServerReceiver(
            TestSupport.config(
                "mode",
                "server",
                "port",
                0,
                "reliable",
                true,
                "reliable.producer-idle-timeout",
                "1d"));
    assertThat(custom.partitionIdleTimeout()).contains(java.time.Duration.ofDays(1));
    var plain = new SocketServerReceiver(TestSupport.config("mode", "server", "port", 0));
    assertThat(plain.partitionIdleTimeout())
        .as("the plain server's frame counter never expires")
        .isEmpty();
    assertThatThrownBy(
            () ->
                new SocketServerReceiver(
                    TestSupport.config(
                        "mode", "server", "port", 0, "reliable.producer-idle-timeout", "1d")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("for reliable.producer-idle-timeout: applies to reliable: true only");
  }

  @Test
  void factoryIsFoundThroughServiceLoaderAndCreatesTheModesReceiver() {
    SourceFactory factory =
        ServiceLoader.load(SourceFactory.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(f -> f.type().equals("socket"))
            .findFirst()
            .orElseThrow();
    assertThat(factory.options()).isSameAs(SocketOptions.SPEC);
    assertThat(factory.create("in", TestSupport.config("mode", "server", "port", 0)))
        .isInstanceOf(SocketServerReceiver.class);
    assertThat(factory.create("in", TestSupport.config("mode", "client", "port", 9)))
        .isInstanceOf(SocketClientReceiver.class);
  }
}
