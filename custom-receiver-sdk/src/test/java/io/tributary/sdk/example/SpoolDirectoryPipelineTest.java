package io.tributary.sdk.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineState;
import io.tributary.core.sinks.RollingFileSink;
import io.tributary.sdk.PollingReceiver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example in a real {@link Pipeline} (write-ahead log, checkpoint, {@link RollingFileSink}):
 * every line lands in the output exactly once although the first pipeline is stopped abruptly
 * mid-stream ({@code stopNow()}, abandoning the batch in flight and, most likely, a file half
 * stored and not moved).
 */
class SpoolDirectoryPipelineTest {
  @TempDir Path tmp;

  private Pipeline pipeline(Path spool, Path out) {
    SpoolDirectoryReceiver receiver =
        new SpoolDirectoryReceiver(
            spool, 50, 1024 * 1024, Duration.ofMillis(20), PollingReceiver.Settings.defaults());
    return Pipeline.builder("spool")
        .checkpointDir(tmp.resolve("checkpoint"))
        .batchInterval(Duration.ofMillis(50))
        .set("block-interval", "20ms")
        .set("receiver.max-rate", 5_000) // slow enough that the stop below lands mid-stream
        .source("spool", receiver)
        .sink("files", RollingFileSink.builder(out).maxFileBytes(4_000).fsync(false).build())
        .build();
  }

  private static List<String> writeFiles(Path spool, int first, int count, int lines)
      throws IOException {
    List<String> all = new ArrayList<>();
    for (int f = first; f < first + count; f++) {
      List<String> content = new ArrayList<>();
      for (int l = 0; l < lines; l++) {
        content.add("file" + f + "-line" + l);
      }
      String name = String.format("part-%04d.log", f);
      Files.write(spool.resolve(name + ".tmp"), content);
      Files.move(spool.resolve(name + ".tmp"), spool.resolve(name), StandardCopyOption.ATOMIC_MOVE);
      all.addAll(content);
    }
    return all;
  }

  private static long doneFiles(Path spool) throws IOException {
    Path done = spool.resolve(SpoolDirectoryReceiver.DONE_DIR);
    if (!Files.isDirectory(done)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(done)) {
      return s.count();
    }
  }

  private static List<String> outputLines(Path out) throws IOException {
    List<String> lines = new ArrayList<>();
    if (!Files.isDirectory(out)) {
      return lines;
    }
    try (Stream<Path> s = Files.list(out)) {
      for (Path p : s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList()) {
        lines.addAll(Files.readAllLines(p));
      }
    }
    return lines;
  }

  @Test
  void everyLineExactlyOnceAcrossAnAbruptStopAndRestart() throws Exception {
    Path spool = Files.createDirectories(tmp.resolve("spool"));
    Path out = tmp.resolve("out");
    List<String> expected = new ArrayList<>(writeFiles(spool, 0, 10, 300));

    Pipeline first = pipeline(spool, out);
    first.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> doneFiles(spool) >= 2);
    first.stopNow();
    assertThat(first.status().state()).isEqualTo(PipelineState.STOPPED);
    assertThat(doneFiles(spool)).as("the stop landed mid-stream").isLessThan(10);

    expected.addAll(writeFiles(spool, 10, 3, 300));
    Pipeline second = pipeline(spool, out);
    second.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> doneFiles(spool) == 13);
    await().atMost(Duration.ofSeconds(30)).until(() -> outputLines(out).size() >= expected.size());
    second.stopGracefully();

    assertThat(outputLines(out)).containsExactlyInAnyOrderElementsOf(expected);
    try (Stream<Path> left = Files.list(spool)) {
      assertThat(left.map(p -> p.getFileName().toString()))
          .containsExactly(SpoolDirectoryReceiver.DONE_DIR);
    }
  }
}
