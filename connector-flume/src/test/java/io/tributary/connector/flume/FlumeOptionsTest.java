package io.tributary.connector.flume;

import static io.tributary.connector.flume.FlumeTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.flume.internal.IpFilterRules;
import io.tributary.core.api.ConfigException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class FlumeOptionsTest {
  @Test
  void ipFilterRulesFirstMatchDecidesAndNoMatchAllows() {
    IpFilterRules rules =
        IpFilterRules.parse("allow:ip:127.0.0.1, deny:ip:127.*, deny:ip:10.1.*.7");
    assertThat(rules.denyingRule(new InetSocketAddress("127.0.0.1", 1))).isNull();
    assertThat(rules.denyingRule(new InetSocketAddress("127.0.0.2", 1))).isEqualTo("deny:ip:127.*");
    assertThat(rules.denyingRule(new InetSocketAddress("10.1.200.7", 1)))
        .isEqualTo("deny:ip:10.1.*.7");
    assertThat(rules.denyingRule(new InetSocketAddress("10.1.200.8", 1))).isNull();
    assertThat(IpFilterRules.parse("").isEmpty()).isTrue();
  }

  @Test
  void everyBadPushOptionIsReportedAtOnce() {
    assertThatThrownBy(
            () ->
                new FlumePushReceiver(
                    config(
                        "mode",
                        "push",
                        "tls.enabled",
                        true,
                        "ip-filter-rules",
                        "permit:ip:1.2.3.4,deny:mac:*",
                        "pull.hosts",
                        "a:1"),
                    new SimpleMeterRegistry()))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .hasSize(4)
                    .anyMatch(p -> p.contains("tls.keystore"))
                    .anyMatch(p -> p.contains("permit:ip:1.2.3.4"))
                    .anyMatch(p -> p.contains("deny:mac:*"))
                    .anyMatch(p -> p.contains("pull.hosts")));
  }

  @Test
  void keystorePasswordIsSensitive() {
    assertThat(FlumeOptions.TLS_KEYSTORE_PASSWORD.sensitivity().toString()).isNotEqualTo("NONE");
    assertThat(FlumeSinkOptions.TRUSTSTORE_PASSWORD.sensitivity().toString()).isNotEqualTo("NONE");
  }

  @Test
  void factoriesAreFoundThroughServiceLoader() {
    assertThat(
            java.util.ServiceLoader.load(io.tributary.core.api.SourceFactory.class).stream()
                .map(p -> p.get().type()))
        .contains("flume");
    assertThat(
            java.util.ServiceLoader.load(io.tributary.core.api.SinkFactory.class).stream()
                .map(p -> p.get().type()))
        .contains("flume");
  }
}
