package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.AtLeastOnceSink;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.SourceContext;
import io.tributary.core.sources.QueueSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up: the sinks open while a direct source opens; a failure of either fails the start. */
class PipelineStartTest {
  @TempDir Path tmp;

  /** A direct source over a {@link QueueSource} that notes where and whether it was opened. */
  private static final class NotingSource implements DirectSource {
    final QueueSource q = new QueueSource(false);
    final CountDownLatch sinkOpening;
    volatile String openedOn;
    volatile boolean closed;

    NotingSource(CountDownLatch sinkOpening) {
      this.sinkOpening = sinkOpening;
    }

    @Override
    public void open(SourceContext context) throws Exception {
      openedOn = Thread.currentThread().getName();
      // Opened sequentially, the sink would only start opening after this returned: waiting here
      // for the sink to be opening proves both happen at once.
      sinkOpening.await();
      q.open(context);
    }

    @Override
    public List<PartitionInfo> partitions() {
      return q.partitions();
    }

    @Override
    public CloseableIterator<Record> read(OffsetRange range) {
      return q.read(range);
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static final class NotingSink implements AtLeastOnceSink {
    final CountDownLatch opening;
    final RuntimeException openFailure;
    final List<String> written = new CopyOnWriteArrayList<>();
    volatile String openedOn;

    NotingSink(CountDownLatch opening, RuntimeException openFailure) {
      this.opening = opening;
      this.openFailure = openFailure;
    }

    @Override
    public void open(SinkContext context) {
      openedOn = Thread.currentThread().getName();
      opening.countDown();
      if (openFailure != null) {
        throw openFailure;
      }
    }

    @Override
    public void write(long batchId, List<Record> records) {
      records.forEach(r -> written.add(r.valueAsString()));
    }

    @Override
    public void close() {}
  }

  @Test
  void sinksOpenOnTheirOwnThreadWhileTheDirectSourceOpens() throws Exception {
    CountDownLatch sinkOpening = new CountDownLatch(1);
    NotingSource source = new NotingSource(sinkOpening);
    source.q.pushStrings("a", "b");
    NotingSink sink = new NotingSink(sinkOpening, null);
    Pipeline p =
        Pipeline.builder("start")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(20))
            .source("in", source)
            .sink("out", sink)
            .build();
    p.start();
    try {
      assertThat(sink.openedOn).isEqualTo("tributary-start-sink-open-0");
      assertThat(source.openedOn).isNotEqualTo(sink.openedOn);
      await().atMost(Duration.ofSeconds(10)).until(() -> sink.written.size() == 2);
      assertThat(sink.written).containsExactly("a", "b");
    } finally {
      p.stopGracefully();
    }
  }

  @Test
  void aSinkThatCannotOpenFailsTheStartAndTheOpenedSourceIsClosed() {
    CountDownLatch sinkOpening = new CountDownLatch(1);
    NotingSource source = new NotingSource(sinkOpening);
    NotingSink sink =
        new NotingSink(sinkOpening, new IllegalStateException("no such topic: out-topic"));
    Pipeline p =
        Pipeline.builder("start-fails")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(20))
            .source("in", source)
            .sink("out", sink)
            .build();
    assertThatThrownBy(p::start).hasStackTraceContaining("no such topic: out-topic");
    assertThat(source.closed).isTrue();
    assertThat(p.status().state()).isEqualTo(PipelineState.FAILED);
  }
}
