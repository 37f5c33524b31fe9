package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.baseConfig;
import static io.tributary.connector.kinesis.KinesisTestSupport.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * A real pipeline (the runtime's planner, checkpoint and engine) from a Kinesis stream into files:
 * range ends fixed while planning, a split during the run, an abrupt stop and a restart on the same
 * checkpoint, and every record in the output exactly once.
 */
class KinesisPipelineIT {
  private final LocalKinesis kinesis = LocalKinesis.get();
  @TempDir Path checkpoint;
  @TempDir Path out;

  private Pipeline pipeline(String stream) {
    Map<String, Object> c = baseConfig(kinesis.endpoint(), stream);
    c.put("starting-position", "trim_horizon");
    return Pipeline.builder("kinesis-files")
        .checkpointDir(checkpoint)
        .batchInterval(Duration.ofMillis(200))
        .set("direct.max-records-per-partition", 60)
        .source("in", new KinesisDirectSource(KinesisTestSupport.sourceConfig(c)))
        .saveAsFiles(out)
        .build();
  }

  private List<String> lines() {
    List<String> all = new ArrayList<>();
    try (Stream<Path> files = Files.list(out)) {
      for (Path f : files.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
        all.addAll(Files.readAllLines(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return all;
  }

  @Test
  void everyRecordReachesTheFilesOnceAcrossASplitAndAnAbruptRestart() throws Exception {
    String stream = "pipe-" + System.nanoTime();
    try (KinesisClient k = kinesis.client()) {
      LocalKinesis.createStream(k, stream, 2);
      put(k, stream, 0, 600, 30);
      Pipeline first = pipeline(stream);
      first.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> lines().size() >= 200);
      Shard s0 = k.listShards(b -> b.streamName(stream)).shards().get(0);
      BigInteger lo = new BigInteger(s0.hashKeyRange().startingHashKey());
      BigInteger hi = new BigInteger(s0.hashKeyRange().endingHashKey());
      k.splitShard(
          b ->
              b.streamName(stream)
                  .shardToSplit(s0.shardId())
                  .newStartingHashKey(lo.add(hi).shiftRight(1).toString()));
      LocalKinesis.awaitActive(k, stream);
      put(k, stream, 600, 900, 30);
      first.stopNow();
      assertThat(first.awaitTermination(Duration.ofSeconds(30))).isTrue();

      Pipeline second = pipeline(stream);
      second.start();
      put(k, stream, 900, 1000, 30);
      await().atMost(Duration.ofSeconds(90)).until(() -> lines().size() >= 1000);
      second.stopGracefully();
      assertThat(second.awaitTermination(Duration.ofSeconds(30))).isTrue();
    }
    List<Integer> values = lines().stream().map(Integer::parseInt).sorted().toList();
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      expected.add(i);
    }
    assertThat(values).containsExactlyElementsOf(expected);
  }
}
