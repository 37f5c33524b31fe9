package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.IdempotentSink;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkContext;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.runtime.TestSupport.AckingReceiver;
import io.tributary.core.runtime.TestSupport.AckingSource;
import io.tributary.core.runtime.TestSupport.CrashingStorage;
import io.tributary.core.runtime.TestSupport.SimulatedCrash;
import io.tributary.core.sinks.RollingFileSink;
import io.tributary.core.sources.QueueSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The exactly-once protocol under crashes at each step: after {@code offsets/N}, during the sink
 * write, after the sink wrote but before {@code commits/N}, and after {@code commits/N}. Each run
 * crashes batch 2 of a first pipeline, then a second pipeline over the same checkpoint, WAL and
 * output directory finishes the job; every record must be in the output exactly once.
 */
class CheckpointRecoveryTest {
  enum CrashPoint {
    AFTER_OFFSETS,
    DURING_SINK_WRITE,
    AFTER_SINK_BEFORE_COMMIT,
    AFTER_COMMIT
  }

  @TempDir Path tmp;

  /** A file sink that publishes only the first half of batch {@code crashBatch}, then crashes. */
  static final class HalfWritingSink implements IdempotentSink {
    final RollingFileSink delegate;
    final long crashBatch;

    HalfWritingSink(RollingFileSink delegate, long crashBatch) {
      this.delegate = delegate;
      this.crashBatch = crashBatch;
    }

    @Override
    public void open(SinkContext context) throws Exception {
      delegate.open(context);
    }

    @Override
    public void write(long batchId, List<Record> records) throws Exception {
      if (batchId == crashBatch) {
        delegate.write(batchId, records.subList(0, records.size() / 2));
        throw new SimulatedCrash("during the sink write of batch " + batchId);
      }
      delegate.write(batchId, records);
    }

    @Override
    public void close() throws Exception {
      delegate.close();
    }
  }

  private Pipeline.Builder base(String id, Path out, CrashPoint crash) {
    Path ckpt = tmp.resolve("checkpoint");
    RollingFileSink files = RollingFileSink.builder(out).maxFileBytes(2_000).fsync(false).build();
    Pipeline.Builder b =
        Pipeline.builder(id)
            .batchInterval(Duration.ofMillis(50))
            .set("block-interval", "20ms")
            .set("receiver.max-rate", 5_000)
            .walDir(ckpt.resolve("wal"));
    if (crash == null) {
      return b.checkpoint(new LocalCheckpointStorage(ckpt)).sink("files", files);
    }
    switch (crash) {
      case AFTER_OFFSETS ->
          b.checkpoint(new CrashingStorage(ckpt, "offsets/2", false)).sink("files", files);
      case DURING_SINK_WRITE ->
          b.checkpoint(new LocalCheckpointStorage(ckpt))
              .sink("files", new HalfWritingSink(files, 2));
      case AFTER_SINK_BEFORE_COMMIT ->
          b.checkpoint(new CrashingStorage(ckpt, "commits/2", true)).sink("files", files);
      case AFTER_COMMIT ->
          b.checkpoint(new CrashingStorage(ckpt, "commits/2", false)).sink("files", files);
    }
    return b;
  }

  @ParameterizedTest
  @EnumSource(CrashPoint.class)
  void receiverWithWalGivesEveryAcknowledgedRecordExactlyOnce(CrashPoint crash) throws Exception {
    Path out = tmp.resolve("out");
    AckingSource src = new AckingSource(5_000);

    Pipeline first = base("recv", out, crash).source("in", new AckingReceiver(src, 50)).build();
    first.start();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> first.status().state() == PipelineState.FAILED);
    assertThat(first.failure())
        .get()
        .satisfies(f -> assertThat(causes(f)).anyMatch(c -> c instanceof SimulatedCrash));
    int ackedBeforeCrash = src.acked.get();
    assertThat(ackedBeforeCrash).isLessThan(src.total);

    Pipeline second = base("recv", out, null).source("in", new AckingReceiver(src, 50)).build();
    second.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> src.acked.get() == src.total);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> TestSupport.outputLines(out).size() >= src.total);
    second.stopGracefully();
    assertThat(second.status().state()).isEqualTo(PipelineState.STOPPED);

    List<String> expected = IntStream.range(0, src.total).mapToObj(AckingSource::line).toList();
    assertThat(TestSupport.outputLines(out)).containsExactlyInAnyOrderElementsOf(expected);
  }

  @ParameterizedTest
  @EnumSource(CrashPoint.class)
  void directSourceReplaysTheSamePlan(CrashPoint crash) throws Exception {
    Path out = tmp.resolve("out");
    QueueSource queue = new QueueSource(true);
    List<String> expected = new ArrayList<>();
    for (int b = 0; b < 6; b++) {
      String[] lines = new String[100];
      for (int i = 0; i < 100; i++) {
        lines[i] = "b" + b + "-" + i;
        expected.add(lines[i]);
      }
      queue.pushStrings(lines);
    }
    Pipeline first = base("direct", out, crash).source("q", queue).build();
    first.start();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> first.status().state() == PipelineState.FAILED);

    Pipeline second = base("direct", out, null).source("q", queue).build();
    second.start();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> TestSupport.outputLines(out).size() >= expected.size());
    second.stopGracefully();
    assertThat(TestSupport.outputLines(out)).containsExactlyInAnyOrderElementsOf(expected);
    // The replayed batch 2 kept its plan: one pushed batch, the third one.
    assertThat(
            Files.readAllLines(out.resolve(RollingFileSink.builder(out).build().fileName(2, 0)))
                .get(0))
        .isEqualTo("b2-0");
  }

  @Test
  void refusesCheckpointOfAnotherPipelineOrConfiguration() throws Exception {
    Path ckpt = tmp.resolve("c");
    Pipeline a =
        Pipeline.builder("a")
            .checkpointDir(ckpt)
            .configFingerprint("f1")
            .source("q", new QueueSource(false))
            .foreachBatch((id, r) -> {})
            .build();
    a.start();
    a.stopGracefully();
    Pipeline b =
        Pipeline.builder("b")
            .checkpointDir(ckpt)
            .configFingerprint("f1")
            .source("q", new QueueSource(false))
            .foreachBatch((id, r) -> {})
            .build();
    org.assertj.core.api.Assertions.assertThatThrownBy(b::start)
        .isInstanceOf(io.tributary.core.api.IncompatibleCheckpointException.class)
        .hasMessageContaining("belongs to pipeline 'a'");
    Pipeline c =
        Pipeline.builder("a")
            .checkpointDir(ckpt)
            .configFingerprint("f2")
            .source("q", new QueueSource(false))
            .foreachBatch((id, r) -> {})
            .build();
    org.assertj.core.api.Assertions.assertThatThrownBy(c::start)
        .isInstanceOf(io.tributary.core.api.IncompatibleCheckpointException.class)
        .hasMessageContaining("another source/sink configuration");
  }

  private static List<Throwable> causes(Throwable t) {
    List<Throwable> out = new ArrayList<>();
    for (Throwable c = t; c != null; c = c.getCause()) {
      out.add(c);
    }
    return out;
  }
}
