package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import io.tributary.core.api.Record;
import io.tributary.core.api.SharedPositions;
import io.tributary.core.api.SharedPositionsStore;
import io.tributary.core.internal.DirectPlanner;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * The {@code kinesis-kcl} source against kinesis-mock and dynalite, driven batch by batch as the
 * runtime drives it (the real planner): the KCL checkpoint in the lease table moves only when a
 * batch is reported committed, so records read but not committed are delivered again to the next
 * worker, and committed ones are not.
 */
class KinesisKclSourceIT {
  private final LocalKinesis kinesis = LocalKinesis.get();
  private final LocalDynamo dynamo = LocalDynamo.get();

  static Map<String, Object> kclConfig(
      LocalKinesis kinesis, LocalDynamo dynamo, String app, String stream) {
    return kclConfig(kinesis.endpoint(), dynamo, app, stream);
  }

  /** {@link #kclConfig(LocalKinesis, LocalDynamo, String, String)} for any Kinesis endpoint. */
  static Map<String, Object> kclConfig(
      String kinesisEndpoint, LocalDynamo dynamo, String app, String stream) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("application-name", app);
    m.put("stream", stream);
    m.put("endpoint", kinesisEndpoint);
    m.put("dynamodb-endpoint", dynamo.endpoint());
    m.put("access-key-id", LocalKinesis.ACCESS_KEY);
    m.put("secret-access-key", LocalKinesis.SECRET_KEY);
    m.put("starting-position", "trim-horizon");
    // KCL's defaults are minutes-scale; short timings keep the test quick
    m.put("failover-time", "3s");
    m.put("shard-sync-interval", "2s");
    m.put("leader-lease-duration", "10s");
    m.put("poll-interval", "200ms");
    m.put("read-timeout", "20s");
    m.put("shutdown-timeout", "20s");
    return m;
  }

  static KinesisKclSource open(Map<String, Object> config, String pipeline) throws Exception {
    KinesisKclSource s = new KinesisKclSource(KinesisOptions.KCL_SOURCE.parse(config));
    s.open(KinesisTestSupport.context(pipeline, new SimpleMeterRegistry()));
    return s;
  }

  /** Plans and reads one batch as the runtime does; commits it when asked. */
  static List<OffsetRange> batch(
      DirectPlanner planner, KinesisKclSource source, List<Record> into, boolean commit, long id)
      throws Exception {
    List<OffsetRange> ranges = planner.plan(source.partitions(), 0, 0, 0, source);
    planner.advance(ranges);
    for (OffsetRange r : ranges) {
      try (CloseableIterator<Record> it = source.read(r)) {
        while (it.hasNext()) {
          into.add(it.next());
        }
      }
    }
    if (commit) {
      source.onBatchCommitted(id, ranges);
    }
    return ranges;
  }

  /** Reads batches until {@code n} records arrived (committing each batch when asked). */
  static List<Record> readUntil(KinesisKclSource source, int n, boolean commit, Duration atMost) {
    DirectPlanner planner = new DirectPlanner(0, 0, 200).externallyAssigned();
    List<Record> got = new ArrayList<>();
    long[] id = {0};
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              batch(planner, source, got, commit, id[0]++);
              return got.size() >= n;
            });
    return got;
  }

  /**
   * The lease table's checkpoint per shard (sequence number, or a sentinel such as TRIM_HORIZON).
   */
  static Map<String, String> checkpoints(DynamoDbClient ddb, String table) {
    Map<String, String> out = new TreeMap<>();
    for (Map<String, AttributeValue> item : ddb.scan(b -> b.tableName(table)).items()) {
      AttributeValue cp = item.get("checkpoint");
      if (cp != null && item.get("leaseKey").s().startsWith("shardId-")) {
        out.put(item.get("leaseKey").s(), cp.s());
      }
    }
    return out;
  }

  @Test
  void kclCheckpointMovesOnlyAfterTheBatchCommitted() throws Exception {
    SharedKclStream shared = SharedKclStream.get(kinesis);
    String stream = shared.stream;
    String app = shared.app;
    int base = 100_000;
    try (KinesisClient k = kinesis.client();
        DynamoDbClient ddb = dynamo.client()) {
      Map<String, Object> c = kclConfig(kinesis, dynamo, app, stream);
      // one instance restarted three times (a stable worker id, as the pipeline id is by default)
      c.put("worker-id", "worker-a");
      Map<String, String> before = checkpoints(ddb, app);
      put(k, stream, base, base + 200, 20);

      // 1. Read everything, never commit, close: the checkpoints stay where they were.
      KinesisKclSource first = open(c, "lag-1");
      List<Record> read1 = readUntil(first, 200, false, Duration.ofSeconds(90));
      assertThat(values(read1)).containsExactlyInAnyOrderElementsOf(range(base, base + 200));
      assertThat(first.leasedShards()).hasSize(SharedKclStream.SHARDS);
      first.close();
      Map<String, String> unchanged = checkpoints(ddb, app);
      if (before.isEmpty()) {
        assertThat(unchanged.values()).containsOnly("TRIM_HORIZON");
      } else {
        assertThat(unchanged).isEqualTo(before);
      }

      // 2. The next worker gets every record again; this time the batches commit.
      KinesisKclSource second = open(c, "lag-2");
      List<Record> read2 = readUntil(second, 200, true, Duration.ofSeconds(60));
      assertThat(values(read2)).containsExactlyInAnyOrderElementsOf(range(base, base + 200));
      Map<String, String> expected = new TreeMap<>(unchanged);
      for (Record r : read2) {
        expected.merge(
            r.position().partition(),
            r.position().position().sequence().toString(),
            (a, b) ->
                a.equals("TRIM_HORIZON") || new BigInteger(b).compareTo(new BigInteger(a)) > 0
                    ? b
                    : a);
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(checkpoints(ddb, app)).isEqualTo(expected));
      second.close();

      // 3. After the commit nothing is delivered again: only the new records.
      put(k, stream, base + 200, base + 260, 20);
      KinesisKclSource third = open(c, "lag-3");
      List<Record> read3 = readUntil(third, 60, true, Duration.ofSeconds(60));
      third.close();
      assertThat(values(read3)).containsExactlyInAnyOrderElementsOf(range(base + 200, base + 260));
    }
  }

  /**
   * A crash between the sink's commit and the KCL checkpoint: the positions the carrying sink
   * committed are ahead of the lease table's checkpoint, and the next owner of the shards starts
   * after them (exactly-once across the lease move), then brings the KCL checkpoint up to them. The
   * store is an in-memory stand-in for the kafka sink's marker topic (it/'s
   * KinesisKclGatewayCrashIT runs the real one).
   */
  @Test
  void aNewOwnerStartsAfterTheSinksCommittedPositionsWhenTheyAreAheadOfTheKclCheckpoint()
      throws Exception {
    SharedKclStream shared = SharedKclStream.get(kinesis);
    String stream = shared.stream;
    String app = shared.app;
    int base = 300_000;
    Map<String, Position> sink = new ConcurrentHashMap<>();
    SharedPositionsStore store = scope -> new TreeMap<>(sink);
    try (KinesisClient k = kinesis.client();
        DynamoDbClient ddb = dynamo.client()) {
      Map<String, Object> c = kclConfig(kinesis, dynamo, app, stream);
      c.put("worker-id", "worker-sink");
      c.put("exactly-once", true);
      put(k, stream, base, base + 200, 20);

      // 1. Batches commit to the "sink" with their positions, but the process dies before
      // onBatchCommitted (no KCL checkpoint).
      KinesisKclSource first = new KinesisKclSource(KinesisOptions.KCL_SOURCE.parse(c));
      assertThat(first.requiresCarrier()).isTrue();
      first.sharedPositionsStore(store);
      first.open(KinesisTestSupport.context("sink-1", new SimpleMeterRegistry()));
      DirectPlanner planner = new DirectPlanner(0, 0, 200).externallyAssigned();
      List<Record> read1 = new ArrayList<>();
      long[] id = {0};
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                batch(planner, first, read1, false, id[0]);
                SharedPositions p = first.transactionalPositions(id[0]++);
                assertThat(p.scope()).isEqualTo("kinesis-kcl/" + app + "/" + stream);
                sink.putAll(p.positions());
                return values(read1).containsAll(range(base, base + 200));
              });
      Map<String, String> checkpointsBefore = checkpoints(ddb, app);
      first.close();
      assertThat(checkpoints(ddb, app)).isEqualTo(checkpointsBefore);

      // 2. The next owner reads only what came after the sink's positions.
      put(k, stream, base + 200, base + 260, 20);
      KinesisKclSource second = new KinesisKclSource(KinesisOptions.KCL_SOURCE.parse(c));
      second.sharedPositionsStore(store);
      second.open(KinesisTestSupport.context("sink-2", new SimpleMeterRegistry()));
      List<Record> read2 = readUntil(second, 60, true, Duration.ofSeconds(60));
      assertThat(values(read2)).containsExactlyInAnyOrderElementsOf(range(base + 200, base + 260));
      assertThat(second.millisBehindLatest()).containsOnlyKeys(second.leasedShards());
      second.close();
    }
  }

  static List<Integer> values(List<Record> records) {
    return KinesisTestSupport.values(records);
  }

  static List<Integer> range(int from, int until) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i < until; i++) {
      out.add(i);
    }
    return out;
  }
}
