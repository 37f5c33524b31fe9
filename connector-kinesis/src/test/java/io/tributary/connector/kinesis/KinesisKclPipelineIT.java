package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * Real pipelines (runtime planner, checkpoint, files sink) sharing one stream through the {@code
 * kinesis-kcl} source: while two instances of one KCL application run, when the one holding the
 * leases stops, the other takes its shards and continues from the KCL checkpoint with nothing lost
 * and nothing read twice. (A crash, SIGKILL of a pipeline JVM, is {@link KinesisKclProcessKillIT}.)
 */
class KinesisKclPipelineIT {
  private final LocalKinesis kinesis = LocalKinesis.get();
  private final LocalDynamo dynamo = LocalDynamo.get();
  @TempDir Path dir;

  private Pipeline pipeline(String id, KinesisKclSource source) {
    return Pipeline.builder(id)
        .checkpointDir(dir.resolve("checkpoint-" + id))
        .batchInterval(Duration.ofMillis(200))
        .set("direct.max-records-per-partition", 40)
        .source("in", source)
        .saveAsFiles(dir.resolve("out-" + id))
        .build();
  }

  /** Every output line of pipeline {@code id}. */
  private List<Integer> lines(String id) {
    return outputLines(dir, id);
  }

  private Map<Integer, Integer> counts(String... ids) {
    return outputCounts(dir, ids);
  }

  /**
   * Every output line of pipeline {@code id} under {@code dir}/out-{@code id} (shared by the KCL
   * ITs).
   */
  static List<Integer> outputLines(Path dir, String id) {
    Path out = dir.resolve("out-" + id);
    List<Integer> all = new ArrayList<>();
    if (!Files.isDirectory(out)) {
      return all;
    }
    try (Stream<Path> files = Files.list(out)) {
      for (Path f : files.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
        for (String line : Files.readAllLines(f)) {
          all.add(Integer.parseInt(line));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return all;
  }

  /** How often each value is in the outputs of pipelines {@code ids}. */
  static Map<Integer, Integer> outputCounts(Path dir, String... ids) {
    Map<Integer, Integer> out = new HashMap<>();
    for (String id : ids) {
      outputLines(dir, id).forEach(v -> out.merge(v, 1, Integer::sum));
    }
    return out;
  }

  /** This test's values (the stream is shared, see {@link SharedKclStream}). */
  private static final int B = 200_000;

  /** Values {@code B} to {@code B + n - 1}. */
  private static Set<Integer> upTo(int n) {
    Set<Integer> out = new HashSet<>();
    for (int i = 0; i < n; i++) {
      out.add(B + i);
    }
    return out;
  }

  @Test
  void leasesMoveToTheOtherInstanceWhichContinuesFromTheCheckpoint() throws Exception {
    SharedKclStream shared = SharedKclStream.get(kinesis);
    String stream = shared.stream;
    String app = shared.app;
    try (KinesisClient k = kinesis.client()) {
      put(k, stream, B, B + 400, 40);
      Map<String, Object> c = KinesisKclSourceIT.kclConfig(kinesis, dynamo, app, stream);
      KinesisKclSource sourceA = new KinesisKclSource(KinesisOptions.KCL_SOURCE.parse(c));
      KinesisKclSource sourceB = new KinesisKclSource(KinesisOptions.KCL_SOURCE.parse(c));
      Pipeline a = pipeline("kcl-a", sourceA);
      Pipeline b = pipeline("kcl-b", sourceB);

      // 1. A alone: every record of every shard reaches the files once.
      a.start();
      await()
          .atMost(Duration.ofSeconds(120))
          .until(() -> counts("kcl-a").keySet().containsAll(upTo(400)));
      assertThat(sourceA.leasedShards()).hasSize(SharedKclStream.SHARDS);

      // 2. B joins, A stops (graceful: drains, commits, checkpoints): B takes A's shards and
      // continues exactly after A's checkpoints, so nothing is lost and nothing is read twice.
      b.start();
      put(k, stream, B + 400, B + 600, 40);
      a.stopGracefully();
      assertThat(a.awaitTermination(Duration.ofSeconds(60))).isTrue();
      put(k, stream, B + 600, B + 800, 40);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> sourceB.leasedShards().size() == SharedKclStream.SHARDS);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> counts("kcl-a", "kcl-b").keySet().containsAll(upTo(800)));
      assertThat(counts("kcl-a", "kcl-b"))
          .hasSize(800)
          .allSatisfy((v, n) -> assertThat(n).as("record " + v).isOne());
      assertThat(lines("kcl-b")).as("B read what A left").isNotEmpty();

      b.stopGracefully();
      assertThat(b.awaitTermination(Duration.ofSeconds(60))).isTrue();
    }
  }
}
