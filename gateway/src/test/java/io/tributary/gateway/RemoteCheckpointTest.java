package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.gateway.testing.MemoryCheckpointStorageFactory;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code checkpoint:} as a URI handled by a {@code CheckpointStorageFactory} on the classpath (here
 * the test-only {@code memtest://}), its {@code checkpoint-options:}, and {@code wal-dir:}.
 */
class RemoteCheckpointTest {
  @TempDir Path tmp;

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

  private String pipeline(String checkpoint, String extra) {
    return """
        pipelines:
          - id: p
            settings: { batch-interval: 50ms }
            checkpoint: %s
        %s
            source: { type: test-sequence, count: 300, prefix: "r-" }
            sinks:
              - { type: files, path: %s }
        """
        .formatted(checkpoint, extra.indent(4).stripTrailing(), tmp.resolve("out"));
  }

  @Test
  void acceptsAUriCheckpointWithOptionsAndAWalDir() {
    GatewayConfig c =
        parse(
            pipeline(
                "memtest://bucket/cp",
                """
            checkpoint-options: { token: abc, hadoop: { fs.s3a.endpoint: "http://127.0.0.1:1" } }
            wal-dir: ./wal/p"""));
    GatewayConfig.PipelineConfig p = c.pipelines().get(0);
    assertThat(p.checkpoint()).isNull();
    assertThat(p.checkpointLocation()).isEqualTo("memtest://bucket/cp");
    assertThat(p.checkpointOptions())
        .containsEntry("token", "abc")
        .containsEntry("hadoop.fs.s3a.endpoint", "http://127.0.0.1:1");
    assertThat(p.walDir()).isEqualTo(Path.of("wal/p").toAbsolutePath().normalize());
  }

  @Test
  void aLocalCheckpointStillResolvesToADirectory() {
    GatewayConfig.PipelineConfig p =
        parse(pipeline("file:" + tmp.resolve("cp"), "")).pipelines().get(0);
    assertThat(p.checkpoint()).isEqualTo(tmp.resolve("cp"));
    assertThat(p.walDir()).isNull();
  }

  @Test
  void reportsAnUnknownSchemeAndBadOptionsWithTheirLines() {
    assertThat(problems(pipeline("nosuch://x/cp", "")))
        .singleElement()
        .asString()
        .startsWith("test.yaml:4:")
        .contains("pipelines[0].checkpoint", "no checkpoint storage for scheme nosuch", "memtest");
    assertThat(problems(pipeline("memtest://x/cp", "checkpoint-options: { colour: red }")))
        .singleElement()
        .asString()
        .startsWith("test.yaml:5:")
        .contains("Unknown key pipelines[0].checkpoint-options.colour");
    assertThat(problems(pipeline(tmp.resolve("cp").toString(), "checkpoint-options: { token: x }")))
        .singleElement()
        .asString()
        .contains("a local checkpoint takes no options");
  }

  @Test
  void twoPipelinesCannotShareARemoteCheckpoint() {
    String yaml =
        """
        pipelines:
          - { id: a, checkpoint: memtest://b/cp, source: { type: test-sequence, count: 1 }, sinks: [ { type: console } ] }
          - { id: b, checkpoint: memtest://b/cp/, source: { type: test-sequence, count: 1 }, sinks: [ { type: console } ] }
        """;
    assertThat(problems(yaml))
        .anySatisfy(p -> assertThat(p).contains("one checkpoint location per pipeline"));
  }

  @Test
  void runsAndResumesAPipelineFromARemoteCheckpointThenClosesIt() throws Exception {
    String cp = "memtest://bucket/" + UUID.randomUUID();
    int openBefore = MemoryCheckpointStorageFactory.OPEN.get();
    try (Gateway gw = new Gateway(parse(pipeline(cp, "checkpoint-options: { token: t1 }")))) {
      gw.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> output().size() == 300);
      assertThat(
              MemoryCheckpointStorageFactory.lastOptions.get(MemoryCheckpointStorageFactory.TOKEN))
          .isEqualTo("t1");
    }
    assertThat(MemoryCheckpointStorageFactory.OPEN.get()).isEqualTo(openBefore);
    assertThat(MemoryCheckpointStorageFactory.FILES.get(cp)).containsKey("metadata");
    // A second run over the same remote checkpoint starts after the committed batches: nothing is
    // written twice.
    try (Gateway gw = new Gateway(parse(pipeline(cp, "")))) {
      gw.start();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  gw.pipelines().get(0).status().state()
                      == io.tributary.core.runtime.PipelineState.RUNNING);
    }
    assertThat(output()).hasSize(300).doesNotHaveDuplicates();
  }

  @Test
  void aReceiverWithARemoteCheckpointNeedsAWalDir() {
    String yaml =
        """
        pipelines:
          - id: r
            checkpoint: memtest://bucket/r
            source: { type: socket, mode: server, host: 127.0.0.1, port: 0 }
            sinks: [ { type: console } ]
        """;
    Gateway gw = new Gateway(parse(yaml));
    try {
      assertThatThrownBy(gw::start)
          .isInstanceOf(GatewayConfigException.class)
          .hasMessageContaining("wal-dir");
    } finally {
      gw.close();
    }
  }

  private List<String> output() throws Exception {
    Path dir = tmp.resolve("out");
    List<String> lines = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.list(dir)) {
        for (Path f :
            s.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList()) {
          lines.addAll(Files.readAllLines(f));
        }
      }
    }
    return lines;
  }
}
