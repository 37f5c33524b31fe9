package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.baseConfig;
import static io.tributary.connector.kinesis.KinesisTestSupport.batch;
import static io.tributary.connector.kinesis.KinesisTestSupport.put;
import static io.tributary.connector.kinesis.KinesisTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.Record;
import io.tributary.core.internal.DirectPlanner;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * The direct {@code kinesis} source on kinesalite, whose sequence numbers have a structure it
 * checks (a number one past a record's is refused with InvalidArgumentException, as AWS refuses a
 * sequence number it did not hand out).
 */
class KinesaliteDirectSourceIT {

  /**
   * A closed shard read to its end is checkpointed at the number after its last record's. A
   * restarted source plans it from there again (its end is known only by reading): the refused
   * AT_SEQUENCE_NUMBER must turn into AFTER_SEQUENCE_NUMBER of the last record, an empty range, not
   * a failed pipeline.
   */
  @Test
  void aRestartedSourcePlansAClosedShardFromTheEndItWasReadTo() throws Exception {
    String stream = "direct-end-" + System.nanoTime();
    try (LocalKinesalite kinesalite = LocalKinesalite.start();
        KinesisClient k = LocalKinesis.client(kinesalite.endpoint())) {
      LocalKinesis.createStream(k, stream, 1);
      put(k, stream, 0, 50, 5);
      Shard parent = LocalKinesis.splitFirstShard(k, stream);
      put(k, stream, 50, 100, 5);
      Map<String, Object> c = baseConfig(kinesalite.endpoint(), stream);
      c.put("starting-position", "trim_horizon");
      KinesisDirectSource first = KinesisTestSupport.open(c);
      List<Record> all = new ArrayList<>();
      DirectPlanner planner = new DirectPlanner(0, 0, 1000);
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () -> {
                all.addAll(batch(planner, first, 0).records());
                return all.size() >= 100;
              });
      assertThat(values(all)).hasSize(100);
      PartitionInfo closed =
          first.partitions().stream()
              .filter(p -> p.id().equals(parent.shardId()))
              .findFirst()
              .orElseThrow();
      assertThat(closed.closed()).as("parent read to its end").isTrue();
      Position end = closed.endPosition();
      first.close();

      KinesisDirectSource restarted = KinesisTestSupport.open(c);
      try {
        assertThat(restarted.fixRangeEnd(parent.shardId(), end, 1000, Long.MAX_VALUE))
            .as("nothing after the end")
            .isEqualTo(end);
        assertThat(restarted.partitions())
            .filteredOn(p -> p.id().equals(parent.shardId()))
            .singleElement()
            .satisfies(p -> assertThat(p.closed()).isTrue());
      } finally {
        restarted.close();
      }
    }
  }

  /**
   * kinesalite 3.3.3 never answers GetShardIterator AT_TIMESTAMP when no record of the shard
   * arrived at or after the timestamp; AWS answers with an iterator at the shard's tip. The dedup
   * window's read-back asks exactly that of a parent shard whose records are all older than the
   * window (a reader gateway of it/KinesisDedupRoundTripCrashIT hung 130 s in it, then failed the
   * test). Our wrapper (testservers/kinesalite-server.js) answers as AWS does; each call here is
   * bounded well below the SDK's timeouts, so a request without an answer fails the test.
   */
  @Test
  void atTimestampAfterEveryRecordOfAShardAnswersWithAnIteratorAtItsTip() throws Exception {
    String stream = "at-ts-" + System.nanoTime();
    ExecutorService calls = Executors.newSingleThreadExecutor();
    try (LocalKinesalite kinesalite = LocalKinesalite.start();
        KinesisClient k = LocalKinesis.client(kinesalite.endpoint())) {
      LocalKinesis.createStream(k, stream, 1);
      put(k, stream, 0, 10, 5);
      Shard parent = LocalKinesis.splitFirstShard(k, stream);
      List<software.amazon.awssdk.services.kinesis.model.Record> old =
          k.getRecords(
                  b ->
                      b.shardIterator(
                          k.getShardIterator(
                                  i ->
                                      i.streamName(stream)
                                          .shardId(parent.shardId())
                                          .shardIteratorType(ShardIteratorType.TRIM_HORIZON))
                              .shardIterator()))
              .records();
      assertThat(old).hasSize(10);
      Instant first = old.get(0).approximateArrivalTimestamp();
      Instant afterAll = old.get(old.size() - 1).approximateArrivalTimestamp().plusMillis(1);
      await().atMost(Duration.ofSeconds(5)).until(() -> Instant.now().isAfter(afterAll));

      // a closed shard: an iterator, no records, and its end (the children)
      GetRecordsResponse closed =
          bounded(
              calls,
              () -> k.getRecords(b -> b.shardIterator(atTimestamp(k, stream, parent, afterAll))));
      assertThat(closed.records()).isEmpty();
      assertThat(closed.nextShardIterator()).as("closed shard's end").isNull();
      assertThat(closed.childShards()).hasSize(2);

      // a record at or after the timestamp: kinesalite's own answer, from that record
      assertThat(
              bounded(
                      calls,
                      () ->
                          k.getRecords(b -> b.shardIterator(atTimestamp(k, stream, parent, first))))
                  .records())
          .hasSize(10);

      // an open shard: the iterator is at its tip, so a record put afterwards is read
      Shard child =
          k.listShards(b -> b.streamName(stream)).shards().stream()
              .filter(s -> parent.shardId().equals(s.parentShardId()))
              .findFirst()
              .orElseThrow();
      Instant now = Instant.now();
      String tip = bounded(calls, () -> atTimestamp(k, stream, child, now));
      k.putRecord(
          b ->
              b.streamName(stream)
                  .explicitHashKey(child.hashKeyRange().startingHashKey())
                  .partitionKey("x")
                  .data(SdkBytes.fromUtf8String("after")));
      assertThat(k.getRecords(b -> b.shardIterator(tip)).records())
          .extracting(r -> r.data().asUtf8String())
          .containsExactly("after");
    } finally {
      calls.shutdownNow();
    }
  }

  private static String atTimestamp(KinesisClient k, String stream, Shard shard, Instant t) {
    return k.getShardIterator(
            i ->
                i.streamName(stream)
                    .shardId(shard.shardId())
                    .shardIteratorType(ShardIteratorType.AT_TIMESTAMP)
                    .timestamp(t))
        .shardIterator();
  }

  /** {@code call}'s result, or a failure when it takes more than 10 s (no answer). */
  private static <T> T bounded(ExecutorService calls, Callable<T> call) throws Exception {
    try {
      return calls.submit(call).get(10, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("kinesalite did not answer within 10 s", e);
    }
  }
}
