package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.baseConfig;
import static io.tributary.connector.kinesis.KinesisTestSupport.batch;
import static io.tributary.connector.kinesis.KinesisTestSupport.read;
import static io.tributary.connector.kinesis.KinesisTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.SourcePosition;
import io.tributary.core.internal.DirectPlanner;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/** {@link KinesisSink} against kinesis-mock, read back with {@link KinesisDirectSource}. */
class KinesisSinkIT {
  private final LocalKinesis kinesis = LocalKinesis.get();
  private KinesisClient k;
  private String stream;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void setUp(TestInfo info) {
    k = kinesis.client();
    stream = "sink-" + info.getTestMethod().orElseThrow().getName() + "-" + System.nanoTime();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    k.close();
  }

  static SinkContext sinkContext(String pipeline, MeterRegistry meters) {
    return new SinkContext() {
      @Override
      public String pipelineId() {
        return pipeline;
      }

      @Override
      public String sinkName() {
        return "out";
      }

      @Override
      public MeterRegistry meterRegistry() {
        return meters;
      }
    };
  }

  private KinesisSink sink(Map<String, Object> config, MeterRegistry meters) {
    KinesisSink s = new KinesisSink(KinesisOptions.SINK.parse(config));
    s.open(sinkContext("writer", meters));
    closeables.add(s);
    return s;
  }

  private static List<Record> records(int from, int until, int keys) {
    List<Record> out = new ArrayList<>();
    for (int i = from; i < until; i++) {
      out.add(
          new Record(
              ("key-" + (i % keys)).getBytes(StandardCharsets.UTF_8),
              Integer.toString(i).getBytes(StandardCharsets.UTF_8),
              -1,
              Map.of("n", Integer.toString(i).getBytes(StandardCharsets.UTF_8)),
              new SourcePosition("t", "0", i)));
    }
    return out;
  }

  private static void writeBatch(KinesisSink sink, long batchId, List<Record> records, int chunk)
      throws Exception {
    try (BatchWriter w = sink.begin(SinkBatch.of(batchId))) {
      for (int i = 0; i < records.size(); i += chunk) {
        w.write(records.subList(i, Math.min(records.size(), i + chunk)));
      }
      w.commit();
    }
  }

  /** Everything in the stream, read with a kinesis source from trim_horizon. */
  private List<Record> readAll(int expected, Map<String, Object> extra) throws Exception {
    Map<String, Object> c = baseConfig(kinesis.endpoint(), stream);
    c.put("starting-position", "trim_horizon");
    c.putAll(extra);
    KinesisDirectSource source = KinesisTestSupport.open(c);
    closeables.add(source);
    DirectPlanner planner = new DirectPlanner(0, 0, 1000);
    List<Record> all = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              all.addAll(batch(planner, source, 0).records());
              return all.size() >= expected;
            });
    // one more batch: nothing beyond the expected records
    all.addAll(batch(planner, source, 0).records());
    return all;
  }

  @Test
  void writesBatchesInRequestsOfAtMost500AndKeepsOrderPerKey() throws Exception {
    LocalKinesis.createStream(k, stream, 3);
    Map<String, Object> c = baseConfig(kinesis.endpoint(), stream);
    c.put("ordering", "none");
    KinesisSink sink = sink(c, new SimpleMeterRegistry());
    writeBatch(sink, 1, records(0, 1200, 50), 300);
    List<Record> all = readAll(1200, Map.of());
    assertThat(values(all)).hasSize(1200).containsExactlyInAnyOrderElementsOf(range(0, 1200));
    assertOrderedPerKey(all, 50);
    assertThat(new String(all.get(0).key(), StandardCharsets.UTF_8)).startsWith("key-");
  }

  @Test
  void partialFailuresResendOnlyTheFailedEntriesAndKeepOrderPerKey() throws Exception {
    LocalKinesis.createStream(k, stream, 2);
    try (FaultProxy proxy = new FaultProxy(kinesis.endpoint())) {
      Map<String, Object> c = baseConfig(proxy.endpoint(), stream);
      c.put("throttle-backoff", "5ms");
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      KinesisSink sink = sink(c, meters);
      proxy.failPutEntries.set(4); // the first 4 requests lose every other entry
      writeBatch(sink, 1, records(0, 600, 40), 100);
      assertThat(proxy.failedEntries.get()).isGreaterThan(0);
      assertThat(
              meters
                  .counter(
                      "tributary.kinesis.sink.retried.entries", "pipeline", "writer", "sink", "out")
                  .count())
          .isEqualTo(proxy.failedEntries.get());
      List<Record> all = readAll(600, Map.of());
      assertThat(values(all)).hasSize(600).containsExactlyInAnyOrderElementsOf(range(0, 600));
      assertOrderedPerKey(all, 40);
    }
  }

  @Test
  void throttledRequestsAreSentAgainAfterABackoffAndCounted() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    try (FaultProxy proxy = new FaultProxy(kinesis.endpoint())) {
      Map<String, Object> c = baseConfig(proxy.endpoint(), stream);
      c.put("throttle-backoff", "5ms");
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      KinesisSink sink = sink(c, meters);
      proxy.throttlePutRecords.set(3);
      writeBatch(sink, 1, records(0, 50, 5), 50);
      assertThat(proxy.throttled.get()).isEqualTo(3);
      assertThat(
              meters
                  .counter("tributary.kinesis.sink.throttled", "pipeline", "writer", "sink", "out")
                  .count())
          .isEqualTo(3.0);
      assertThat(values(readAll(50, Map.of()))).containsExactlyElementsOf(range(0, 50));
    }
  }

  @Test
  void partitionKeyFromHeaderOrHash() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    Map<String, Object> byHeader = baseConfig(kinesis.endpoint(), stream);
    byHeader.put("partition-key", "header");
    byHeader.put("partition-key-header", "n");
    writeBatch(sink(byHeader, new SimpleMeterRegistry()), 1, records(0, 3, 1), 10);
    Map<String, Object> byHash = baseConfig(kinesis.endpoint(), stream);
    byHash.put("partition-key", "hash");
    writeBatch(sink(byHash, new SimpleMeterRegistry()), 1, records(3, 4, 1), 10);
    List<Record> all = readAll(4, Map.of());
    assertThat(all)
        .extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
        .containsExactly("0", "1", "2", "eccbc87e4b5ce2fe28308fd9f2a7baf3"); // md5("3")
  }

  @Test
  void dedupIdsMakeAReplayedBatchInvisibleToADedupingSourceAndReplaysAreStable() throws Exception {
    LocalKinesis.createStream(k, stream, 2);
    Map<String, Object> c = baseConfig(kinesis.endpoint(), stream);
    c.put("dedup-ids", true);
    KinesisSink first = sink(c, new SimpleMeterRegistry());
    List<Record> batch1 = records(0, 300, 10);
    // the writer crashes after writing part of batch 1, then replays the whole batch, then goes on
    try (BatchWriter w = first.begin(SinkBatch.of(1))) {
      w.write(batch1.subList(0, 120));
      w.commit(); // what reached Kinesis before the crash
    }
    KinesisSink restarted = sink(c, new SimpleMeterRegistry());
    writeBatch(restarted, 1, batch1, 100);
    writeBatch(restarted, 2, records(300, 400, 10), 100);

    Map<String, Object> rc = dedupReaderConfig(stream);
    KinesisTestSupport.Batch read = readDeduped(rc, 400);
    List<Record> all = read.records();
    List<OffsetRange> ranges = read.ranges();
    assertThat(values(all)).hasSize(400).containsExactlyInAnyOrderElementsOf(range(0, 400));
    assertOrderedPerKey(all, 10);
    // headers survive the trip
    Record r0 = all.stream().filter(r -> r.valueAsString().equals("7")).findFirst().orElseThrow();
    assertThat(new String(r0.headers().get("n"), StandardCharsets.UTF_8)).isEqualTo("7");
    assertThat(new String(r0.key(), StandardCharsets.UTF_8)).isEqualTo("key-7");

    // a restarted reader replays each recorded range and drops exactly the same duplicates
    KinesisDirectSource again = KinesisTestSupport.open(rc);
    closeables.add(again);
    List<Record> replayed = new ArrayList<>();
    for (OffsetRange r : ranges) {
      replayed.addAll(read(again, r));
    }
    assertThat(values(replayed)).containsExactlyInAnyOrderElementsOf(values(all));
    // without a window every written copy is there:
    assertThat(readAll(520, Map.of())).hasSize(520); // 120 before the crash + 300 replayed + 100
  }

  @Test
  void aCopyWrittenAfterASplitLandsInAChildAndIsStillDropped() throws Exception {
    LocalKinesis.createStream(k, stream, 1);
    Map<String, Object> c = baseConfig(kinesis.endpoint(), stream);
    c.put("dedup-ids", true);
    List<Record> batch1 = records(0, 300, 10);
    // the writer puts part of batch 1 into the one shard and crashes; the shard is split; the
    // restarted writer replays batch 1, so the copies of its first 120 records go to the children
    try (BatchWriter w = sink(c, new SimpleMeterRegistry()).begin(SinkBatch.of(1))) {
      w.write(batch1.subList(0, 120));
      w.commit();
    }
    LocalKinesis.splitFirstShard(k, stream);
    KinesisSink restarted = sink(c, new SimpleMeterRegistry());
    writeBatch(restarted, 1, batch1, 100);
    writeBatch(restarted, 2, records(300, 400, 10), 100);

    Map<String, Object> rc = dedupReaderConfig(stream);
    KinesisTestSupport.Batch read = readDeduped(rc, 400);
    List<Record> all = read.records();
    List<OffsetRange> ranges = read.ranges();
    assertThat(ranges.stream().map(OffsetRange::partition).distinct())
        .as("the parent and its two children were read")
        .hasSize(3);
    assertThat(values(all)).hasSize(400).containsExactlyInAnyOrderElementsOf(range(0, 400));
    assertOrderedPerKey(all, 10);

    // a restarted reader replays the children's ranges first (before any listing) and drops the
    // same copies
    KinesisDirectSource again = KinesisTestSupport.open(rc);
    closeables.add(again);
    List<Record> replayed = new ArrayList<>();
    for (int i = ranges.size() - 1; i >= 0; i--) {
      replayed.addAll(read(again, ranges.get(i)));
    }
    assertThat(values(replayed)).containsExactlyInAnyOrderElementsOf(values(all));
    assertThat(readAll(520, Map.of())).hasSize(520); // 120 before the crash + 300 replayed + 100
  }

  static List<Integer> range(int from, int until) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i < until; i++) {
      out.add(i);
    }
    return out;
  }

  static void assertOrderedPerKey(List<Record> records, int keys) {
    Map<Integer, Integer> last = new HashMap<>();
    for (Record r : records) {
      int v = Integer.parseInt(r.valueAsString());
      Integer prev = last.put(v % keys, v);
      if (prev != null) {
        assertThat(v).as("order of key %d", v % keys).isGreaterThan(prev);
      }
    }
  }

  /** A {@code kinesis} source from the trim horizon of {@code stream}, 10-minute dedup window. */
  private Map<String, Object> dedupReaderConfig(String stream) {
    Map<String, Object> rc = baseConfig(kinesis.endpoint(), stream);
    rc.put("starting-position", "trim_horizon");
    rc.put("dedup-window", "10m");
    return rc;
  }

  /**
   * Reads a stream with a {@code kinesis} source of {@code rc} ({@link #dedupReaderConfig}), batch
   * after batch, until a batch is empty and at least {@code atLeast} records came; returns every
   * range planned and every record kept.
   */
  private KinesisTestSupport.Batch readDeduped(Map<String, Object> rc, int atLeast)
      throws Exception {
    KinesisDirectSource source = KinesisTestSupport.open(rc);
    closeables.add(source);
    DirectPlanner planner = new DirectPlanner(70, 0, 1000);
    List<Record> all = new ArrayList<>();
    List<OffsetRange> ranges = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              KinesisTestSupport.Batch b = batch(planner, source, 0);
              ranges.addAll(b.ranges());
              all.addAll(b.records());
              return b.records().isEmpty() && all.size() >= atLeast;
            });
    return new KinesisTestSupport.Batch(ranges, all);
  }
}
