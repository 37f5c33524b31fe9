package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.runtime.FsyncPolicy;
import io.tributary.core.runtime.PipelineOptions;
import io.tributary.core.sinks.FilesSinkFactory;
import io.tributary.gateway.internal.Transforms;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Whole bad files (in {@code src/test/resources/configs}): every problem is reported in one go,
 * exactly once, sorted by line, each with the line of the YAML value it is about.
 */
class ConfigFilesTest {
  /** One expected problem: its line and a fragment of its message. */
  private record Expect(int line, String fragment) {}

  private static Expect at(int line, String fragment) {
    return new Expect(line, fragment);
  }

  private static GatewayConfig load(String name) throws Exception {
    try (InputStream in = ConfigFilesTest.class.getResourceAsStream("/configs/" + name)) {
      assertThat(in).as(name).isNotNull();
      return GatewayConfig.parse(new InputStreamReader(in, StandardCharsets.UTF_8), name);
    }
  }

  private static void assertProblems(String file, Expect... expected) throws Exception {
    List<String> problems;
    try {
      load(file);
      throw new AssertionError(file + " was accepted");
    } catch (GatewayConfigException e) {
      problems = e.problems();
    }
    assertThat(problems).as("problems of %s", file).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(problems.get(i))
          .as("problem %d of %s", i, file)
          .startsWith(file + ":" + expected[i].line() + ": ")
          .contains(expected[i].fragment());
    }
  }

  @Test
  void unknownTypesListTheTypesOnTheClasspath() throws Exception {
    assertProblems(
        "bad-types.yaml",
        at(
            6,
            "Invalid value pulsar for pipelines[0].source.type: unknown type (expected one of: files, files-tail,"
                + " flume, kafka, kafka-group, kinesis, kinesis-kcl, socket, test-sequence;"),
        at(
            9,
            "Invalid value explode for pipelines[0].transforms[0].type: unknown type (expected one of: filter, map)"),
        at(
            12,
            "Invalid value s3 for pipelines[0].sinks[1].type: unknown type (expected one of: console, files,"
                + " flume, hadoop-files, kafka, kafka-at-least-once, kinesis, test-failing;"));
  }

  @Test
  void missingAndUnknownKeysAtEveryLevel() throws Exception {
    assertProblems(
        "bad-structure.yaml",
        at(3, "Missing required key pipelines[0].id"),
        at(5, "Invalid value [] for pipelines[0].sinks: empty"),
        at(6, "Missing required key pipelines[1].checkpoint"),
        at(7, "Missing required key pipelines[1].source.count"),
        at(9, "Invalid value console for pipelines[1].sinks[0]: not a mapping"),
        at(10, "Unknown key schedule in pipelines[1]"),
        at(12, "Invalid value 70000 for admin.port"),
        at(13, "Unknown key bind in admin"),
        at(
            14,
            "Unknown key metrics (expected one of: admin, on-pipeline-failure, pipelines, plugins)"));
  }

  @Test
  void settingsAndOptionsAreCheckedByTheirDeclarationsNestedOrDotted() throws Exception {
    assertProblems(
        "bad-settings.yaml",
        at(5, "Invalid value 0s for pipelines[0].settings.batch-interval: must be positive"),
        at(7, "Invalid value perhaps for pipelines[0].settings.wal.enabled: not a boolean"),
        at(
            8,
            "Invalid value sometimes for pipelines[0].settings.wal.fsync: not one of [always, interval, never]"),
        at(9, "Unknown key pipelines[0].settings.wal.colour (expected one of: batch-interval,"),
        at(10, "Invalid value -5 for pipelines[0].settings.receiver.max-rate: must be at least 0"),
        at(
            15,
            "Invalid value 99999 for pipelines[0].source.port: out of range (expected: 0 to 65535)"),
        at(16, "Invalid value morse for pipelines[0].source.framing"),
        at(
            20,
            "Invalid value 12 parsecs for pipelines[0].sinks[0].max-file-size: not a size such as 512, 64kb, 16mb, 1gb"),
        at(20, "Invalid value maybe for pipelines[0].sinks[0].fsync: not a boolean"),
        at(21, "Invalid value -7 for pipelines[0].sinks[1].max-records: must be at least -1"));
  }

  @Test
  void connectorOptionsComeFromTheConnectorsDeclarations() throws Exception {
    assertProblems(
        "kafka.yaml",
        at(7, "Missing required key pipelines[0].source.bootstrap-servers"),
        at(9, "Invalid value yesterday for pipelines[0].source.starting-position"),
        at(
            10,
            "Invalid value PLAINTXT for pipelines[0].source.kafka.security.protocol: refused by the Kafka"
                + " client"),
        at(12, "Missing required key pipelines[0].sinks[0].topic"),
        at(14, "Invalid value soon for pipelines[0].sinks[0].transaction-timeout"),
        at(
            16,
            "Invalid value soon for pipelines[0].sinks[0].kafka.session.timeout.ms: refused by the"
                + " Kafka client"));
  }

  @Test
  void optionsThatContradictEachOtherAreFoundByValidationNotOnlyAtRun() throws Exception {
    assertProblems(
        "cross-checks.yaml",
        at(
            7,
            "Invalid pipelines[0].source (kafka): Missing key starting-offsets: starting-position is offsets"),
        at(
            19,
            "Invalid value true for pipelines[1].source.reliable: only mode server speaks the reliable protocol"),
        at(
            28,
            "Invalid value true for pipelines[2].source.ordered-file-names: it cannot be combined with recursive"));
  }

  @Test
  void duplicatesAreReportedEvenWhenThePipelineHasOtherProblems() throws Exception {
    assertProblems(
        "duplicates.yaml",
        at(
            7,
            "Invalid value same for pipelines[1].id: duplicate pipeline id, also used by pipelines[0]"),
        at(
            8,
            "Invalid value ckpt/../ckpt/same for pipelines[1].checkpoint: also used by pipelines[0]"),
        at(9, "Invalid value -1 for pipelines[1].source.count: must be at least 0"));
  }

  @Test
  void duplicateYamlKeysAreProblemsNotSilentOverrides() throws Exception {
    assertProblems(
        "duplicate-keys.yaml",
        at(2, "Missing required key pipelines[0].source"),
        at(2, "Missing required key pipelines[0].sinks"),
        at(4, "Duplicate key pipelines[0].id: already set on line 2"));
  }

  @Test
  void malformedYamlGivesTheParsersLineAndColumn() {
    assertThatThrownBy(() -> load("malformed.yaml"))
        .isInstanceOfSatisfying(
            GatewayConfigException.class,
            e ->
                assertThat(e.problems())
                    .singleElement()
                    .asString()
                    .startsWith("malformed.yaml:4:10: Invalid YAML:"));
  }

  @Test
  void yamlBooleansIncludeYesNoOnOff() {
    String yaml =
        """
        pipelines:
          - id: b
            settings: { wal.enabled: no, backpressure.enabled: on }
            checkpoint: /tmp/tributary-test/b
            source: { type: test-sequence, count: 1 }
            transforms: [ { type: filter, not-empty: yes } ]
            sinks: [ { type: files, path: /tmp/tributary-test/b-out, fsync: off } ]
        """;
    GatewayConfig.PipelineConfig p =
        GatewayConfig.parse(new StringReader(yaml), "b.yaml").pipelines().get(0);
    assertThat(p.options().get(PipelineOptions.WAL_ENABLED)).isFalse();
    assertThat(p.options().get(PipelineOptions.BACKPRESSURE)).isTrue();
    assertThat(p.transforms().get(0).config().get(Transforms.NOT_EMPTY)).isTrue();
    assertThat(p.sinks().get(0).config().get(FilesSinkFactory.FSYNC)).isFalse();
  }

  @Test
  void nestedMappingsMeanDottedKeys() throws Exception {
    GatewayConfig.PipelineConfig p = load("nested-ok.yaml").pipelines().get(0);
    assertThat(p.options().get(PipelineOptions.BATCH_INTERVAL)).isEqualTo(Duration.ofMillis(250));
    assertThat(p.options().get(PipelineOptions.WAL_ENABLED)).isTrue();
    assertThat(p.options().get(PipelineOptions.WAL_FSYNC)).isEqualTo(FsyncPolicy.INTERVAL);
    assertThat(p.options().get(PipelineOptions.WAL_FSYNC_INTERVAL))
        .isEqualTo(Duration.ofMillis(50));
    assertThat(p.source().raw()).containsEntry("reconnect.initial-backoff", "100ms");
    assertThat(p.sinks().get(0).config().get(FilesSinkFactory.MAX_FILE_SIZE)).isEqualTo(1024L);
    assertThat(p.sinks().get(0).config().get(FilesSinkFactory.PREFIX)).isEqualTo("lines");
    assertThat(p.transforms().get(0).config().get(Transforms.INVERT)).isTrue();
  }
}
