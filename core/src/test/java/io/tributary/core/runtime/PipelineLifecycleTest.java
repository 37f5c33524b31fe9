package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Record;
import io.tributary.core.api.TributaryException;
import io.tributary.core.runtime.ReceiverSupervisorPipelineTest.ScriptedReceiver;
import io.tributary.core.sources.QueueSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pipeline lifecycle, transforms and failure handling. */
class PipelineLifecycleTest {
  @TempDir Path tmp;

  @Test
  void transformsRunInOrderAndStatusCountsRecords() throws Exception {
    QueueSource q = new QueueSource(false);
    q.pushStrings("a", "bb", "", "ccc");
    List<String> out = new CopyOnWriteArrayList<>();
    Pipeline p =
        Pipeline.builder("transforms")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(30))
            .source("q", q)
            .filter(r -> r.value().length > 0)
            .map(r -> r.withValue(r.valueAsString().toUpperCase().getBytes(StandardCharsets.UTF_8)))
            .flatMap(
                r ->
                    List.of(
                        r, r.withValue((r.valueAsString() + "!").getBytes(StandardCharsets.UTF_8))))
            .foreachBatch((id, records) -> records.forEach(r -> out.add(r.valueAsString())))
            .build();
    p.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> out.size() == 6);
    p.stopGracefully();
    assertThat(out).containsExactly("A", "A!", "BB", "BB!", "CCC", "CCC!");
    PipelineStatus s = p.status();
    assertThat(s.state()).isEqualTo(PipelineState.STOPPED);
    assertThat(s.recordsIn()).isEqualTo(4);
    assertThat(s.recordsOut()).isEqualTo(6);
    assertThat(s.lastCommittedBatch()).isEqualTo(0);
    assertThat(p.failure()).isEmpty();
  }

  @Test
  void sinkFailureFailsThePipelineWithContextAndStopsTheReceiver() throws Exception {
    ScriptedReceiver rx = new ScriptedReceiver(0);
    Pipeline p =
        Pipeline.builder("failing")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(30))
            .set("block-interval", "10ms")
            .source("rx", rx)
            .foreachBatch(
                (id, records) -> {
                  throw new IOException("disk full");
                })
            .build();
    p.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> rx.startNanos.size() == 1);
    rx.putReliably(List.of(Record.ofString("x")));
    assertThat(p.awaitTermination(Duration.ofSeconds(10))).isTrue();

    assertThat(p.status().state()).isEqualTo(PipelineState.FAILED);
    assertThat(p.status().failure()).contains("disk full");
    assertThat(p.failure())
        .get()
        .isInstanceOf(TributaryException.class)
        .satisfies(
            f ->
                assertThat(f.getMessage())
                    .contains("Sink foreachBatch-0 of pipeline failing failed to write batch 0")
                    .contains("replayed"))
        .satisfies(f -> assertThat(f.getCause()).isInstanceOf(IOException.class));
    assertThat(p.status().lastPlannedBatch()).isEqualTo(0);
    assertThat(p.status().lastCommittedBatch()).isEqualTo(-1);
    // The receiver was told to release its resources.
    assertThat(rx.events).containsExactly("start", "stop");
  }

  @Test
  void startsOnlyOnce() {
    Pipeline p =
        Pipeline.builder("once")
            .checkpointDir(tmp)
            .source("q", new QueueSource(false))
            .foreachBatch((i, r) -> {})
            .build();
    p.start();
    try {
      assertThatThrownBy(p::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("starts once");
    } finally {
      p.stopGracefully();
    }
    assertThatThrownBy(p::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void stopBeforeStartIsAllowed() throws Exception {
    Pipeline p =
        Pipeline.builder("never")
            .checkpointDir(tmp)
            .source("q", new QueueSource(false))
            .foreachBatch((i, r) -> {})
            .build();
    p.stopGracefully();
    assertThat(p.status().state()).isEqualTo(PipelineState.STOPPED);
    assertThat(p.awaitTermination(Duration.ZERO)).isTrue();
  }

  @Test
  void idleIntervalsPlanNoBatches() throws Exception {
    QueueSource q = new QueueSource(false);
    List<String> batches = new CopyOnWriteArrayList<>();
    Pipeline p =
        Pipeline.builder("idle")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(20))
            .source("q", q)
            .foreachBatch(
                (id, records) ->
                    batches.add(id + ":" + records.stream().map(Record::valueAsString).toList()))
            .build();
    p.start();
    // Batch 0 records the newly discovered (still empty) partition's position; then nothing while
    // idle.
    await().atMost(Duration.ofSeconds(10)).until(() -> p.status().lastCommittedBatch() == 0);
    await()
        .during(Duration.ofMillis(200))
        .atMost(Duration.ofSeconds(2))
        .until(() -> p.status().lastPlannedBatch() == 0);
    q.pushStrings("one");
    await().atMost(Duration.ofSeconds(10)).until(() -> batches.size() == 2);
    p.stopGracefully();
    assertThat(batches).containsExactly("0:[]", "1:[one]");
  }
}
