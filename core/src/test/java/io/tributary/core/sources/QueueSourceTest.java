package io.tributary.core.sources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import io.tributary.core.runtime.Pipeline;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-memory replayable test source. */
class QueueSourceTest {
  @TempDir Path tmp;

  private static final SourceContext CONTEXT =
      new SourceContext() {
        private final MeterRegistry registry = new SimpleMeterRegistry();

        @Override
        public String pipelineId() {
          return "p";
        }

        @Override
        public String sourceName() {
          return "q";
        }

        @Override
        public MeterRegistry meterRegistry() {
          return registry;
        }
      };

  private static List<String> read(QueueSource q, OffsetRange r) {
    List<String> out = new ArrayList<>();
    try (CloseableIterator<Record> it = q.read(r)) {
      it.forEachRemaining(rec -> out.add(rec.valueAsString()));
    }
    return out;
  }

  @Test
  void oneBatchPerIntervalReleasesOnePushedBatchPerPlanningCall() {
    QueueSource q = new QueueSource(true);
    q.open(CONTEXT);
    assertThat(q.partitions()).containsExactly(PartitionInfo.open(QueueSource.PARTITION, 0, 0));
    q.pushStrings("a", "b");
    q.pushStrings("c");
    q.pushStrings("d", "e", "f");
    assertThat(q.partitions().get(0).endPosition().toLong()).isEqualTo(2);
    assertThat(q.partitions().get(0).endPosition().toLong()).isEqualTo(3);
    assertThat(q.partitions().get(0).endPosition().toLong()).isEqualTo(6);
    assertThat(q.partitions().get(0).endPosition().toLong()).isEqualTo(6);
  }

  @Test
  void allAtOnceReleasesEverythingPushed() {
    QueueSource q = new QueueSource(false);
    q.pushStrings("a", "b");
    q.pushStrings("c");
    assertThat(q.partitions().get(0).endPosition().toLong()).isEqualTo(3);
  }

  @Test
  void readReturnsExactlyTheRangeWithPositionsAndReplaysIt() {
    QueueSource q = new QueueSource(false);
    q.open(CONTEXT);
    q.pushStrings("a", "b", "c", "d");
    OffsetRange r = new OffsetRange(QueueSource.PARTITION, 1, 3);
    assertThat(read(q, r)).containsExactly("b", "c");
    assertThat(read(q, r)).containsExactly("b", "c");
    try (CloseableIterator<Record> it = q.read(r)) {
      assertThat(it.next().position()).isEqualTo(new SourcePosition("q", QueueSource.PARTITION, 1));
    }
    assertThatThrownBy(() -> q.read(new OffsetRange(QueueSource.PARTITION, 2, 9)))
        .isInstanceOf(DataUnavailableException.class)
        .hasMessageContaining("holds 4 records");
  }

  @Test
  void inAPipelineEachBatchTakesOnePushedBatch() throws Exception {
    QueueSource q = new QueueSource(true);
    q.pushStrings("a1", "a2");
    q.pushStrings("b1");
    q.pushStrings("c1", "c2", "c3");
    List<List<String>> batches = new CopyOnWriteArrayList<>();
    Pipeline p =
        Pipeline.builder("queue")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(30))
            .source("q", q)
            .foreachBatch(
                (id, records) -> batches.add(records.stream().map(Record::valueAsString).toList()))
            .build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> batches.size() >= 3);
    } finally {
      p.stopGracefully();
    }
    assertThat(batches)
        .containsExactly(List.of("a1", "a2"), List.of("b1"), List.of("c1", "c2", "c3"));
  }
}
