package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * Resharding under the {@code kinesis-kcl} source: a shard is split and the two children are merged
 * while a real pipeline reads the stream through KCL (polling retrieval; kinesis-mock's enhanced
 * fan-out does not carry resharding). KCL's lease graph starts a child only after its parents
 * reached SHARD_END, which the source checkpoints only once their records committed: every record
 * arrives once, per key in put order, and each child's first record after its parents' last.
 *
 * <p>Its own stream and KCL application (resharding the stream of {@link SharedKclStream} would
 * change the other tests' shards).
 */
class KinesisKclReshardIT {
  private static final int KEYS = 20;
  private final LocalKinesis kinesis = LocalKinesis.get();
  private final LocalDynamo dynamo = LocalDynamo.get();
  @TempDir Path dir;

  /** A record as the pipeline received it. */
  private record Seen(String shard, int value) {}

  @Test
  void splitAndMergeMidStreamEveryRecordOnceChildrenAfterTheirParents() throws Exception {
    String stream = "kcl-reshard-" + System.nanoTime();
    try (KinesisClient k = kinesis.client()) {
      splitAndMergeWhileReading(k, kinesis.endpoint(), dynamo, stream, dir);
    }
  }

  /**
   * The scenario on any Kinesis server ({@code k} and {@code endpoint} name the same one): a
   * 2-shard stream, shard 0 split while its records are read, the children merged, 700 records put
   * around the two; every record once, per key in order, children after their parents. Returns the
   * parent, its two children and the merged shard, in that order.
   */
  static List<Shard> splitAndMergeWhileReading(
      KinesisClient k, String endpoint, LocalDynamo dynamo, String stream, Path dir)
      throws Exception {
    LocalKinesis.createStream(k, stream, 2);
    put(k, stream, 0, 300, KEYS);
    Map<String, Object> c = KinesisKclSourceIT.kclConfig(endpoint, dynamo, "app-" + stream, stream);
    KinesisKclSource source = new KinesisKclSource(KinesisOptions.KCL_SOURCE.parse(c));
    List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
    Pipeline p =
        Pipeline.builder("kcl-reshard")
            .checkpointDir(dir.resolve("checkpoint"))
            .batchInterval(Duration.ofMillis(200))
            // small ranges: the parent still has unread records when it is split
            .set("direct.max-records-per-partition", 10)
            .source("in", source)
            .foreachBatch(
                (id, records) ->
                    records.forEach(
                        r ->
                            seen.add(
                                new Seen(
                                    r.position().partition(),
                                    Integer.parseInt(r.valueAsString())))))
            .build();
    p.start();
    try {
      await().atMost(Duration.ofSeconds(120)).until(() -> !seen.isEmpty());
      Shard parent = LocalKinesis.splitFirstShard(k, stream);
      put(k, stream, 300, 500, KEYS);
      List<Shard> children =
          k.listShards(b -> b.streamName(stream)).shards().stream()
              .filter(s -> parent.shardId().equals(s.parentShardId()))
              .toList();
      assertThat(children).hasSize(2);
      k.mergeShards(
          b ->
              b.streamName(stream)
                  .shardToMerge(children.get(0).shardId())
                  .adjacentShardToMerge(children.get(1).shardId()));
      LocalKinesis.awaitActive(k, stream);
      put(k, stream, 500, 700, KEYS);
      Shard merged =
          k.listShards(b -> b.streamName(stream)).shards().stream()
              .filter(s -> children.get(0).shardId().equals(s.parentShardId()))
              .findFirst()
              .orElseThrow();

      await()
          .atMost(Duration.ofSeconds(120))
          .until(
              () -> {
                synchronized (seen) {
                  return seen.stream().map(Seen::value).distinct().count() >= 700;
                }
              });
      List<Seen> all;
      synchronized (seen) {
        all = new ArrayList<>(seen);
      }
      assertThat(all.stream().map(Seen::value).toList())
          .as("every record once")
          .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 700).boxed().toList());
      Map<Integer, Integer> last = new HashMap<>();
      for (Seen s : all) {
        Integer prev = last.put(s.value % KEYS, s.value);
        if (prev != null) {
          assertThat(s.value).as("order of key %d", s.value % KEYS).isGreaterThan(prev);
        }
      }
      List<String> order = all.stream().map(Seen::shard).toList();
      int parentLast = order.lastIndexOf(parent.shardId());
      for (Shard child : children) {
        assertThat(order).contains(child.shardId());
        assertThat(order.indexOf(child.shardId()))
            .as("first record of child %s after the parent's last", child.shardId())
            .isGreaterThan(parentLast);
        assertThat(order.indexOf(merged.shardId()))
            .as("first record of the merged shard after its parent %s's last", child.shardId())
            .isGreaterThan(order.lastIndexOf(child.shardId()));
      }
      return List.of(parent, children.get(0), children.get(1), merged);
    } finally {
      p.stopGracefully();
      assertThat(p.awaitTermination(Duration.ofSeconds(60))).isTrue();
    }
  }
}
