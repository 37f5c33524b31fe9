package io.tributary.core.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrefixedOptionTest {
  private static final ConfigOption<String> PATH = ConfigOption.string("path").required();
  private static final ConfigOption<Map<String, String>> HADOOP = ConfigOption.prefixed("hadoop.");
  private static final ConfigSpec SPEC = ConfigSpec.of(PATH, HADOOP);

  @Test
  void collectsEveryPrefixedKeyIntoOneMapWithTheRestOfTheKey() {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("path", "/x");
    raw.put("hadoop.fs.s3a.endpoint", "http://127.0.0.1:9000");
    raw.put("hadoop.fs.s3a.path.style.access", true);
    Config c = SPEC.parse(raw);
    assertThat(c.get(HADOOP))
        .containsExactly(
            Map.entry("fs.s3a.endpoint", "http://127.0.0.1:9000"), Map.entry("fs.s3a.path.style.access", "true"));
    assertThat(c.get(PATH)).isEqualTo("/x");
    assertThat(HADOOP.name()).isEqualTo("hadoop.*");
    assertThat(HADOOP.prefix()).isEqualTo("hadoop.");
  }

  @Test
  void defaultsToAnEmptyMapAndStillRejectsOtherUnknownKeys() {
    assertThat(SPEC.parse(Map.of("path", "/x")).get(HADOOP)).isEmpty();
    assertThat(SPEC.validate(Map.of("path", "/x", "hadoopx", "1", "hadoop.", "2")))
        .extracting(ConfigProblem::key)
        .containsExactlyInAnyOrder("hadoopx", "hadoop.");
  }

  @Test
  void reportsNullValuesOfTheFamily() {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("path", "/x");
    raw.put("hadoop.fs.defaultFS", null);
    assertThatThrownBy(() -> SPEC.parse(raw))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid value null for hadoop.fs.defaultFS");
  }

  @Test
  void refusesAPrefixWithoutTrailingDot() {
    assertThatThrownBy(() -> ConfigOption.prefixed("hadoop")).isInstanceOf(IllegalArgumentException.class);
  }
}
