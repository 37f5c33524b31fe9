package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineState;
import io.tributary.gateway.testing.FailingSinkFactory;
import io.tributary.gateway.testing.SequenceSourceFactory;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway in-process over the test-only {@code test-sequence} source and {@code test-failing}
 * sink (no network): resuming from the checkpoint, one failing pipeline stopping the others, start
 * failures and their exit codes.
 */
class GatewayLifecycleTest {
  @TempDir Path tmp;

  private String seqPipeline(String id, long count, String sinks) {
    return """
          - id: %s
            settings: { batch-interval: 50ms }
            checkpoint: %s
            source: { type: test-sequence, count: %d, prefix: "%s-" }
            sinks:
        %s
        """
        .formatted(id, tmp.resolve("ckpt-" + id), count, id, sinks.indent(6).stripTrailing());
  }

  private String filesSink(String id) {
    return "- { type: files, path: " + tmp.resolve("out-" + id) + " }";
  }

  private GatewayConfig config(String... pipelines) {
    return GatewayConfig.parse(
        new StringReader("pipelines:\n" + String.join("", pipelines)), "test.yaml");
  }

  private Path write(String name, String... pipelines) throws Exception {
    Path f = tmp.resolve(name);
    Files.writeString(f, "pipelines:\n" + String.join("", pipelines));
    return f;
  }

  private List<String> output(String id) throws Exception {
    Path dir = tmp.resolve("out-" + id);
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

  private static void assertExactlyOnce(List<String> lines, String prefix, int count) {
    assertThat(new HashSet<>(lines)).as("distinct lines").hasSize(lines.size());
    assertThat(lines).hasSize(count);
    for (int i = 0; i < count; i++) {
      assertThat(lines).contains(prefix + i);
    }
  }

  @Test
  void resumesFromItsCheckpointWithoutDuplicates() throws Exception {
    try (Gateway gw = new Gateway(config(seqPipeline("a", 1000, filesSink("a"))))) {
      gw.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> output("a").size() == 1000);
    }
    // Same checkpoint, nothing new in the source: nothing is written again.
    try (Gateway gw = new Gateway(config(seqPipeline("a", 1000, filesSink("a"))))) {
      gw.start();
      Pipeline p = gw.pipelines().get(0);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> p.status().state() == PipelineState.RUNNING);
      gw.stop();
      assertThat(p.status().state()).isEqualTo(PipelineState.STOPPED);
    }
    assertExactlyOnce(output("a"), "a-", 1000);
    // The source grew (options may change; the checkpoint is still this pipeline's): only the new
    // records follow.
    try (Gateway gw = new Gateway(config(seqPipeline("a", 1500, filesSink("a"))))) {
      gw.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> output("a").size() >= 1500);
    }
    assertExactlyOnce(output("a"), "a-", 1500);
  }

  @Test
  void theJvmMetricsAreBoundOnceThePipelinesHaveStartedNotBefore() throws Exception {
    try (Gateway gw = new Gateway(config(seqPipeline("m", 10, filesSink("m"))))) {
      assertThat(gw.registry().find("jvm.memory.used").meters())
          .as("nothing of the JVM's management beans on the way to the pipelines' start")
          .isEmpty();
      assertThat(gw.registry().find("process.uptime").meters()).isEmpty();
      gw.start();
      assertThat(gw.pipelines()).singleElement();
      assertThat(gw.registry().find("jvm.memory.used").meters()).isNotEmpty();
      assertThat(gw.registry().find("jvm.threads.live").gauge()).isNotNull();
      assertThat(gw.registry().find("process.uptime").meters()).isNotEmpty();
    }
  }

  @Test
  void aFailingPipelineStopsTheOthersGracefully() throws Exception {
    GatewayConfig cfg =
        GatewayConfig.parse(
            new StringReader(
                "on-pipeline-failure: stop-gateway\npipelines:\n"
                    + seqPipeline("good", 200, filesSink("good"))
                    + seqPipeline("bad", 10, "- { type: test-failing, message: disk on fire }")),
            "test.yaml");
    try (Gateway gw = new Gateway(cfg)) {
      gw.start();
      assertThat(gw.awaitStopOrFailure()).isEqualTo(Gateway.Outcome.FAILED);
      Pipeline good = gw.pipelines().get(0);
      Pipeline bad = gw.pipelines().get(1);
      assertThat(bad.status().state()).isEqualTo(PipelineState.FAILED);
      assertThat(bad.failure()).get().asString().contains("disk on fire");
      assertThat(good.status().state()).isEqualTo(PipelineState.STOPPED);
      assertThat(good.failure()).isEmpty();
    }
  }

  @Test
  void aPipelineThatCannotStartStopsThoseAlreadyStartedAndExitsOne() throws Exception {
    Path notADirectory =
        Files.writeString(tmp.resolve("out-blocked"), "a file where a directory should be");
    GatewayConfig cfg =
        config(
            seqPipeline("first", 5, filesSink("first")),
            seqPipeline("second", 5, "- { type: files, path: " + notADirectory + " }"));
    Gateway gw = new Gateway(cfg);
    assertThatThrownBy(gw::start).hasMessageContaining("second");
    assertThat(gw.pipelines())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.id()).isEqualTo("first");
              assertThat(p.status().state()).isEqualTo(PipelineState.STOPPED);
            });
    gw.close();

    Path file =
        write(
            "blocked.yaml",
            seqPipeline("second", 5, "- { type: files, path: " + notADirectory + " }"));
    assertThat(TributaryCli.execute("run", "--config", file.toString()))
        .isEqualTo(TributaryCli.FAILED);
  }

  @Test
  void aCheckpointWrittenForOtherSinkTypesIsRefusedWithExitCodeThree() throws Exception {
    try (Gateway gw = new Gateway(config(seqPipeline("a", 10, filesSink("a"))))) {
      gw.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> output("a").size() == 10);
    }
    Path changed =
        write("changed.yaml", seqPipeline("a", 10, filesSink("a") + "\n- { type: console }"));
    assertThat(TributaryCli.execute("validate", "--config", changed.toString()))
        .isEqualTo(TributaryCli.OK);
    assertThat(TributaryCli.execute("run", "--config", changed.toString()))
        .isEqualTo(TributaryCli.CHECKPOINT);
    assertExactlyOnce(output("a"), "a-", 10);
  }

  @Test
  void buildsEachSourceAndSinkOnceForValidationAndRun() throws Exception {
    // Unique prefix and message: the factories count constructions JVM-wide by them.
    String id = "built-once-" + System.nanoTime();
    GatewayConfig cfg =
        config(
            seqPipeline(id, 0, "- { type: test-failing, message: " + id + " }\n" + filesSink(id)));
    try (Gateway gw = new Gateway(cfg)) {
      gw.start();
      Pipeline p = gw.pipelines().get(0);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> p.status().state() == PipelineState.RUNNING);
    }
    assertThat(SequenceSourceFactory.CREATED.get(id + "-")).as("sources built").isEqualTo(1);
    assertThat(FailingSinkFactory.CREATED.get(id)).as("sinks built").isEqualTo(1);
  }

  @Test
  void aConfigRunsInOneGatewayOnly() {
    GatewayConfig cfg = config(seqPipeline("once", 0, filesSink("once")));
    new Gateway(cfg).close();
    assertThatThrownBy(() -> new Gateway(cfg))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("load the configuration again");
  }
}
