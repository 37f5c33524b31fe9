package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.runtime.PipelineOptions;
import io.tributary.core.runtime.PipelineState;
import io.tributary.core.sources.QueueSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch whose read makes no progress (a source blocked in a read, as an open of a FIFO would
 * block) shows as stalled in the status and the gauge after {@code stall-timeout}, and no longer
 * once it moves again.
 */
class StallDetectionTest {
  @TempDir Path tmp;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final QueueSource queue = new QueueSource(false);
  private final CountDownLatch release = new CountDownLatch(1);
  private final CountDownLatch blocked = new CountDownLatch(1);
  private final BatchRetryPipelineTest.FlakySink sink = new BatchRetryPipelineTest.FlakySink();
  private PipelineEngine engine;

  @AfterEach
  void stop() {
    release.countDown();
    if (engine != null) {
      engine.stop(false);
    }
  }

  private void start(String stallTimeout) {
    io.tributary.core.api.DirectSource source =
        new io.tributary.core.api.DirectSource() {
          @Override
          public void open(io.tributary.core.api.SourceContext context) throws Exception {
            queue.open(context);
          }

          @Override
          public List<io.tributary.core.api.PartitionInfo> partitions() throws Exception {
            return queue.partitions();
          }

          @Override
          public CloseableIterator<Record> read(OffsetRange range) throws Exception {
            blocked.countDown();
            if (!release.await(30, TimeUnit.SECONDS)) {
              throw new IllegalStateException("never released");
            }
            return queue.read(range);
          }

          @Override
          public void onBatchCommitted(long batchId, List<OffsetRange> ranges) throws Exception {
            queue.onBatchCommitted(batchId, ranges);
          }

          @Override
          public void close() throws Exception {
            queue.close();
          }
        };
    engine =
        new PipelineEngine(
            "stall-test",
            PipelineOptions.from(Map.of("batch-interval", "20ms", "stall-timeout", stallTimeout)),
            new LocalCheckpointStorage(tmp.resolve("cp")),
            "queue",
            source,
            List.of(),
            Map.of("out", sink),
            registry,
            "fp",
            null);
    engine.start();
  }

  private double gauge() {
    return registry.get("tributary.batch.stalled.seconds").gauge().value();
  }

  @Test
  void aBatchBlockedInAReadShowsAsStalledUntilItMovesAgain() throws Exception {
    queue.pushStrings("a");
    start("300ms");
    assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(10)).until(() -> engine.status().stalled());
    assertThat(engine.status().state()).isEqualTo(PipelineState.RUNNING);
    assertThat(engine.status().stalledMillis()).isGreaterThanOrEqualTo(300);
    assertThat(gauge()).isGreaterThanOrEqualTo(0.3);

    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.committed.contains("0:a"));
    await().atMost(Duration.ofSeconds(10)).until(() -> !engine.status().stalled());
    assertThat(gauge()).isZero();
  }

  @Test
  void zeroTurnsTheDetectionOff() throws Exception {
    queue.pushStrings("a");
    start("0s");
    assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
    // the only way to see that nothing is reported is to let time pass: wait on the engine's
    // own termination with a bound instead of sleeping
    assertThat(engine.awaitTermination(Duration.ofMillis(500))).isFalse();
    assertThat(engine.status().stalled()).isFalse();
    assertThat(gauge()).isZero();
  }
}
