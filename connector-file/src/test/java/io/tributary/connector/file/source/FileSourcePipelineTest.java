package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.connector.file.FileSource;
import io.tributary.core.runtime.Pipeline;
import io.tributary.core.sinks.RollingFileSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file source in a real pipeline on the local file system, stopped abruptly and restarted. */
class FileSourcePipelineTest {
  @TempDir Path tmp;

  static List<String> outputLines(Path out) {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> files = Files.list(out)) {
      for (Path f :
          files.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList()) {
        lines.addAll(Files.readAllLines(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return lines;
  }

  Pipeline pipeline(Path in, Path ckpt, Path out) {
    return Pipeline.builder("files-restart")
        .checkpointDir(ckpt)
        .batchInterval(Duration.ofMillis(50))
        .source(
            "files",
            FileSource.of(
                Map.of("paths", in.toString(), "max-files-per-batch", 7, "include-existing", true)))
        .sink("out", RollingFileSink.builder(out).build())
        .build();
  }

  @Test
  void restartsMissNothingAndRepeatNothing() throws Exception {
    Path in = Files.createDirectories(tmp.resolve("in"));
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path ckpt = tmp.resolve("ckpt");
    List<String> expected = new ArrayList<>();
    int file = 0;
    for (int round = 0; round < 4; round++) {
      Pipeline p = pipeline(in, ckpt, out);
      p.start();
      for (int k = 0; k < 15; k++, file++) {
        StringBuilder sb = new StringBuilder();
        for (int line = 0; line < 5; line++) {
          String l = "f" + file + "-l" + line;
          sb.append(l).append('\n');
          expected.add(l);
        }
        Path t = in.resolve(".f" + file + ".tmp");
        Files.writeString(t, sb.toString());
        Files.move(t, in.resolve("f" + file + ".txt"), StandardCopyOption.ATOMIC_MOVE);
      }
      if (round % 2 == 0) {
        // abrupt stop at some point while files are still arriving/being read
        p.stopNow();
      } else {
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> outputLines(out).size() == expected.size());
        p.stopGracefully();
      }
      assertThat(p.failure()).isEmpty();
    }
    Pipeline p = pipeline(in, ckpt, out);
    p.start();
    try {
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> outputLines(out).size() >= expected.size());
      assertThat(outputLines(out)).containsExactlyInAnyOrderElementsOf(expected);
    } finally {
      p.stopGracefully();
    }
  }
}
