package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.Record;
import io.tributary.gateway.internal.Transforms;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class GatewayConfigTest {
  private static GatewayConfig parse(String yaml) {
    return GatewayConfig.parse(new StringReader(yaml), "test.yaml");
  }

  private static List<String> problems(String yaml) {
    try {
      parse(yaml);
    } catch (GatewayConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected problems in:\n" + yaml);
  }

  private static final String GOOD =
      """
      pipelines:
        - id: lines
          settings: { batch-interval: 500ms, wal.fsync: interval }
          checkpoint: /tmp/ckpt/lines
          source: { type: socket, mode: server, port: 9999, reliable: true }
          transforms:
            - { type: filter, contains: "x" }
            - { type: map, op: prefix, value: ">" }
          sinks:
            - { type: files, path: /tmp/out, max-file-size: 1mb }
            - { type: console }
      admin: { port: 0 }
      """;

  @Test
  void parsesAValidFile() {
    GatewayConfig c = parse(GOOD);
    assertThat(c.pipelines()).hasSize(1);
    GatewayConfig.PipelineConfig p = c.pipelines().get(0);
    assertThat(p.id()).isEqualTo("lines");
    assertThat(p.source().type()).isEqualTo("socket");
    assertThat(p.transforms())
        .extracting(GatewayConfig.Component::type)
        .containsExactly("filter", "map");
    assertThat(p.sinks())
        .extracting(GatewayConfig.Component::type)
        .containsExactly("files", "console");
    assertThat(p.options().get(io.tributary.core.runtime.PipelineOptions.BATCH_INTERVAL).toMillis())
        .isEqualTo(500);
    assertThat(p.fingerprint())
        .contains("source=socket")
        .contains("sink=files")
        .contains("sink=console");
    assertThat(c.admin().port()).isZero();
  }

  @Test
  void componentsPrintTheirKeysButNeverTheirValues() {
    GatewayConfig c =
        parse(
            """
            pipelines:
              - id: k
                checkpoint: /tmp/ckpt/k
                source: { type: kafka, bootstrap-servers: "127.0.0.1:9092", topics: [a],
                          kafka.sasl.jaas.config: "ScramLoginModule required password=\\"hunter2\\";" }
                sinks: [ { type: console } ]
            """);
    GatewayConfig.PipelineConfig p = c.pipelines().get(0);
    assertThat(p.toString()).contains("kafka.sasl.jaas.config").doesNotContain("hunter2");
  }

  @Test
  void embeddedDefaultIsValid() throws Exception {
    GatewayConfig c = GatewayConfig.loadDefault();
    assertThat(c.pipelines()).extracting(GatewayConfig.PipelineConfig::id).containsExactly("lines");
    assertThat(c.admin().port()).isEqualTo(9090);
  }

  @Test
  void reportsEveryProblemAtOnceWithItsLine() {
    List<String> ps =
        problems(
            """
            pipelines:
              - id: "bad id"
                settings:
                  batch-interval: -1s
                  bogus: 1
                source: { type: sockett }
                sinks:
                  - { type: files }
                  - { type: console, max-records: abc }
            extra: 1
            """);
    assertThat(ps)
        .anySatisfy(p -> assertThat(p).startsWith("test.yaml:2:").contains("pipelines[0].id"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("test.yaml:4:")
                    .contains("batch-interval")
                    .contains("positive"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("test.yaml:5:")
                    .contains("Unknown key pipelines[0].settings.bogus"))
        .anySatisfy(p -> assertThat(p).contains("Missing required key pipelines[0].checkpoint"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("test.yaml:6:")
                    .contains("sockett")
                    .contains(
                        "expected one of: files, files-tail, flume, kafka, kafka-group, kinesis, kinesis-kcl, socket"))
        .anySatisfy(
            p -> assertThat(p).startsWith("test.yaml:8:").contains("pipelines[0].sinks[0].path"))
        .anySatisfy(
            p -> assertThat(p).startsWith("test.yaml:9:").contains("abc").contains("max-records"))
        .anySatisfy(p -> assertThat(p).startsWith("test.yaml:10:").contains("Unknown key extra"));
    assertThat(ps).hasSize(8);
  }

  @Test
  void sourceOptionsAreCheckedByTheConnectorsOwnDeclarations() {
    List<String> ps =
        problems(
            """
            pipelines:
              - id: a
                checkpoint: /tmp/a
                source:
                  type: socket
                  mode: server
                  port: not-a-port
                  framing: morse
                sinks: [ { type: console } ]
            """);
    assertThat(ps)
        .anySatisfy(
            p -> assertThat(p).startsWith("test.yaml:7:").contains("pipelines[0].source.port"))
        .anySatisfy(
            p -> assertThat(p).startsWith("test.yaml:8:").contains("morse").contains("lines"));
  }

  @Test
  void rejectsDuplicateIdsAndSharedCheckpoints() {
    List<String> ps =
        problems(
            """
            pipelines:
              - { id: a, checkpoint: /tmp/x, source: { type: socket, mode: server, port: 1 }, sinks: [ { type: console } ] }
              - { id: a, checkpoint: /tmp/x, source: { type: socket, mode: server, port: 2 }, sinks: [ { type: console } ] }
            """);
    assertThat(ps)
        .anySatisfy(p -> assertThat(p).startsWith("test.yaml:3:").contains("duplicate pipeline id"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("test.yaml:3:")
                    .contains("one checkpoint location per pipeline"));
  }

  @Test
  void malformedYamlNamesLineAndColumn() {
    assertThatThrownBy(() -> parse("pipelines:\n  - id: a\n   bad: [\n"))
        .isInstanceOf(GatewayConfigException.class)
        .hasMessageStartingWith("test.yaml:3:");
  }

  @Test
  void emptyFileAndMissingSinksAreExplained() {
    assertThat(problems("")).singleElement().asString().contains("Missing required key pipelines");
    assertThat(
            problems(
                "pipelines:\n  - { id: a, checkpoint: /tmp/a, source: { type: socket, mode: server, port: 1 } }\n"))
        .anySatisfy(
            p ->
                assertThat(p).contains("pipelines[0].sinks").contains("console").contains("files"));
  }

  @Test
  void transformsAreValidatedAndWork() {
    List<String> ps =
        problems(
            """
            pipelines:
              - id: a
                checkpoint: /tmp/a
                source: { type: socket, mode: server, port: 1 }
                transforms:
                  - { type: filter }
                  - { type: filter, regex: "([" }
                  - { type: map, op: prefix }
                  - { type: explode }
                sinks: [ { type: console } ]
            """);
    assertThat(ps)
        .anySatisfy(p -> assertThat(p).startsWith("test.yaml:6:").contains("exactly one of regex"))
        .anySatisfy(
            p ->
                assertThat(p).startsWith("test.yaml:7:").contains("not a valid regular expression"))
        .anySatisfy(p -> assertThat(p).startsWith("test.yaml:8:").contains("needs value"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("test.yaml:9:")
                    .contains("explode")
                    .contains("filter, map"));

    GatewayConfig.PipelineConfig p = parse(GOOD).pipelines().get(0);
    var filter = Transforms.filter(p.transforms().get(0).config());
    var map = Transforms.map(p.transforms().get(1).config());
    assertThat(filter.test(Record.ofString("axb"))).isTrue();
    assertThat(filter.test(Record.ofString("abc"))).isFalse();
    assertThat(map.apply(Record.ofString("v")).valueAsString()).isEqualTo(">v");
  }
}
