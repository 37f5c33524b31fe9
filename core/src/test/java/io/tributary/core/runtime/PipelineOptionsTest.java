package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.ConfigException;
import io.tributary.core.sources.QueueSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pipeline settings and the builder's validation. */
class PipelineOptionsTest {
  @TempDir Path tmp;

  @Test
  void defaultsFollowSparkStreaming() {
    PipelineOptions o = PipelineOptions.defaults();
    assertThat(o.get(PipelineOptions.BLOCK_INTERVAL)).isEqualTo(Duration.ofMillis(200));
    assertThat(o.get(PipelineOptions.RECEIVER_RESTART_DELAY)).isEqualTo(Duration.ofSeconds(2));
    assertThat(o.get(PipelineOptions.BACKPRESSURE_MIN_RATE)).isEqualTo(100L);
    assertThat(o.gracefulStopTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.explicitSettings()).isEmpty();
  }

  @Test
  void parsesDurationsSizesAndEnums() {
    PipelineOptions o =
        PipelineOptions.from(
            Map.of(
                "batch-interval",
                "500ms",
                "receiver.buffer-size",
                "16mb",
                "wal.fsync",
                "interval",
                "graceful-stop-timeout",
                "5m"));
    assertThat(o.get(PipelineOptions.BATCH_INTERVAL)).isEqualTo(Duration.ofMillis(500));
    assertThat(o.get(PipelineOptions.RECEIVER_BUFFER_BYTES)).isEqualTo(16L * 1024 * 1024);
    assertThat(o.get(PipelineOptions.WAL_FSYNC)).isEqualTo(FsyncPolicy.INTERVAL);
    assertThat(o.gracefulStopTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(PipelineOptions.from(Map.of("batch-interval", "2s")).gracefulStopTimeout())
        .isEqualTo(Duration.ofSeconds(20));
  }

  @Test
  void badValuesListEveryProblem() {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("batch-interval", "0ms");
    raw.put("receiver.buffer-size", "12"); // below the 1 KB minimum
    raw.put("wal.fsync", "often");
    raw.put("backpressure.enabled", "perhaps");
    raw.put("batch-intervall", "1s");
    assertThatThrownBy(() -> PipelineOptions.from(raw))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .hasSize(5)
                    .anySatisfy(
                        p -> assertThat(p).startsWith("Invalid value 0ms for batch-interval"))
                    .anySatisfy(
                        p -> assertThat(p).startsWith("Invalid value 12 for receiver.buffer-size"))
                    .anySatisfy(p -> assertThat(p).startsWith("Invalid value often for wal.fsync"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith("Invalid value perhaps for backpressure.enabled"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith("Unknown key batch-intervall")
                                .contains("batch-interval")));
  }

  @Test
  void buildWithoutSourceSinkOrCheckpointListsAllThree() {
    assertThatThrownBy(() -> Pipeline.builder("empty").build())
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .hasSize(3)
                    .anySatisfy(p -> assertThat(p).contains("has no source"))
                    .anySatisfy(p -> assertThat(p).contains("has no sink"))
                    .anySatisfy(p -> assertThat(p).contains("has no checkpoint")));
  }

  @Test
  void buildListsBadIdAndBadSettingsTogetherWithMissingParts() {
    assertThatThrownBy(
            () -> Pipeline.builder("bad id").set("block-interval", "-1s").set("nope", 1).build())
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .hasSize(6)
                    .anySatisfy(
                        p -> assertThat(p).startsWith("Invalid value bad id for pipeline id"))
                    .anySatisfy(
                        p -> assertThat(p).startsWith("Invalid value -1s for block-interval"))
                    .anySatisfy(p -> assertThat(p).startsWith("Unknown key nope")));
  }

  @Test
  void settingsOnTheBuilderCombineWithOptions() {
    PipelineOptions base =
        PipelineOptions.from(
            Map.of("batch-interval", "2s", "receiver.buffer-size", "8kb", "wal.fsync", "never"));
    Pipeline p =
        Pipeline.builder("combined")
            .options(base)
            .set("block-interval", "20ms")
            .checkpointDir(tmp)
            .source("q", new QueueSource(false))
            .foreachBatch((id, r) -> {})
            .build();
    assertThat(p.id()).isEqualTo("combined");
    assertThat(p.status().state()).isEqualTo(PipelineState.CREATED);
  }

  @Test
  void duplicateSourceOrSinkNameIsRefusedAtOnce() {
    Pipeline.Builder b =
        Pipeline.builder("dup")
            .source("a", new QueueSource(false))
            .sink("s", new io.tributary.core.sinks.ForeachBatchSink((i, r) -> {}));
    assertThatThrownBy(() -> b.source("b", new QueueSource(false)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already has source a");
    assertThatThrownBy(
            () -> b.sink("s", new io.tributary.core.sinks.ForeachBatchSink((i, r) -> {})))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already has a sink named s");
  }
}
