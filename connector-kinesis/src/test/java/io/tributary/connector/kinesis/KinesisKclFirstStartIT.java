package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.connector.kinesis.internal.KclClients;
import io.tributary.connector.kinesis.internal.KclLeaseBootstrap;
import io.tributary.core.api.Record;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardFilter;
import software.amazon.awssdk.services.kinesis.model.ShardFilterType;
import software.amazon.kinesis.common.ConfigsBuilder;
import software.amazon.kinesis.common.InitialPositionInStreamExtended;
import software.amazon.kinesis.common.StreamConfig;
import software.amazon.kinesis.common.StreamIdentifier;
import software.amazon.kinesis.leases.LeaseManagementConfig;

/**
 * The first start of a {@code kinesis-kcl} application (an empty lease table). KCL 3.5.1's
 * Scheduler would wait a random 1 to 30 s there for another worker to create the leases before its
 * own first shard sync; the source creates them with KCL's shard sync before the Scheduler starts
 * ({@link KclLeaseBootstrap}), so they are in the table when {@code open} returns (KCL's own path
 * cannot have made them by then: its first look at the empty table is followed by a 3 s pause).
 * Checked here: the leases are exactly those KCL makes for the initial position (one per shard that
 * Kinesis lists with the position's ShardFilter, asked here from Kinesis itself, with their
 * parents, checkpoint = the position), for trim-horizon, and for latest and at-timestamp on a
 * stream split before the first start (the children's leases name their parent); the records are
 * then read once each, in put order per key; two instances creating the leases at the same moment
 * (five fresh tables) make each lease once and neither fails; and a table that holds leases is left
 * alone. Not here: trim-horizon, or an at-timestamp before the split, on a stream split before the
 * first start (the closed parent's lease first, its children's at its end): kinesis-mock's
 * ShardFilter lists the children too there, and KCL's own first sync fails on that (see the
 * README).
 */
class KinesisKclFirstStartIT {
  private static final int KEYS = 10;
  private static final int ROUNDS = 5;
  private final LocalKinesis kinesis = LocalKinesis.get();
  private final LocalDynamo dynamo = LocalDynamo.get();

  /** A lease as the lease table holds it. */
  record LeaseRow(String checkpoint, Set<String> parents) {}

  /** A stream split after its first records, and a time after that split. */
  private record Resharded(
      String stream, String parent, List<String> children, Instant afterSplit) {}

  /**
   * A 2-shard stream with records 0..99, then its first shard split in two, then (after {@code
   * afterSplit}, a whole second after the split) records 100..199: 0..99 in the closed parent and
   * the other shard, 100..199 in the children and the other shard.
   */
  private Resharded reshardedStream(KinesisClient k, String prefix) {
    String stream = prefix + System.nanoTime();
    LocalKinesis.createStream(k, stream, 2);
    put(k, stream, 0, 100, KEYS);
    Shard parent = LocalKinesis.splitFirstShard(k, stream);
    // the next whole second: kinesis-mock's AT_TIMESTAMP shard filter compares whole seconds (a
    // shard closed in the same second would count as open then); later records arrive after it
    Instant afterSplit = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
    await().pollInterval(Duration.ofMillis(5)).until(() -> Instant.now().isAfter(afterSplit));
    put(k, stream, 100, 200, KEYS);
    List<String> children =
        k.listShards(b -> b.streamName(stream)).shards().stream()
            .filter(c -> parent.shardId().equals(c.parentShardId()))
            .map(Shard::shardId)
            .toList();
    assertThat(children).hasSize(2);
    return new Resharded(stream, parent.shardId(), children, afterSplit);
  }

  /**
   * The leases KCL's first sync makes: one per shard Kinesis lists with {@code filter} (asked from
   * Kinesis here, not through KCL), with its parents, the checkpoint being the initial position.
   */
  private static Map<String, LeaseRow> expectedLeases(
      KinesisClient k, String stream, ShardFilter filter, String checkpoint) {
    Map<String, LeaseRow> out = new TreeMap<>();
    String token = null;
    do {
      String t = token;
      var r =
          k.listShards(
              b -> {
                if (t == null) {
                  b.streamName(stream).shardFilter(filter);
                } else {
                  b.nextToken(t);
                }
              });
      for (Shard s : r.shards()) {
        Set<String> parents = new TreeSet<>();
        if (s.parentShardId() != null) {
          parents.add(s.parentShardId());
        }
        if (s.adjacentParentShardId() != null) {
          parents.add(s.adjacentParentShardId());
        }
        out.put(s.shardId(), new LeaseRow(checkpoint, parents));
      }
      token = r.nextToken();
    } while (token != null);
    return out;
  }

  /** The leases in the lease table {@code table}. */
  static Map<String, LeaseRow> leases(DynamoDbClient ddb, String table) {
    Map<String, LeaseRow> out = new TreeMap<>();
    for (Map<String, AttributeValue> item : ddb.scan(b -> b.tableName(table)).items()) {
      if (item.get("leaseKey").s().startsWith("shardId-") && item.get("checkpoint") != null) {
        AttributeValue p = item.get("parentShardId");
        out.put(
            item.get("leaseKey").s(),
            new LeaseRow(item.get("checkpoint").s(), p == null ? Set.of() : new TreeSet<>(p.ss())));
      }
    }
    return out;
  }

  @Test
  void freshApplicationsHoldKclsLeasesWhenOpenReturnsThenReadEveryRecordOnce() throws Exception {
    try (KinesisClient k = kinesis.client();
        DynamoDbClient ddb = dynamo.client()) {
      // trim-horizon on a stream never split: kinesis-mock's AT_TRIM_HORIZON filter lists closed
      // children too (AWS lists the shards open at the trim horizon), which fails KCL's own first
      // sync (see the README)
      String thStream = "kcl-first-th-" + System.nanoTime();
      LocalKinesis.createStream(k, thStream, 2);
      put(k, thStream, 0, 200, KEYS);
      Resharded s = reshardedStream(k, "kcl-first-pos-");

      String thApp = "app-th-" + thStream;
      Map<String, Object> th = KinesisKclSourceIT.kclConfig(kinesis, dynamo, thApp, thStream);
      Map<String, LeaseRow> expectedTh =
          expectedLeases(
              k,
              thStream,
              ShardFilter.builder().type(ShardFilterType.AT_TRIM_HORIZON).build(),
              "TRIM_HORIZON");
      assertThat(expectedTh).hasSize(2);

      // latest: the shards open now (the children, naming their parent, and the other shard)
      String latestApp = "app-latest-" + s.stream;
      Map<String, Object> latest =
          KinesisKclSourceIT.kclConfig(kinesis, dynamo, latestApp, s.stream);
      latest.put("starting-position", "latest");
      Map<String, LeaseRow> expectedLatest =
          expectedLeases(
              k, s.stream, ShardFilter.builder().type(ShardFilterType.AT_LATEST).build(), "LATEST");
      assertThat(expectedLatest)
          .doesNotContainKey(s.parent)
          .containsKeys(s.children.get(0), s.children.get(1))
          .hasSize(3);

      // at-timestamp after the split: the shards open then (the same three)
      String tsApp = "app-ts-" + s.stream;
      Map<String, Object> ts = KinesisKclSourceIT.kclConfig(kinesis, dynamo, tsApp, s.stream);
      ts.put("starting-position", "at-timestamp");
      ts.put("starting-timestamp", s.afterSplit.toString());
      Map<String, LeaseRow> expectedTs =
          expectedLeases(
              k,
              s.stream,
              ShardFilter.builder()
                  .type(ShardFilterType.AT_TIMESTAMP)
                  .timestamp(s.afterSplit)
                  .build(),
              "AT_TIMESTAMP");
      assertThat(expectedTs).hasSize(3).containsOnlyKeys(expectedLatest.keySet());

      List<KinesisKclSource> sources = new ArrayList<>();
      try {
        long t0 = System.nanoTime();
        KinesisKclSource thSource = KinesisKclSourceIT.open(th, "first-th");
        sources.add(thSource);
        assertThat(leases(ddb, thApp))
            .as("the lease table right after open (KCL's Scheduler has only just been started)")
            .isEqualTo(expectedTh);
        KinesisKclSource latestSource = KinesisKclSourceIT.open(latest, "first-latest");
        sources.add(latestSource);
        assertThat(leases(ddb, latestApp)).isEqualTo(expectedLatest);
        KinesisKclSource tsSource = KinesisKclSourceIT.open(ts, "first-ts");
        sources.add(tsSource);
        assertThat(leases(ddb, tsApp)).isEqualTo(expectedTs);

        List<Record> gotTh =
            KinesisKclSourceIT.readUntil(thSource, 200, true, Duration.ofSeconds(90));
        System.out.printf(
            "event=kcl_first_start_timing all_200_records_after_open_ms=%d%n",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        assertThat(KinesisKclSourceIT.values(gotTh))
            .as("trim-horizon: every record once")
            .containsExactlyInAnyOrderElementsOf(KinesisKclSourceIT.range(0, 200));
        assertPutOrderPerKey(gotTh);

        // KCL fixes a LATEST iterator before it initializes the shard's processor
        await()
            .atMost(Duration.ofSeconds(90))
            .until(() -> latestSource.leasedShards().size() == expectedLatest.size());
        put(k, s.stream, 200, 260, KEYS);
        List<Record> gotLatest =
            KinesisKclSourceIT.readUntil(latestSource, 60, true, Duration.ofSeconds(60));
        assertThat(KinesisKclSourceIT.values(gotLatest))
            .as("latest: only the records put after the start, once each")
            .containsExactlyInAnyOrderElementsOf(KinesisKclSourceIT.range(200, 260));
        List<Record> gotTs =
            KinesisKclSourceIT.readUntil(tsSource, 160, true, Duration.ofSeconds(60));
        assertThat(KinesisKclSourceIT.values(gotTs))
            .as("at-timestamp: the records that arrived at or after it, once each")
            .containsExactlyInAnyOrderElementsOf(KinesisKclSourceIT.range(100, 260));
        assertPutOrderPerKey(gotTs);
      } finally {
        closeAll(sources);
      }

      // a table that holds leases (with checkpoints now) is left alone
      Map<String, LeaseRow> before = leases(ddb, thApp);
      assertThat(before).as("checkpoints moved while reading").isNotEqualTo(expectedTh);
      try (KclClients clients = clients()) {
        InitialPositionInStreamExtended trim =
            InitialPositionInStreamExtended.newInitialPosition(
                software.amazon.kinesis.common.InitialPositionInStream.TRIM_HORIZON);
        KclLeaseBootstrap.Result r =
            KclLeaseBootstrap.createLeasesIfTableEmpty(
                leaseConfig(clients, thStream, thApp, "worker-c", trim),
                new StreamConfig(StreamIdentifier.singleStreamInstance(thStream), trim));
        assertThat(r.synced()).isFalse();
        assertThat(r.skipped()).isEqualTo("the lease table holds leases");
      }
      assertThat(leases(ddb, thApp)).isEqualTo(before);
    }
  }

  @Test
  void twoInstancesCreatingTheFirstLeasesAtOnceMakeEachOnceAndNeitherFails() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    // each its own clients, as two processes have
    try (KinesisClient k = kinesis.client();
        DynamoDbClient ddb = dynamo.client();
        KclClients a = clients();
        KclClients b = clients()) {
      Resharded s = reshardedStream(k, "kcl-first-race-");
      // after the split: the children (naming their parent) and the other shard
      InitialPositionInStreamExtended position =
          InitialPositionInStreamExtended.newInitialPositionAtTimestamp(
              java.util.Date.from(s.afterSplit));
      Map<String, LeaseRow> expected =
          expectedLeases(
              k,
              s.stream,
              ShardFilter.builder()
                  .type(ShardFilterType.AT_TIMESTAMP)
                  .timestamp(s.afterSplit)
                  .build(),
              "AT_TIMESTAMP");
      assertThat(expected).doesNotContainKey(s.parent).hasSize(3);
      int bothSynced = 0;
      for (int round = 0; round < ROUNDS; round++) {
        String table = "app-race-" + round + "-" + s.stream;
        CyclicBarrier together = new CyclicBarrier(2);
        List<Future<KclLeaseBootstrap.Result>> results = new ArrayList<>();
        for (KclClients clients : List.of(a, b)) {
          results.add(
              pool.submit(
                  () -> {
                    clients.ensureLeaseTable(table, Duration.ofSeconds(30));
                    LeaseManagementConfig leases =
                        leaseConfig(
                            clients, s.stream, table, "worker-" + clients.hashCode(), position);
                    StreamConfig stream =
                        new StreamConfig(StreamIdentifier.singleStreamInstance(s.stream), position);
                    together.await(30, TimeUnit.SECONDS);
                    return KclLeaseBootstrap.createLeasesIfTableEmpty(leases, stream);
                  }));
        }
        int synced = 0;
        for (Future<KclLeaseBootstrap.Result> f : results) {
          KclLeaseBootstrap.Result r = f.get(60, TimeUnit.SECONDS); // neither failed
          if (r.synced()) {
            synced++;
            assertThat(r.leases()).isEqualTo(expected.size());
          } else {
            assertThat(r.skipped()).isEqualTo("the lease table holds leases");
          }
        }
        assertThat(synced).isPositive();
        if (synced == 2) {
          bothSynced++;
        }
        assertThat(leases(ddb, table)).as("round %d", round).isEqualTo(expected);
      }
      System.out.printf(
          "event=kcl_first_start_race rounds=%d rounds_where_both_ran_the_sync=%d%n",
          ROUNDS, bothSynced);
    } finally {
      pool.shutdownNow();
    }
  }

  /** A KCL lease management config as the source makes it (the settings the shard sync uses). */
  private static LeaseManagementConfig leaseConfig(
      KclClients clients,
      String stream,
      String table,
      String worker,
      InitialPositionInStreamExtended position) {
    return new ConfigsBuilder(
            stream,
            table,
            clients.kinesis(),
            clients.dynamo(),
            clients.cloudWatch(),
            worker,
            () -> null)
        .leaseManagementConfig()
        .initialPositionInStream(position);
  }

  /** Closes the sources at once (each waits for KCL's graceful shutdown). */
  private static void closeAll(List<KinesisKclSource> sources) throws Exception {
    List<java.util.concurrent.CompletableFuture<Void>> closing = new ArrayList<>();
    for (KinesisKclSource source : sources) {
      closing.add(
          java.util.concurrent.CompletableFuture.runAsync(
              () -> {
                try {
                  source.close();
                } catch (Exception e) {
                  throw new java.util.concurrent.CompletionException(e);
                }
              }));
    }
    for (var c : closing) {
      c.get(90, TimeUnit.SECONDS);
    }
  }

  private KclClients clients() {
    return new KclClients(
        "us-east-1",
        kinesis.endpoint(),
        dynamo.endpoint(),
        "http://127.0.0.1:9",
        LocalKinesis.ACCESS_KEY,
        LocalKinesis.SECRET_KEY);
  }

  private static void assertPutOrderPerKey(List<Record> got) {
    Map<Integer, Integer> last = new HashMap<>();
    for (Record r : got) {
      int v = Integer.parseInt(r.valueAsString());
      Integer prev = last.put(v % KEYS, v);
      if (prev != null) {
        assertThat(v).as("order of key %d", v % KEYS).isGreaterThan(prev);
      }
    }
  }
}
