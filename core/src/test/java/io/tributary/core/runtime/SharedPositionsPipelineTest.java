package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.CarriesSourcePositions;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import io.tributary.core.api.Record;
import io.tributary.core.api.ReportsTimeLag;
import io.tributary.core.api.SharedPositions;
import io.tributary.core.api.SharedPositionsSource;
import io.tributary.core.api.SharedPositionsStore;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.TransactionalSink;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime's wiring of {@link SharedPositions}: positions a leased source's other instances read
 * back from the carrying sink (the {@code kinesis-kcl} source with the {@code kafka} sink), and the
 * time lag of {@link ReportsTimeLag} in the partition status.
 */
class SharedPositionsPipelineTest {
  @TempDir Path tmp;

  /** A leased source: positions per partition; the store must be set before it opens. */
  static final class LeasedSource extends ContractV2PipelineTest.Partitions
      implements SharedPositionsSource, ReportsTimeLag {
    final boolean requires;
    volatile SharedPositionsStore store;
    volatile boolean storeBeforeOpen;
    final Map<String, Position> readUntil = new ConcurrentHashMap<>();

    LeasedSource(boolean requires) {
      this.requires = requires;
    }

    @Override
    public void open(SourceContext context) {
      storeBeforeOpen = store != null;
    }

    @Override
    public io.tributary.core.api.CloseableIterator<Record> read(OffsetRange range)
        throws Exception {
      readUntil.put(range.partition(), range.until());
      return super.read(range);
    }

    @Override
    public boolean requiresCarrier() {
      return requires;
    }

    @Override
    public void sharedPositionsStore(SharedPositionsStore store) {
      this.store = store;
    }

    @Override
    public SharedPositions transactionalPositions(long batchId) {
      return new SharedPositions("test/app", readUntil);
    }

    @Override
    public Map<String, Long> millisBehindLatest() {
      return Map.of("a", 1234L, "leased-not-planned", -1L);
    }
  }

  /** Keeps the last carried position of each partition, readable by "any instance". */
  static final class StoringSink extends ContractV2PipelineTest.ChunkSink
      implements TransactionalSink, CarriesSourcePositions, SharedPositionsStore {
    final Map<String, Map<String, Position>> store = new ConcurrentHashMap<>();

    @Override
    public boolean canCarry(Class<?> positionsType) {
      return positionsType == SharedPositions.class;
    }

    @Override
    public Map<String, Position> committedPositions(String scope) {
      return new TreeMap<>(store.getOrDefault(scope, Map.of()));
    }

    @Override
    public BatchWriter begin(SinkBatch batch) {
      BatchWriter inner = super.begin(batch);
      return new BatchWriter() {
        @Override
        public void write(List<Record> chunk) throws Exception {
          inner.write(chunk);
        }

        @Override
        public void commit() throws Exception {
          batch
              .transactionalPositions(SharedPositions.class)
              .ifPresent(
                  p ->
                      store
                          .computeIfAbsent(p.scope(), k -> new ConcurrentHashMap<>())
                          .putAll(p.positions()));
          inner.commit();
        }

        @Override
        public void close() throws Exception {
          inner.close();
        }
      };
    }

    @Override
    public OptionalLong lastCommittedBatch() {
      return OptionalLong.empty();
    }

    @Override
    public io.tributary.core.api.Guarantee guarantee() {
      return io.tributary.core.api.Guarantee.EXACTLY_ONCE_TRANSACTIONAL;
    }
  }

  private Pipeline.Builder builder(String id) {
    return Pipeline.builder(id).checkpointDir(tmp.resolve(id)).batchInterval(Duration.ofMillis(20));
  }

  @Test
  void theOnlySinkCarriesSharedPositionsAndTheSourceGetsItsStoreBeforeItOpens() throws Exception {
    LeasedSource src = new LeasedSource(true);
    src.ends.put("a", 5L);
    StoringSink sink = new StoringSink();
    Pipeline p = builder("shared").source("s", src).sink("out", sink).build();
    p.start();
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> sink.committedPositions("test/app").containsKey("a"));
      assertThat(src.storeBeforeOpen).as("store handed over before open").isTrue();
      assertThat(src.store.committedPositions("test/app")).containsEntry("a", Position.of(5));
      // The time lag of the source is in the partition status, also for a partition it leases
      // but has not planned yet.
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(p.partitions())
                      .anySatisfy(
                          s -> {
                            assertThat(s.partition()).isEqualTo("a");
                            assertThat(s.millisBehindLatest()).hasValue(1234L);
                          })
                      .anySatisfy(
                          s -> {
                            assertThat(s.partition()).isEqualTo("leased-not-planned");
                            assertThat(s.millisBehindLatest()).hasValue(-1L);
                          }));
    } finally {
      p.stopGracefully();
    }
  }

  @Test
  void withTwoSinksNoStoreIsHandedOverAndARequiringSourceIsRefused() {
    LeasedSource relaxed = new LeasedSource(false);
    relaxed.ends.put("a", 5L);
    StoringSink tx = new StoringSink();
    Pipeline p =
        builder("two")
            .source("s", relaxed)
            .sink("tx", tx)
            .sink("files", new ContractV2PipelineTest.ChunkSink())
            .build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> tx.committed.containsKey(0L));
    } finally {
      p.stopGracefully();
    }
    assertThat(relaxed.store).isNull();
    assertThat(tx.store).isEmpty();

    LeasedSource strict = new LeasedSource(true);
    strict.ends.put("a", 5L);
    Pipeline refused =
        builder("refused")
            .source("s", strict)
            .sink("files", new ContractV2PipelineTest.ChunkSink())
            .build();
    assertThatThrownBy(refused::start)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink files cannot carry them")
        .hasMessageContaining("expected: exactly one sink that carries SharedPositions");
    assertThat(strict.store).isNull();
  }
}
