package io.tributary.connector.file.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.connector.file.checkpoint.HadoopCheckpointStorage;
import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.connector.file.sink.HadoopFileSink;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineState;
import io.tributary.core.sources.QueueSource;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real pipeline (core's replayable QueueSource → the hadoop-files sink) whose checkpoint and
 * output live on the file system under test. The first run dies after the sink published batch 2
 * but before {@code commits/2}; a second pipeline over the same checkpoint replays batch 2 with the
 * same plan. Every record must be in the output once.
 */
abstract class PipelineRecoveryContract {
  /** A fresh base directory URI; the test puts {@code checkpoint/} and {@code out/} under it. */
  abstract URI newBase();

  abstract Map<String, String> hadoop();

  static final class SimulatedCrash extends RuntimeException {
    SimulatedCrash(String where) {
      super("simulated crash " + where);
    }
  }

  /**
   * Dies instead of writing {@code crashPath}, like a process killed between the sink write and the
   * commit.
   */
  static final class CrashingStorage implements CheckpointStorage {
    private final CheckpointStorage delegate;
    private final String crashPath;

    CrashingStorage(CheckpointStorage delegate, String crashPath) {
      this.delegate = delegate;
      this.crashPath = crashPath;
    }

    @Override
    public Optional<byte[]> read(String path) throws IOException {
      return delegate.read(path);
    }

    @Override
    public void writeAtomically(String path, byte[] data) throws IOException {
      if (path.equals(crashPath)) {
        throw new SimulatedCrash("before writing " + path);
      }
      delegate.writeAtomically(path, data);
    }

    @Override
    public List<String> list(String dir) throws IOException {
      return delegate.list(dir);
    }

    @Override
    public void delete(String path) throws IOException {
      delegate.delete(path);
    }

    @Override
    public String describe() {
      return delegate.describe();
    }

    @Override
    public void close() throws IOException {
      delegate.close();
    }
  }

  private Map<String, Object> checkpointOptions() {
    Map<String, Object> m = new LinkedHashMap<>();
    hadoop().forEach((k, v) -> m.put("hadoop." + k, v));
    return m;
  }

  private Pipeline pipeline(CheckpointStorage checkpoint, URI out, QueueSource queue) {
    return Pipeline.builder("recovery")
        .batchInterval(Duration.ofMillis(100))
        .checkpoint(checkpoint)
        .source("q", queue)
        .sink("files", HadoopFileSink.builder(out).maxFileBytes(400).hadoop(hadoop()).build())
        .build();
  }

  private List<String> outputLines(FileSystem fs, URI out) throws IOException {
    List<String> lines = new ArrayList<>();
    Path dir = new Path(out);
    if (!fs.exists(dir)) {
      return lines;
    }
    for (FileStatus st : fs.listStatus(dir)) {
      if (!st.getPath().getName().startsWith(".")) {
        try (FSDataInputStream in = fs.open(st.getPath())) {
          String s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          lines.addAll(Arrays.asList(s.split("\n")));
        }
      }
    }
    return lines;
  }

  @Test
  void aBatchPublishedButNotCommittedIsReplayedWithTheSamePlanAndWrittenOnce() throws Exception {
    URI base = newBase();
    String checkpointUri = base + "/checkpoint";
    URI out = URI.create(base + "/out");
    QueueSource queue = new QueueSource(true);
    List<String> expected = new ArrayList<>();
    for (int b = 0; b < 5; b++) {
      String[] lines = new String[60];
      for (int i = 0; i < lines.length; i++) {
        lines[i] = "b" + b + "-" + i;
        expected.add(lines[i]);
      }
      queue.pushStrings(lines);
    }

    CheckpointStorage firstCheckpoint =
        CheckpointStorageFactory.open(checkpointUri, checkpointOptions());
    assertThat(firstCheckpoint).isInstanceOf(HadoopCheckpointStorage.class);
    Pipeline first = pipeline(new CrashingStorage(firstCheckpoint, "commits/2"), out, queue);
    first.start();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> first.status().state() == PipelineState.FAILED);
    assertThat(first.failure())
        .get()
        .satisfies(
            f -> {
              List<Throwable> chain = new ArrayList<>();
              for (Throwable c = f; c != null; c = c.getCause()) {
                chain.add(c);
              }
              assertThat(chain).anyMatch(c -> c instanceof SimulatedCrash);
            });
    firstCheckpoint.close();

    try (FileSystem fs = HadoopFileSystems.open(out, HadoopFileSystems.configuration(hadoop()));
        CheckpointStorage checkpoint =
            CheckpointStorageFactory.open(checkpointUri, checkpointOptions())) {
      // The crash left batch 2 planned and published, but not committed.
      assertThat(checkpoint.read("offsets/2")).isPresent();
      assertThat(checkpoint.read("commits/2")).isEmpty();
      assertThat(outputLines(fs, out)).contains("b2-0");

      Pipeline second = pipeline(checkpoint, out, queue);
      second.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> outputLines(fs, out).size() >= expected.size());
      second.stopGracefully();
      assertThat(second.status().state()).isEqualTo(PipelineState.STOPPED);

      assertThat(outputLines(fs, out)).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(checkpoint.read("commits/2")).isPresent();
      // The replayed batch 2 kept its plan: exactly the third pushed batch.
      HadoopFileSink names = HadoopFileSink.builder(out).build();
      try (FSDataInputStream in = fs.open(new Path(new Path(out), names.fileName(2, 0)))) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).startsWith("b2-0\n");
      }
    }
  }

  @Test
  void aReceiverWithTheRemoteCheckpointAndALocalWalGivesEveryAcknowledgedRecordOnce(
      @TempDir java.nio.file.Path wal) throws Exception {
    URI base = newBase();
    String checkpointUri = base + "/checkpoint";
    URI out = URI.create(base + "/out");
    AtomicInteger acked = new AtomicInteger();
    int total =
        2_400; // two seconds at the rate limit: the crash at batch 2 comes while data still flows

    // Without a local WAL directory the pipeline refuses to start: the WAL never goes to the remote
    // store.
    try (CheckpointStorage cp = CheckpointStorageFactory.open(checkpointUri, checkpointOptions())) {
      Pipeline noWal =
          Pipeline.builder("recv")
              .checkpoint(cp)
              .source("in", new ReliableCountingReceiver(total, acked))
              .sink("files", HadoopFileSink.builder(out).hadoop(hadoop()).build())
              .build();
      assertThatThrownBy(noWal::start).hasMessageContaining("walDir");
    }

    CheckpointStorage firstCheckpoint =
        CheckpointStorageFactory.open(checkpointUri, checkpointOptions());
    Pipeline first =
        receiverPipeline(new CrashingStorage(firstCheckpoint, "commits/2"), out, wal, total, acked);
    first.start();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> first.status().state() == PipelineState.FAILED);
    firstCheckpoint.close();

    try (FileSystem fs = HadoopFileSystems.open(out, HadoopFileSystems.configuration(hadoop()));
        CheckpointStorage checkpoint =
            CheckpointStorageFactory.open(checkpointUri, checkpointOptions())) {
      assertThat(checkpoint.read("offsets/2")).isPresent();
      assertThat(checkpoint.read("commits/2")).isEmpty();
      Pipeline second = receiverPipeline(checkpoint, out, wal, total, acked);
      second.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> acked.get() == total);
      await().atMost(Duration.ofSeconds(60)).until(() -> outputLines(fs, out).size() >= total);
      second.stopGracefully();
      assertThat(outputLines(fs, out))
          .containsExactlyInAnyOrderElementsOf(
              IntStream.range(0, total).mapToObj(ReliableCountingReceiver::line).toList());
    }
  }

  private Pipeline receiverPipeline(
      CheckpointStorage cp, URI out, java.nio.file.Path wal, int total, AtomicInteger acked) {
    return Pipeline.builder("recv")
        .batchInterval(Duration.ofMillis(100))
        .set("block-interval", "20ms")
        .set("receiver.max-rate", 1_200)
        .checkpoint(cp)
        .walDir(wal)
        .source("in", new ReliableCountingReceiver(total, acked))
        .sink("files", HadoopFileSink.builder(out).maxFileBytes(2_000).hadoop(hadoop()).build())
        .build();
  }

  /** The publish mode the checkpoint must use on this file system. */
  abstract PublishMode expectedCheckpointMode();

  @Test
  void theCheckpointUsesTheAtomicWriteOfItsFileSystem() throws Exception {
    try (CheckpointStorage c =
        CheckpointStorageFactory.open(newBase() + "/checkpoint", checkpointOptions())) {
      assertThat(((HadoopCheckpointStorage) c).publishMode()).isEqualTo(expectedCheckpointMode());
    }
  }
}
