package io.tributary.connector.kinesis;

import static io.tributary.connector.kinesis.KinesisTestSupport.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * Two pipeline JVMs share the stream through the {@code kinesis-kcl} source; the one holding the
 * leases is SIGKILLed (no shutdown at all: leases and, when it was KCL's leader, the leader lock
 * are left to expire), and the other takes every shard over and goes on with nothing lost.
 */
class KinesisKclProcessKillIT {
  private final LocalKinesis kinesis = LocalKinesis.get();
  private final LocalDynamo dynamo = LocalDynamo.get();
  private final List<Process> processes = new ArrayList<>();
  @TempDir Path dir;

  private static final int B = 300_000;

  private Process start(String id, SharedKclStream shared) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "-Daws.cborEnabled=false",
                KclWorkerMain.class.getName(),
                id,
                shared.app,
                shared.stream,
                kinesis.endpoint(),
                dynamo.endpoint(),
                dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(id + ".log").toFile())
            .start();
    processes.add(p);
    return p;
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    for (Process p : processes) {
      p.destroyForcibly();
      p.waitFor();
    }
  }

  private List<Integer> lines(String id) {
    return KinesisKclPipelineIT.outputLines(dir, id);
  }

  private Map<Integer, Integer> counts(String... ids) {
    return KinesisKclPipelineIT.outputCounts(dir, ids);
  }

  private static Set<Integer> values(int from, int until) {
    Set<Integer> out = new HashSet<>();
    for (int i = from; i < until; i++) {
      out.add(B + i);
    }
    return out;
  }

  @Test
  void survivorTakesEveryShardAfterTheOwnerIsKilled() throws Exception {
    SharedKclStream shared = SharedKclStream.get(kinesis);
    try (KinesisClient k = kinesis.client()) {
      put(k, shared.stream, B, B + 300, 30);
      Process first = start("kill-1", shared);
      await()
          .atMost(Duration.ofSeconds(120))
          .until(() -> counts("kill-1").keySet().containsAll(values(0, 300)));
      start("kill-2", shared);
      put(k, shared.stream, B + 300, B + 400, 30);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> counts("kill-1", "kill-2").keySet().containsAll(values(0, 400)));
      first.destroyForcibly(); // SIGKILL
      first.waitFor();
      put(k, shared.stream, B + 400, B + 600, 30);
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> counts("kill-1", "kill-2").keySet().containsAll(values(0, 600)));
    }
    Map<Integer, Integer> all = counts("kill-1", "kill-2");
    assertThat(all.keySet()).isEqualTo(values(0, 600));
    assertThat(lines("kill-2")).as("the survivor read the killed one's shards").isNotEmpty();
    // at-least-once across a kill: only records the killed JVM had written may come twice
    Set<Integer> fromFirst = new HashSet<>(lines("kill-1"));
    assertThat(counts("kill-2")).allSatisfy((v, n) -> assertThat(n).as("record " + v).isOne());
    all.forEach(
        (v, n) -> {
          if (n > 1) {
            assertThat(fromFirst).as("duplicate " + v).contains(v);
          }
        });
  }
}
