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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Shard;

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
}
