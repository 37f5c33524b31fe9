package io.tributary.core.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {
  enum Mode {
    WHOLE_FILE,
    TEXT
  }

  @Test
  void rendersEachCellAsTheUserWritesItInYaml() {
    ConfigSpec spec =
        ConfigSpec.of(
            ConfigOption.string("path").required().description("Where | to write."),
            ConfigOption.duration("timeout")
                .defaultValue(Duration.ofSeconds(120))
                .description("A\nB"),
            ConfigOption.size("max-bytes").defaultValue(256L * 1024 * 1024).description("d"),
            ConfigOption.enumValue("mode", Mode.class)
                .defaultValue(Mode.WHOLE_FILE)
                .description("d"),
            ConfigOption.stringList("topics").defaultValue(List.of()).description("d"),
            ConfigOption.prefixed("kafka.").description("d"),
            ConfigOption.longValue("limit").description("d"));

    assertThat(ConfigDocs.markdownTable(spec))
        .isEqualTo(
            """
            | Key | Type | Default | Description |
            | --- | --- | --- | --- |
            | `path` | string | *required* | Where \\| to write. |
            | `timeout` | duration | `2m` | A B |
            | `max-bytes` | size | `256mb` | d |
            | `mode` | enum [whole-file, text] | `whole-file` | d |
            | `topics` | list of strings | (none) | d |
            | `kafka.*` | map (kafka.<name>: value) | (none) | d |
            | `limit` | long | - | d |
            """);
  }

  @Test
  void durationsAndSizesUseTheLargestUnitThatReadsBackTheSameValue() {
    for (Duration d :
        List.of(
            Duration.ofDays(7),
            Duration.ofHours(2),
            Duration.ofMinutes(90),
            Duration.ofSeconds(61),
            Duration.ofMillis(1500),
            Duration.ZERO)) {
      assertThat(ConfigOption.toDuration(ConfigDocs.duration(d)))
          .as(ConfigDocs.duration(d))
          .isEqualTo(d);
    }
    assertThat(ConfigDocs.duration(Duration.ofDays(7))).isEqualTo("7d");
    assertThat(ConfigDocs.duration(Duration.ofMinutes(90))).isEqualTo("90m");
    assertThat(ConfigDocs.duration(Duration.ZERO)).isEqualTo("0s");
    for (long b : List.of(0L, 1000L, 1024L, 3L * 1024 * 1024, 1L << 30)) {
      assertThat(ConfigOption.toSize(ConfigDocs.size(b))).as(ConfigDocs.size(b)).isEqualTo(b);
    }
    assertThat(ConfigDocs.size(1L << 30)).isEqualTo("1gb");
  }
}
