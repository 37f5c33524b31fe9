package io.tributary.core.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.runtime.FsyncPolicy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Declared options: conversion, validation, aliases, and every problem reported at once. */
class ConfigSpecTest {
  static final ConfigOption<String> HOST =
      ConfigOption.string("host").required().description("Where to connect.");
  static final ConfigOption<Integer> PORT =
      ConfigOption.integer("port").defaultValue(9000).validate(ConfigOption.between(1, 65535));
  static final ConfigOption<Duration> TIMEOUT =
      ConfigOption.duration("timeout")
          .defaultValue(Duration.ofSeconds(30))
          .validate(ConfigOption.positive());
  static final ConfigOption<Long> BUFFER = ConfigOption.size("buffer").defaultValue(1024L);
  static final ConfigOption<FsyncPolicy> FSYNC = ConfigOption.enumValue("fsync", FsyncPolicy.class);
  static final ConfigOption<Boolean> TLS = ConfigOption.bool("tls").defaultValue(false);
  static final ConfigOption<List<String>> TOPICS = ConfigOption.stringList("topics");
  static final ConfigOption<Long> RATE =
      ConfigOption.longValue("max-rate")
          .defaultValue(0L)
          .validate(ConfigOption.atLeast(0))
          .deprecatedAliases("maxRate", "rate.max");

  static final ConfigSpec SPEC =
      ConfigSpec.of(HOST, PORT, TIMEOUT, BUFFER, FSYNC, TLS, TOPICS, RATE);

  @Test
  void parsesValidValuesAndFallsBackToDefaults() {
    Config c =
        SPEC.parse(
            Map.of("host", "example.org", "timeout", "2s", "tls", "yes", "topics", "a, b,,c"));
    assertThat(c.get(HOST)).isEqualTo("example.org");
    assertThat(c.get(PORT)).isEqualTo(9000);
    assertThat(c.get(TIMEOUT)).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.get(TLS)).isTrue();
    assertThat(c.get(TOPICS)).containsExactly("a", "b", "c");
    assertThat(c.get(FSYNC)).isNull();
    assertThat(c.isSet(TIMEOUT)).isTrue();
    assertThat(c.isSet(PORT)).isFalse();
    assertThat(c.asMap()).containsOnlyKeys("host", "timeout", "tls", "topics");
  }

  @Test
  void reportsEveryProblemAtOnce() {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("prot", 9000); // typo: unknown key
    raw.put("port", "ninety"); // bad type
    raw.put("timeout", "0s"); // validator failure
    raw.put("max-rate", -5); // validator failure
    raw.put("fsync", "sometimes"); // bad enum
    // host is missing

    assertThat(SPEC.validate(raw))
        .extracting(ConfigProblem::key)
        .containsExactlyInAnyOrder("prot", "port", "timeout", "max-rate", "fsync", "host");
    assertThatThrownBy(() -> SPEC.parse(raw))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e -> {
              List<String> problems = ((ConfigException) e).problems();
              assertThat(problems).hasSize(6);
              assertThat(problems)
                  .anySatisfy(
                      p ->
                          assertThat(p)
                              .startsWith("Unknown key prot")
                              .contains(
                                  "host, port, timeout, buffer, fsync, tls, topics, max-rate"));
              assertThat(problems)
                  .anySatisfy(
                      p ->
                          assertThat(p)
                              .startsWith(
                                  "Invalid value ninety for port: not a whole number (expected: int)"));
              assertThat(problems)
                  .anySatisfy(
                      p ->
                          assertThat(p)
                              .startsWith("Invalid value 0s for timeout: must be positive"));
              assertThat(problems)
                  .anySatisfy(
                      p ->
                          assertThat(p)
                              .startsWith("Invalid value -5 for max-rate: must be at least 0"));
              assertThat(problems)
                  .anySatisfy(
                      p ->
                          assertThat(p)
                              .startsWith(
                                  "Invalid value sometimes for fsync: not one of [always, interval, never]"));
              assertThat(problems)
                  .anySatisfy(
                      p ->
                          assertThat(p)
                              .startsWith("Missing required key host")
                              .contains("Where to connect."));
            })
        .hasMessageStartingWith("6 configuration problems:");
  }

  @Test
  void validConfigurationHasNoProblems() {
    assertThat(SPEC.validate(Map.of("host", "h"))).isEmpty();
  }

  @Test
  void nullValueIsAProblemNotACrash() {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("host", "h");
    raw.put("port", null);
    assertThat(SPEC.validate(raw))
        .singleElement()
        .satisfies(
            p -> assertThat(p.message()).isEqualTo("Invalid value null for port (expected: int)"));
  }

  @Test
  void parsesDurations() {
    assertThat(ConfigOption.toDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(ConfigOption.toDuration("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(ConfigOption.toDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(ConfigOption.toDuration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(ConfigOption.toDuration("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(ConfigOption.toDuration(" 250 ")).isEqualTo(Duration.ofMillis(250));
    assertThat(ConfigOption.toDuration(750)).isEqualTo(Duration.ofMillis(750));
    assertThat(ConfigOption.toDuration(Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(3));
    assertThatThrownBy(() -> TIMEOUT.parse("soon"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Invalid value soon for timeout: not a duration such as 500ms, 2s, 5m, 1h (expected: duration)");
  }

  @Test
  void parsesSizes() {
    assertThat(ConfigOption.toSize("512")).isEqualTo(512);
    assertThat(ConfigOption.toSize("64kb")).isEqualTo(64 * 1024);
    assertThat(ConfigOption.toSize("16mb")).isEqualTo(16L * 1024 * 1024);
    assertThat(ConfigOption.toSize("16MB")).isEqualTo(16L * 1024 * 1024);
    assertThat(ConfigOption.toSize("1gb")).isEqualTo(1024L * 1024 * 1024);
    assertThat(ConfigOption.toSize("8k")).isEqualTo(8 * 1024);
    assertThat(ConfigOption.toSize(4096)).isEqualTo(4096);
    assertThatThrownBy(() -> BUFFER.parse("lots"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a size such as 512, 64kb, 16mb, 1gb");
  }

  @Test
  void rejectsSizesWithUnknownUnitsInsteadOfIgnoringTheUnit() {
    // "16xb" or "16 tb" must not silently become 16 bytes.
    assertThatThrownBy(() -> BUFFER.parse("16xb"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value 16xb for buffer");
    assertThatThrownBy(() -> BUFFER.parse("16tb")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void parsesEnumsCaseInsensitivelyWithDashes() {
    assertThat(FSYNC.parse("interval")).isEqualTo(FsyncPolicy.INTERVAL);
    assertThat(FSYNC.parse("ALWAYS")).isEqualTo(FsyncPolicy.ALWAYS);
    assertThat(FSYNC.parse(FsyncPolicy.NEVER)).isEqualTo(FsyncPolicy.NEVER);
    assertThat(FSYNC.type()).isEqualTo("enum [always, interval, never]");
  }

  @Test
  void parsesBooleansAndRejectsOthers() {
    assertThat(TLS.parse("off")).isFalse();
    assertThat(TLS.parse(true)).isTrue();
    assertThatThrownBy(() -> TLS.parse("maybe"))
        .hasMessage("Invalid value maybe for tls: not a boolean (expected: boolean)");
  }

  @Test
  void integersMustBeWholeAndFit() {
    assertThat(PORT.parse("8_080")).isEqualTo(8080);
    assertThatThrownBy(() -> PORT.parse(1.5)).hasMessageContaining("not a whole number");
    assertThatThrownBy(() -> PORT.parse(70_000))
        .hasMessageContaining("out of range (expected: 1 to 65535)");
    assertThatThrownBy(() -> ConfigOption.integer("n").parse(Long.MAX_VALUE))
        .hasMessageContaining("does not fit in an int");
  }

  @Test
  void acceptsDeprecatedAliases() {
    Config c = SPEC.parse(Map.of("host", "h", "maxRate", "250"));
    assertThat(c.get(RATE)).isEqualTo(250L);
    assertThat(SPEC.parse(Map.of("host", "h", "rate.max", 7)).get(RATE)).isEqualTo(7L);
    assertThat(SPEC.validate(Map.of("host", "h", "maxRate", -1)))
        .singleElement()
        .satisfies(p -> assertThat(p.key()).isEqualTo("maxRate"));
  }

  @Test
  void rejectsOptionsDeclaredTwiceAndOptionsOfAnotherSpec() {
    assertThatThrownBy(() -> ConfigSpec.of(HOST, ConfigOption.string("host")))
        .hasMessageContaining("host");
    Config c = SPEC.parse(Map.of("host", "h"));
    assertThatThrownBy(() -> c.get(ConfigOption.string("other")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not declared");
  }

  @Test
  void entriesOfAPrefixedOptionAreCheckedOneByOneUnderTheirFullKeySecretsMasked() {
    ConfigOption<Map<String, String>> client =
        ConfigOption.prefixed("client.")
            .validateEachEntry(
                (name, value) ->
                    name.endsWith(".ms") && !value.chars().allMatch(Character::isDigit)
                        ? "not a number of milliseconds " + value + " (expected: digits)"
                        : null);
    ConfigSpec spec = ConfigSpec.of(client);
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("client.linger.ms", "soon");
    raw.put("client.retry.backoff.ms", "100");
    raw.put("client.password.ms", "hunter2");
    List<ConfigProblem> problems = spec.validate(raw);
    assertThat(problems)
        .extracting(ConfigProblem::key)
        .containsExactly("client.linger.ms", "client.password.ms");
    assertThat(problems.get(0).message())
        .isEqualTo(
            "Invalid value soon for client.linger.ms: not a number of milliseconds soon (expected:"
                + " digits)");
    assertThat(problems.get(1).message())
        .startsWith("Invalid value ****** for client.password.ms")
        .doesNotContain("hunter2");
    assertThat(spec.parse(Map.of("client.linger.ms", "5")).get(client))
        .containsEntry("linger.ms", "5");
  }
}
