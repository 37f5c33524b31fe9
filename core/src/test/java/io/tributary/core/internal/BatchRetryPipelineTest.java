package io.tributary.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.TransactionalSink;
import io.tributary.core.api.TributaryException;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.runtime.PipelineOptions;
import io.tributary.core.runtime.PipelineState;
import io.tributary.core.sources.QueueSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine retries retriable errors of the batch path with the same plan, on a manual clock
 * (backoff waits advance the clock instead of sleeping).
 */
class BatchRetryPipelineTest {
  @TempDir Path tmp;

  private final AtomicLong nanos = new AtomicLong();
  private final List<Long> sleeps = new CopyOnWriteArrayList<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final QueueSource queue = new QueueSource(false);
  private final FlakySource source = new FlakySource(queue);
  private final FlakySink sink = new FlakySink();
  private PipelineEngine engine;

  @AfterEach
  void stop() {
    if (engine != null) {
      engine.stop(false);
    }
  }

  private PipelineEngine start(int maxAttempts) {
    PipelineOptions options = PipelineOptions.from(Map.of("batch-interval", "20ms"));
    engine =
        new PipelineEngine(
            "retry-test",
            options,
            new LocalCheckpointStorage(tmp.resolve("cp")),
            "queue",
            source,
            List.of(),
            Map.of("out", sink),
            registry,
            "fp",
            null);
    engine.useRetry(
        new BatchRetry(
            "retry-test",
            new BatchRetry.Policy(
                maxAttempts, Duration.ofMillis(100), Duration.ofSeconds(10), Duration.ofMinutes(5)),
            registry,
            nanos::get,
            ms -> {
              sleeps.add(ms);
              nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
            }));
    engine.start();
    return engine;
  }

  private double retries(String phase) {
    var c =
        registry
            .find("tributary.batch.retries")
            .tags("pipeline", "retry-test", "phase", phase)
            .counter();
    return c == null ? 0 : c.count();
  }

  private boolean committed(long batchId) {
    return Files.exists(tmp.resolve("cp").resolve("commits").resolve(Long.toString(batchId)));
  }

  @Test
  void transientFailuresAreRetriedWithTheSamePlanAndTheBatchIsCommittedOnce() throws Exception {
    queue.pushStrings("a", "b", "c");
    source.failPartitions.set(2);
    source.failReads.set(1);
    sink.failWrites.set(3);
    start(10);

    await().atMost(Duration.ofSeconds(10)).until(() -> committed(0));
    assertThat(engine.status().state()).isEqualTo(PipelineState.RUNNING);
    // four write attempts of batch 0, every one with the same records; one of them committed
    assertThat(sink.attempts)
        .hasSize(4)
        .allSatisfy(a -> assertThat(a).isEqualTo(sink.attempts.get(0)));
    assertThat(sink.attempts.get(0)).isEqualTo("0:a,b,c");
    assertThat(sink.committed).containsExactly("0:a,b,c");
    assertThat(retries("partitions")).isEqualTo(2.0);
    assertThat(retries("read")).isEqualTo(1.0);
    assertThat(retries("sink-write")).isEqualTo(3.0);
    // listing: 2 retries; then one batch attempt (read + sink writes) retried 4 times, its backoff
    // doubling across
    // the read failure and the three sink failures
    assertThat(sleeps).containsExactly(100L, 200L, 100L, 200L, 400L, 800L);

    queue.pushStrings("d");
    await().atMost(Duration.ofSeconds(10)).until(() -> committed(1));
    assertThat(sink.committed).containsExactly("0:a,b,c", "1:d");
    assertThat(engine.status().lastCommittedBatch()).isEqualTo(1);
  }

  @Test
  void exhaustedAttemptsFailThePipelineNamingAttemptsAndTime() throws Exception {
    queue.pushStrings("a");
    sink.failWrites.set(Integer.MAX_VALUE);
    start(4);

    assertThat(engine.awaitTermination(Duration.ofSeconds(10))).isTrue();
    assertThat(engine.status().state()).isEqualTo(PipelineState.FAILED);
    assertThat(engine.failure())
        .hasMessageContaining("Sink out of pipeline retry-test failed to write batch 0")
        .hasMessageContaining("gave up on sink-write after 4 attempts over 700 ms")
        .hasRootCauseInstanceOf(RetriableException.class);
    assertThat(sink.attempts).containsExactly("0:a", "0:a", "0:a", "0:a");
    assertThat(sink.committed).isEmpty();
    assertThat(retries("sink-write")).isEqualTo(3.0);
    assertThat(committed(0))
        .isFalse(); // offsets/0 stays: the batch is replayed with the same data on restart
    assertThat(tmp.resolve("cp").resolve("offsets").resolve("0")).exists();
  }

  @Test
  void nonRetriableErrorFailsAtOnce() throws Exception {
    queue.pushStrings("a");
    sink.fatal = true;
    start(10);

    assertThat(engine.awaitTermination(Duration.ofSeconds(10))).isTrue();
    assertThat(engine.status().state()).isEqualTo(PipelineState.FAILED);
    assertThat(engine.failure()).hasMessageContaining("fenced").hasMessageNotContaining("gave up");
    assertThat(sink.attempts).hasSize(1);
    assertThat(sleeps).isEmpty();
    assertThat(registry.find("tributary.batch.retries").counters()).isEmpty();
  }

  @Test
  void lastCommittedBatchIsRetriedOnStart() throws Exception {
    sink.failLastCommitted.set(2);
    queue.pushStrings("a");
    start(10);

    await().atMost(Duration.ofSeconds(10)).until(() -> committed(0));
    assertThat(retries("sink-last-committed")).isEqualTo(2.0);
    assertThat(sink.committed).containsExactly("0:a");
  }

  /** A QueueSource whose listing and reads fail with a retriable error as often as told. */
  static final class FlakySource implements DirectSource {
    final DirectSource delegate;
    final AtomicInteger failPartitions = new AtomicInteger();
    final AtomicInteger failReads = new AtomicInteger();

    FlakySource(DirectSource delegate) {
      this.delegate = delegate;
    }

    @Override
    public void open(SourceContext context) throws Exception {
      delegate.open(context);
    }

    @Override
    public List<PartitionInfo> partitions() throws Exception {
      if (failPartitions.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw new RetriableException("broker not available");
      }
      return delegate.partitions();
    }

    @Override
    public CloseableIterator<Record> read(OffsetRange range) throws Exception {
      if (failReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw new RetriableException("connection reset");
      }
      return delegate.read(range);
    }

    @Override
    public void onBatchCommitted(long batchId, List<OffsetRange> ranges) throws Exception {
      delegate.onBatchCommitted(batchId, ranges);
    }

    @Override
    public void close() throws Exception {
      delegate.close();
    }
  }

  /**
   * Records every write attempt as "batch:values"; fails with a retriable (or a fatal) error as
   * often as told.
   */
  static final class FlakySink implements TransactionalSink {
    final List<String> attempts = new CopyOnWriteArrayList<>();
    final List<String> committed = new CopyOnWriteArrayList<>();
    final AtomicInteger failWrites = new AtomicInteger();
    final AtomicInteger failLastCommitted = new AtomicInteger();
    volatile boolean fatal;
    private long last = -1;

    @Override
    public void open(SinkContext context) {}

    @Override
    public OptionalLong lastCommittedBatch() {
      if (failLastCommitted.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw new RetriableException("coordinator not available");
      }
      return last < 0 ? OptionalLong.empty() : OptionalLong.of(last);
    }

    @Override
    public void write(long batchId, List<Record> records) {
      List<String> values = new ArrayList<>();
      records.forEach(
          r -> values.add(new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)));
      String attempt = batchId + ":" + String.join(",", values);
      attempts.add(attempt);
      if (fatal) {
        throw new TributaryException("producer fenced");
      }
      if (failWrites.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw new RetriableException("transaction timed out");
      }
      committed.add(attempt);
      last = batchId;
    }

    @Override
    public void close() {}
  }
}
