package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Direct sources through a pipeline: resharding (closed parent, child) and per-partition admission.
 */
class DirectSourcePipelineTest {
  @TempDir Path tmp;

  /**
   * Partitions whose records are {@code <partition>-<offset>}; a partition may be closed and have
   * parents.
   */
  static final class ShardSource implements DirectSource {
    final Map<String, PartitionInfo> parts = new ConcurrentHashMap<>();
    final List<OffsetRange> committed = new CopyOnWriteArrayList<>();

    void put(PartitionInfo p) {
      parts.put(p.id(), p);
    }

    @Override
    public void open(SourceContext context) {}

    @Override
    public List<PartitionInfo> partitions() {
      return parts.values().stream().sorted((a, b) -> a.id().compareTo(b.id())).toList();
    }

    @Override
    public CloseableIterator<Record> read(OffsetRange range) {
      List<Record> out = new ArrayList<>();
      for (long o = range.fromOffset(); o < range.untilOffset(); o++) {
        out.add(
            Record.ofString(range.partition() + "-" + o)
                .withPosition(new SourcePosition("shards", range.partition(), o)));
      }
      return CloseableIterator.of(out);
    }

    @Override
    public void onBatchCommitted(long batchId, List<OffsetRange> ranges) {
      committed.addAll(ranges);
    }

    @Override
    public void close() {}
  }

  @Test
  void closedParentIsReadOnceThenItsChildAndNothingTwice() {
    ShardSource src = new ShardSource();
    src.put(new PartitionInfo("a-parent", 0, 5, true, List.of()));
    src.put(new PartitionInfo("b-child", 0, 3, false, List.of("a-parent")));
    List<String> values = new CopyOnWriteArrayList<>();
    Pipeline p =
        Pipeline.builder("reshard")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(20))
            .set("direct.max-records-per-partition", 2)
            .source("shards", src)
            .foreachBatch((id, records) -> records.forEach(r -> values.add(r.valueAsString())))
            .build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> values.size() >= 8);
      src.put(new PartitionInfo("b-child", 0, 4, false, List.of("a-parent")));
      await().atMost(Duration.ofSeconds(10)).until(() -> values.size() >= 9);
      // Many more batch intervals: the closed parent, still listed, is never read again.
      await()
          .during(Duration.ofMillis(300))
          .atMost(Duration.ofSeconds(2))
          .until(() -> values.size() == 9);
    } finally {
      p.stopGracefully();
    }
    assertThat(values).doesNotHaveDuplicates().hasSize(9);
    // The child started only after the whole parent was planned.
    int lastParent = values.indexOf("a-parent-4");
    int firstChild = values.indexOf("b-child-0");
    assertThat(lastParent).isLessThan(firstChild);
    assertThat(values.subList(0, 5))
        .containsExactly("a-parent-0", "a-parent-1", "a-parent-2", "a-parent-3", "a-parent-4");
  }

  @Test
  void maxRecordsPerPartitionBoundsEveryBatch() {
    ShardSource src = new ShardSource();
    src.put(PartitionInfo.open("p0", 0, 25));
    src.put(PartitionInfo.open("p1", 100, 110));
    List<Integer> sizes = new CopyOnWriteArrayList<>();
    List<String> values = new CopyOnWriteArrayList<>();
    Pipeline p =
        Pipeline.builder("admission")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(20))
            .set("direct.max-records-per-partition", 4)
            .source("shards", src)
            .foreachBatch(
                (id, records) -> {
                  sizes.add(records.size());
                  records.forEach(r -> values.add(r.valueAsString()));
                })
            .build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> values.size() == 35);
    } finally {
      p.stopGracefully();
    }
    assertThat(sizes).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(8));
    assertThat(values)
        .doesNotHaveDuplicates()
        .contains("p0-0", "p0-24", "p1-100", "p1-109")
        .doesNotContain("p1-99");
    assertThat(src.committed).isNotEmpty();
  }
}
