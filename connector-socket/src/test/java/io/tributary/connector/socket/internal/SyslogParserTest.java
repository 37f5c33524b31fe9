package io.tributary.connector.socket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.socket.SocketOptions.SyslogFormat;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SyslogParserTest {
  private static Map<String, String> parse(SyslogFormat f, String message) {
    byte[] a = message.getBytes(StandardCharsets.UTF_8);
    Map<String, byte[]> h = SyslogParser.parse(f, a, 0, a.length);
    if (h == null) {
      return null;
    }
    Map<String, String> out = new TreeMap<>();
    h.forEach((k, v) -> out.put(k, new String(v, StandardCharsets.UTF_8)));
    return out;
  }

  @Test
  void rfc5424WithStructuredDataAndNilValues() {
    Map<String, String> h =
        parse(
            SyslogFormat.AUTO,
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47"
                + " [exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"]\"][x@1 a=\"b\"] An application"
                + " event\n");
    assertThat(h)
        .containsEntry("syslog.facility", "20")
        .containsEntry("syslog.severity", "5")
        .containsEntry("syslog.version", "1")
        .containsEntry("syslog.timestamp", "2003-10-11T22:14:15.003Z")
        .containsEntry("syslog.hostname", "mymachine.example.com")
        .containsEntry("syslog.app-name", "evntslog")
        .containsEntry("syslog.msgid", "ID47")
        .containsEntry(
            "syslog.structured-data",
            "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"]\"][x@1 a=\"b\"]")
        .containsEntry("syslog.message", "An application event")
        .doesNotContainKey("syslog.procid");
  }

  @Test
  void rfc5424WithoutMessage() {
    assertThat(parse(SyslogFormat.RFC5424, "<34>1 - host app 12 - -"))
        .containsEntry("syslog.procid", "12")
        .doesNotContainKeys("syslog.message", "syslog.timestamp", "syslog.structured-data");
  }

  @Test
  void rfc3164AsRsyslogForwardsIt() {
    assertThat(parse(SyslogFormat.AUTO, "<134>Dec  7 05:00:00 myhost myapp[123]: hello one"))
        .containsEntry("syslog.facility", "16")
        .containsEntry("syslog.severity", "6")
        .containsEntry("syslog.timestamp", "Dec  7 05:00:00")
        .containsEntry("syslog.hostname", "myhost")
        .containsEntry("syslog.app-name", "myapp")
        .containsEntry("syslog.procid", "123")
        .containsEntry("syslog.message", "hello one")
        .doesNotContainKey("syslog.version");
  }

  @Test
  void rfc3164WithoutTimestampIsAllMessage() {
    assertThat(parse(SyslogFormat.RFC3164, "<13>just text"))
        .containsEntry("syslog.severity", "5")
        .containsEntry("syslog.message", "just text")
        .doesNotContainKey("syslog.hostname");
  }

  @Test
  void garbageIsNotParsed() {
    assertThat(parse(SyslogFormat.AUTO, "no pri")).isNull();
    assertThat(parse(SyslogFormat.AUTO, "<999>1 x")).isNull();
    assertThat(parse(SyslogFormat.AUTO, "<12")).isNull();
    assertThat(parse(SyslogFormat.AUTO, "<012>x")).isNull();
    assertThat(parse(SyslogFormat.RFC5424, "<13>Dec  7 05:00:00 h t: m")).isNull();
    assertThat(parse(SyslogFormat.RFC5424, "<13>1 only two")).isNull();
    assertThat(parse(SyslogFormat.RFC5424, "<13>1 a b c d e [unterminated")).isNull();
  }
}
