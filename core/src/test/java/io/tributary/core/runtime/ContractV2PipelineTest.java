package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.CarriesSourcePositions;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.IdempotentSink;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.RangeEndByReading;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import io.tributary.core.api.TransactionalPositionsSource;
import io.tributary.core.api.TransactionalSink;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Contract v2 through a real pipeline: positions beyond 64 bits with range ends fixed by reading,
 * bounded batches streamed to sinks in chunks, parallel range reads, and source positions carried
 * by a sink's transaction.
 */
class ContractV2PipelineTest {
  @TempDir Path tmp;

  private static final BigInteger BASE =
      new BigInteger("49590338271490256608559692538361571095921575989136588898");

  // ----------------------------------------------------------------------------------------- test
  // doubles

  /**
   * A Kinesis-like shard: sparse 128-bit sequence numbers (a gap of 7 between records), no end
   * position to ask for, so range ends are fixed by reading. Records keep arriving.
   */
  static final class SparseShard implements DirectSource, RangeEndByReading {
    final List<BigInteger> seqs = new CopyOnWriteArrayList<>();
    final AtomicInteger prefetches = new AtomicInteger();

    void append(int n) {
      for (int i = 0; i < n; i++) {
        seqs.add(BASE.add(BigInteger.valueOf(7L * seqs.size())));
      }
    }

    @Override
    public void open(SourceContext context) {}

    @Override
    public List<PartitionInfo> partitions() {
      return List.of(PartitionInfo.endUnknown("shard-0", Position.of(BASE), List.of()));
    }

    @Override
    public Position fixRangeEnd(String partition, Position from, long maxRecords, long maxBytes) {
      prefetches.incrementAndGet();
      Position end = from;
      long n = 0;
      for (BigInteger s : seqs) {
        Position p = Position.of(s);
        if (p.compareTo(from) >= 0 && n < maxRecords) {
          end = p.plus(1);
          n++;
        }
      }
      return end;
    }

    @Override
    public CloseableIterator<Record> read(OffsetRange range) {
      List<Record> out = new ArrayList<>();
      for (BigInteger s : seqs) {
        Position p = Position.of(s);
        if (p.compareTo(range.from()) >= 0 && p.isBefore(range.until())) {
          out.add(
              Record.ofString(s.toString())
                  .withPosition(new SourcePosition("kin", range.partition(), p)));
        }
      }
      return CloseableIterator.of(out);
    }

    @Override
    public void close() {}
  }

  /** Dense partitions {@code <id>-<offset>}; reads may wait on a hook. */
  static class Partitions implements DirectSource {
    final Map<String, Long> ends = new ConcurrentHashMap<>();

    @Override
    public void open(SourceContext context) {}

    @Override
    public List<PartitionInfo> partitions() {
      return ends.entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .map(e -> PartitionInfo.open(e.getKey(), 0, e.getValue()))
          .toList();
    }

    void beforeRead(OffsetRange range) throws Exception {}

    @Override
    public CloseableIterator<Record> read(OffsetRange range) throws Exception {
      beforeRead(range);
      List<Record> out = new ArrayList<>();
      for (long o = range.fromOffset(); o < range.untilOffset(); o++) {
        out.add(
            Record.ofString(range.partition() + "-" + o)
                .withPosition(new SourcePosition("s", range.partition(), o)));
      }
      return CloseableIterator.of(out);
    }

    @Override
    public void close() {}
  }

  /** A streaming idempotent sink that records every chunk and every committed batch. */
  static class ChunkSink implements IdempotentSink {
    final List<List<String>> chunks = new CopyOnWriteArrayList<>();
    final Map<Long, List<String>> committed = new ConcurrentHashMap<>();
    final AtomicBoolean crashOnFirstWrite = new AtomicBoolean();
    final List<SinkBatch> batches = new CopyOnWriteArrayList<>();

    @Override
    public void open(SinkContext context) {}

    @Override
    public void write(long batchId, List<Record> records) throws Exception {
      io.tributary.core.api.Sink.writeAll(this, batchId, records);
    }

    @Override
    public BatchWriter begin(SinkBatch batch) {
      batches.add(batch);
      List<String> all = new ArrayList<>();
      return new BatchWriter() {
        @Override
        public void write(List<Record> chunk) {
          if (crashOnFirstWrite.getAndSet(false)) {
            throw new TestSupport.SimulatedCrash("in the sink's first write");
          }
          List<String> values = chunk.stream().map(Record::valueAsString).toList();
          chunks.add(values);
          all.addAll(values);
        }

        @Override
        public void commit() {
          committed.put(batch.batchId(), all);
        }

        @Override
        public void close() {}
      };
    }

    List<String> allCommitted() {
      List<String> out = new ArrayList<>();
      committed.keySet().stream().sorted().forEach(id -> out.addAll(committed.get(id)));
      return out;
    }

    @Override
    public void close() {}
  }

  private Pipeline.Builder builder(String id) {
    return Pipeline.builder(id).checkpointDir(tmp.resolve(id)).batchInterval(Duration.ofMillis(20));
  }

  // ----------------------------------------------------------------------------------------- tests

  @Test
  void rangeEndsFixedByReadingAreCheckpointedAndAReplayReadsExactlyThePlan() throws Exception {
    SparseShard shard = new SparseShard();
    shard.append(30);
    ChunkSink crashing = new ChunkSink();
    crashing.crashOnFirstWrite.set(true);
    Pipeline first =
        builder("kin")
            .set("direct.max-records-per-partition", 12)
            .source("kin", shard)
            .sink("out", crashing)
            .build();
    first.start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> first.status().state() == PipelineState.FAILED);
    // The plan of batch 0 was fixed by reading and written before the sink saw a record: 12
    // records, positions as text.
    String offsets0 = Files.readString(tmp.resolve("kin/offsets/0"));
    assertThat(offsets0)
        .contains("\"from\" : \"" + BASE + "\"")
        .contains("\"until\" : \"" + BASE.add(BigInteger.valueOf(7 * 11 + 1)) + "\"");
    assertThat(shard.prefetches.get()).isEqualTo(1);

    shard.append(30); // more data arrives while the pipeline is down
    ChunkSink sink = new ChunkSink();
    Pipeline second =
        builder("kin")
            .set("direct.max-records-per-partition", 12)
            .source("kin", shard)
            .sink("out", sink)
            .build();
    second.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> sink.allCommitted().size() == 60);
    } finally {
      second.stopGracefully();
    }
    // The replayed batch 0 is exactly the planned 12 records, not what is available now.
    assertThat(sink.committed.get(0L)).hasSize(12).first().isEqualTo(BASE.toString());
    List<String> expected = new ArrayList<>();
    for (BigInteger s : shard.seqs) {
      expected.add(s.toString());
    }
    assertThat(sink.allCommitted()).containsExactlyElementsOf(expected);
  }

  @Test
  void batchesAreBoundedByDefaultAndStreamToSinksInChunks() {
    Partitions src = new Partitions();
    src.ends.put("a", 250_000L); // a large backlog on first start
    ChunkSink sink = new ChunkSink();
    Pipeline p =
        builder("bounded")
            .set("batch.chunk-size", "64kb")
            .set("batch.initial-records", 0)
            .source("s", src)
            .sink("out", sink)
            .build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.allCommitted().size() == 250_000);
    } finally {
      p.stopGracefully();
    }
    // direct.max-records-per-partition defaults to 100,000: three batches, not one of 250,000
    assertThat(sink.committed.keySet()).containsExactlyInAnyOrder(0L, 1L, 2L);
    assertThat(sink.committed.get(0L)).hasSize(100_000);
    assertThat(sink.committed.get(2L)).hasSize(50_000);
    // ... and each batch reached the sink as many chunks of at most ~64 KiB (records are ~8 bytes:
    // <= 8,192 records)
    assertThat(sink.chunks.size()).isGreaterThanOrEqualTo(250_000 / 8_192);
    assertThat(sink.chunks).allSatisfy(c -> assertThat(c.size()).isLessThanOrEqualTo(8_192));
    assertThat(sink.allCommitted()).doesNotHaveDuplicates();
  }

  @Test
  void maxBytesBoundsBatchesOnceTheRecordSizeIsKnown() {
    Partitions src = new Partitions();
    src.ends.put("a", 10L);
    ChunkSink sink = new ChunkSink();
    Pipeline p =
        builder("bytes").set("batch.max-bytes", "4kb").source("s", src).sink("out", sink).build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> sink.allCommitted().size() == 10);
      src.ends.put("a", 5_010L);
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.allCommitted().size() == 5_010);
    } finally {
      p.stopGracefully();
    }
    // Without the bound the 5,000 new records would be one batch. With it, each batch holds about 4
    // KiB, estimated
    // from the average record size of earlier batches (3-byte records first, then 6-byte ones: at
    // most 2x over).
    int maxBatchBytes =
        sink.committed.values().stream()
            .mapToInt(b -> b.stream().mapToInt(String::length).sum())
            .max()
            .orElseThrow();
    assertThat(maxBatchBytes).isLessThanOrEqualTo(2 * 4096);
    assertThat(sink.committed).hasSizeGreaterThan(5);
    assertThat(sink.allCommitted()).doesNotHaveDuplicates().hasSize(5_010);
  }

  @Test
  void rangesAreReadInParallelAndReachTheSinkInPlanOrder() throws Exception {
    CountDownLatch bothReading = new CountDownLatch(2);
    Partitions src =
        new Partitions() {
          @Override
          void beforeRead(OffsetRange range) throws Exception {
            bothReading.countDown();
            // Each read waits for the other to start: only parallel reads get past this.
            if (!bothReading.await(10, TimeUnit.SECONDS)) {
              throw new IllegalStateException("ranges were not read in parallel");
            }
          }
        };
    src.ends.put("p0", 3L);
    src.ends.put("p1", 3L);
    ChunkSink sink = new ChunkSink();
    Pipeline p =
        builder("parallel")
            .set("batch.read-parallelism", 2)
            .source("s", src)
            .sink("out", sink)
            .build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(15)).until(() -> sink.allCommitted().size() == 6);
    } finally {
      p.stopGracefully();
    }
    assertThat(sink.allCommitted()).containsExactly("p0-0", "p0-1", "p0-2", "p1-0", "p1-1", "p1-2");
  }

  @Test
  void aFailingRangeReadFailsTheBatchNamingTheRangeAndNothingIsCommitted() {
    Partitions src =
        new Partitions() {
          @Override
          void beforeRead(OffsetRange range) {
            if (range.partition().equals("p1")) {
              throw new IllegalStateException("disk on fire");
            }
          }
        };
    src.ends.put("p0", 3L);
    src.ends.put("p1", 3L);
    ChunkSink sink = new ChunkSink();
    Pipeline p = builder("readfail").source("s", src).sink("out", sink).build();
    p.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> p.status().state() == PipelineState.FAILED);
    assertThat(p.failure()).get().asString().contains("p1[0,3)").contains("disk on fire");
    assertThat(sink.committed).isEmpty();
  }

  /** A source whose positions a carrying sink must commit in its transaction. */
  static final class PositionedSource extends Partitions
      implements TransactionalPositionsSource<String> {
    final boolean requires;
    final List<Long> committedWithSink = new CopyOnWriteArrayList<>();
    final List<Long> committedAfter = new CopyOnWriteArrayList<>();

    PositionedSource(boolean requires) {
      this.requires = requires;
    }

    @Override
    public Class<String> transactionalPositionsType() {
      return String.class;
    }

    @Override
    public boolean requiresCarrier() {
      return requires;
    }

    @Override
    public String transactionalPositions(long batchId) {
      return "positions-of-" + batchId;
    }

    @Override
    public void committedWithSink(long batchId) {
      committedWithSink.add(batchId);
    }

    @Override
    public void onBatchCommitted(long batchId, List<OffsetRange> ranges) {
      committedAfter.add(batchId);
    }
  }

  /** A transactional sink that commits the source's String positions with each batch. */
  static final class CarryingSink extends ChunkSink
      implements TransactionalSink, CarriesSourcePositions {
    final Map<Long, String> carried = new ConcurrentHashMap<>();

    @Override
    public boolean canCarry(Class<?> positionsType) {
      return positionsType == String.class;
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
              .transactionalPositions(String.class)
              .ifPresent(p -> carried.put(batch.batchId(), p));
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

  @Test
  void theOnlySinkCarriesTheSourcePositionsInItsTransaction() {
    PositionedSource src = new PositionedSource(false);
    src.ends.put("a", 5L);
    CarryingSink sink = new CarryingSink();
    Pipeline p = builder("carry").source("s", src).sink("tx", sink).build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> src.committedAfter.contains(0L));
    } finally {
      p.stopGracefully();
    }
    assertThat(sink.carried).containsEntry(0L, "positions-of-0");
    assertThat(src.committedWithSink).containsExactly(0L);
  }

  @Test
  void withTwoSinksNoneCarriesThePositionsAndTheSourceCommitsAfterTheBatch() {
    PositionedSource src = new PositionedSource(false);
    src.ends.put("a", 5L);
    CarryingSink tx = new CarryingSink();
    ChunkSink files = new ChunkSink();
    Pipeline p = builder("two").source("s", src).sink("tx", tx).sink("files", files).build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> src.committedAfter.contains(0L));
    } finally {
      p.stopGracefully();
    }
    assertThat(tx.committed).containsKey(0L);
    assertThat(files.committed).containsKey(0L);
    assertThat(tx.carried).isEmpty();
    assertThat(src.committedWithSink).isEmpty();
    assertThat(tx.batches)
        .allSatisfy(b -> assertThat(b.transactionalPositions(String.class)).isEmpty());
  }

  @Test
  void aSourceThatRequiresACarrierIsRefusedAtStartWhenThePipelineCannotProvideOne() {
    PositionedSource src = new PositionedSource(true);
    src.ends.put("a", 5L);
    Pipeline p =
        builder("refused")
            .source("s", src)
            .sink("tx", new CarryingSink())
            .sink("files", new ChunkSink())
            .build();
    assertThatThrownBy(p::start)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("source s must commit its positions inside a sink's transaction")
        .hasMessageContaining("the pipeline has 2 sinks")
        .hasMessageContaining("expected: exactly one sink that carries String");
  }

  /**
   * Stores numbered records reliably and acknowledges only after the pipeline committed them
   * (KCL/Flume pull).
   */
  static final class CommitAckingReceiver extends io.tributary.core.api.Receiver {
    final List<Map<String, Long>> commits = new CopyOnWriteArrayList<>();
    final List<String> stored = new CopyOnWriteArrayList<>();

    @Override
    public void onStart() {
      Thread t =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < 3; i++) {
                    List<Record> batch = new ArrayList<>();
                    for (int j = 0; j < 4; j++) {
                      long seq = i * 4L + j;
                      batch.add(
                          Record.ofString("r" + seq)
                              .withPosition(new SourcePosition("rx", "stream-a", seq)));
                    }
                    storeReliably(batch);
                    batch.forEach(r -> stored.add(r.valueAsString()));
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      t.setDaemon(true);
      t.start();
    }

    @Override
    public void onStop() {}

    @Override
    public void onBatchCommitted(long batchId, Map<String, Long> committedOffsets) {
      commits.add(committedOffsets);
    }
  }

  @Test
  void aReceiverIsToldTheOffsetsOfEachCommittedBatchSoItCanAcknowledgeAfterTheOutputCommitted() {
    CommitAckingReceiver rx = new CommitAckingReceiver();
    ChunkSink sink = new ChunkSink();
    Pipeline p = builder("rxcommit").source("rx", rx).sink("out", sink).build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> sink.allCommitted().size() == 12);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  !rx.commits.isEmpty()
                      && rx.commits.get(rx.commits.size() - 1).get("stream-a") == 11L);
    } finally {
      p.stopGracefully();
    }
    // Each call came after its batch was in the sink, and offsets only grow.
    long last = -1;
    for (Map<String, Long> c : rx.commits) {
      assertThat(c).containsOnlyKeys("stream-a");
      assertThat(c.get("stream-a")).isGreaterThan(last);
      last = c.get("stream-a");
    }
  }

  @Test
  void slowStartPlansASmallFirstBatchAndDoublesUntilTheOtherLimitsBound() {
    List<Integer> sizes = slowStartBatchSizes("slowstart", List.of("a", "b"), 200_000);
    // 10,000 split over both partitions, then doubling, until 2 x 50,000 per batch bounds it
    assertThat(sizes).containsExactly(10_000, 20_000, 40_000, 80_000, 100_000, 100_000, 50_000);
  }

  @Test
  void slowStartGrowsWhenItsLimitDoesNotDivideEvenlyOverThePartitions() {
    List<Integer> sizes = slowStartBatchSizes("slowstart-uneven", List.of("a", "b", "c"), 100_000);
    // 10,000 over three partitions plans 9,999: the limit still bounded the batch, so it doubles
    assertThat(sizes.get(0)).isBetween(9_997, 10_000);
    for (int i = 1; i < 4; i++) {
      assertThat(sizes.get(i))
          .as("batch %d of %s", i, sizes)
          .isGreaterThanOrEqualTo(2 * sizes.get(i - 1) - 3);
    }
  }

  /**
   * Runs {@code partitions} of {@code perPartition} records each through a pipeline with {@code
   * batch.initial-records} 10,000 and 50,000 records per partition and batch; the committed batch
   * sizes in batch order, after checking nothing was committed twice.
   */
  private List<Integer> slowStartBatchSizes(String id, List<String> partitions, long perPartition) {
    Partitions src = new Partitions();
    partitions.forEach(pid -> src.ends.put(pid, perPartition));
    ChunkSink sink = new ChunkSink();
    Pipeline p =
        builder(id)
            .set("batch.initial-records", 10_000)
            .set("direct.max-records-per-partition", 50_000)
            .source("s", src)
            .sink("out", sink)
            .build();
    p.start();
    long total = perPartition * partitions.size();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.allCommitted().size() == total);
    } finally {
      p.stopGracefully();
    }
    assertThat(sink.allCommitted()).doesNotHaveDuplicates();
    return sink.committed.keySet().stream()
        .sorted()
        .map(b -> sink.committed.get(b).size())
        .toList();
  }
}
