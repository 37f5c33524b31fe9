package io.tributary.sdk.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import io.tributary.core.sinks.RollingFileSink;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example in a real pipeline (WAL, checkpoint, idempotent file sink): every line exactly once across a stop. */
class SpoolDirectoryPipelineTest {
  @TempDir Path tmp;

  private Pipeline pipeline(Path spool, Path checkpoint, Path out) {
    return Pipeline.builder("spool-test")
        .checkpointDir(checkpoint)
        .batchInterval(Duration.ofMillis(100))
        .source("spool", new SpoolDirectoryReceiver(spool, 100, Duration.ofSeconds(1), Duration.ofMillis(20)))
        .sink("files", RollingFileSink.builder(out).build())
        .build();
  }

  private static List<String> writeFiles(Path spool, int fromFile, int files, int linesPerFile) throws IOException {
    List<String> all = new ArrayList<>();
    for (int f = fromFile; f < fromFile + files; f++) {
      String name = String.format("part-%04d.txt", f);
      List<String> lines = new ArrayList<>();
      for (int i = 1; i <= linesPerFile; i++) {
        lines.add(name + ":" + i);
      }
      SpoolDirectoryReceiverTest.writeFile(spool, name, lines);
      all.addAll(lines);
    }
    return all;
  }

  private static List<String> output(Path out) throws IOException {
    List<String> lines = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(out)) {
      for (Path p : ds) {
        if (!p.getFileName().toString().startsWith(".")) {
          lines.addAll(Files.readAllLines(p, StandardCharsets.UTF_8));
        }
      }
    }
    return lines;
  }

  @Test
  void everyLineExactlyOnceAcrossStopNowAndANewPipeline() throws Exception {
    Path spool = Files.createDirectories(tmp.resolve("spool"));
    Path checkpoint = tmp.resolve("checkpoint");
    Path out = Files.createDirectories(tmp.resolve("out"));
    List<String> expected = new ArrayList<>(writeFiles(spool, 0, 5, 250));

    Pipeline first = pipeline(spool, checkpoint, out);
    first.start();
    try {
      // Stop abruptly while some files are still waiting, so the second run has both WAL replay and new work.
      await().atMost(Duration.ofSeconds(30)).until(() -> !output(out).isEmpty());
      expected.addAll(writeFiles(spool, 5, 5, 250));
    } finally {
      first.stopNow();
    }

    expected.addAll(writeFiles(spool, 10, 3, 250));
    Pipeline second = pipeline(spool, checkpoint, out);
    second.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> output(out).size() >= expected.size());
      await().atMost(Duration.ofSeconds(30)).until(() -> isEmptyOfCompleteFiles(spool));
      // Let the pipeline commit what it holds, then compare.
      second.stopGracefully();
      List<String> got = output(out);
      assertThat(got).as("every line exactly once").hasSameSizeAs(expected).containsExactlyInAnyOrderElementsOf(expected);
    } finally {
      second.stopNow();
    }
  }

  private static boolean isEmptyOfCompleteFiles(Path spool) throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(spool)) {
      for (Path p : ds) {
        if (Files.isRegularFile(p) && SpoolDirectoryReceiver.isComplete(p.getFileName().toString())) {
          return false;
        }
      }
    }
    return true;
  }
}
