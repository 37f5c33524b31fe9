package io.tributary.core.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigSpecPrefixTest {
  private static final ConfigOption<String> HOST = ConfigOption.string("host").required();
  private static final ConfigOption<Map<String, String>> CLIENT = ConfigOption.prefixed("client.");
  private static final ConfigSpec SPEC = ConfigSpec.of(HOST, CLIENT);

  @Test
  void collectsEveryKeyUnderThePrefixAsStrings() {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("host", "h");
    raw.put("client.security.protocol", "SSL");
    raw.put("client.retries", 5);
    raw.put("client.ssl.enabled.protocols", List.of("TLSv1.2", "TLSv1.3"));
    Config c = SPEC.parse(raw);
    assertThat(c.get(CLIENT))
        .containsExactly(
            Map.entry("security.protocol", "SSL"),
            Map.entry("retries", "5"),
            Map.entry("ssl.enabled.protocols", "TLSv1.2,TLSv1.3"));
  }

  @Test
  void defaultsToAnEmptyMapAndStillRejectsUnknownKeys() {
    assertThat(SPEC.parse(Map.of("host", "h")).get(CLIENT)).isEmpty();
    assertThatThrownBy(() -> SPEC.parse(Map.of("host", "h", "clientx", "1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Unknown key clientx")
        .hasMessageContaining("client.*");
    assertThatThrownBy(() -> SPEC.parse(Map.of("host", "h", "client.", "1")))
        .hasMessageContaining("for client.: not a mapping");
  }

  @Test
  void validationMessagesNeverShowTheValues() {
    ConfigSpec strict =
        ConfigSpec.of(
            CLIENT.validate(
                m -> m.containsKey("forbidden") ? "forbidden is set by the runtime" : null));
    assertThatThrownBy(() -> strict.parse(Map.of("client.forbidden", "s3cr3t")))
        .hasMessageContaining("forbidden is set by the runtime")
        .hasMessageNotContaining("s3cr3t");
  }
}
