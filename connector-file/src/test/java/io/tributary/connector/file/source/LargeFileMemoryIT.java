package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory per file is bounded: the {@code files} source in a child JVM with {@code -Xmx64m} reads a
 * gzip file of 130 MB of lines and a plain file of 110 MB in one batch (before, a file's records
 * were all held in a list, so either file alone ran out of heap), each line once and in order, and
 * quarantines a file holding a 40 MB line without a terminator as {@code too-long} (only
 * max-line-length + 1 bytes of it are ever held).
 */
class LargeFileMemoryIT {
  private static final String HEAP = "-Xmx64m";
  private static final String PAD = "x".repeat(90);

  @TempDir Path tmp;

  private static void lines(OutputStream out, long n) throws IOException {
    for (long i = 0; i < n; i++) {
      out.write(("line-" + i + "-" + PAD + "\n").getBytes(StandardCharsets.US_ASCII));
    }
  }

  @Test
  void largeFilesStreamInASmallHeapAndAHugeLineIsQuarantined() throws Exception {
    Path in = Files.createDirectories(tmp.resolve("in"));
    try (OutputStream out =
        new GZIPOutputStream(
            new BufferedOutputStream(Files.newOutputStream(in.resolve("big.log.gz")), 1 << 16),
            1 << 16) {
          {
            def.setLevel(Deflater.BEST_SPEED);
          }
        }) {
      lines(out, 1_300_000);
    }
    try (OutputStream out =
        new BufferedOutputStream(Files.newOutputStream(in.resolve("big.txt")), 1 << 16)) {
      lines(out, 1_100_000);
    }
    try (OutputStream out =
        new BufferedOutputStream(Files.newOutputStream(in.resolve("long-line.txt")), 1 << 16)) {
      lines(out, 10);
      byte[] y = "y".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
      for (int i = 0; i < 40; i++) {
        out.write(y); // 40 MB, no line terminator
      }
      out.write('\n');
      lines(out, 10);
    }
    try (OutputStream out = Files.newOutputStream(in.resolve("small.txt"))) {
      lines(out, 10);
    }

    Path log = tmp.resolve("child.log");
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                HEAP,
                "-XX:+ExitOnOutOfMemoryError",
                "-cp",
                System.getProperty("java.class.path"),
                LargeFileChild.class.getName(),
                in.toString(),
                tmp.resolve("ckpt").toString())
            .redirectError(log.toFile())
            .start();
    String out;
    try {
      out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
    }
    String err = Files.readString(log);
    assertThat(child.exitValue())
        .as("child exit; stdout:\n%s\nstderr (tail):\n%s", out, tail(err))
        .isZero();
    List<String> lines = out.lines().toList();
    assertThat(lines)
        .contains(
            "LINES big.log.gz 1300000",
            "LINES big.txt 1100000",
            "LINES small.txt 10",
            "QUARANTINED long-line.txt too-long",
            "DONE")
        .noneMatch(l -> l.startsWith("LINES long-line.txt"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith("HEAP_MAX_MB ")
                    .satisfies(
                        h -> assertThat(Long.parseLong(h.substring(12))).isLessThanOrEqualTo(64)));
    assertThat(err).doesNotContain("OutOfMemoryError");
  }

  private static String tail(String s) {
    return s.length() <= 4000 ? s : s.substring(s.length() - 4000);
  }
}
