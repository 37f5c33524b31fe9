package io.tributary.connector.file.tail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.connector.file.FileVanishedException;
import io.tributary.connector.file.RecordTooLongException;
import io.tributary.connector.file.TailSource;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code files-tail} source with real writers: a shell appending half lines, logrotate rotating
 * by rename and by copytruncate while a program appends, truncation in place, a crash between plan
 * and commit with a rotation while down. Each case: every line exactly once, no partial line.
 */
class TailSourceTest {
  @TempDir Path tmp;

  Path dir() throws IOException {
    return Files.createDirectories(tmp.resolve("logs"));
  }

  Map<String, Object> options(Path dir, String pattern) {
    Map<String, Object> o = new HashMap<>();
    o.put("paths", List.of(dir.toString()));
    o.put("file-pattern", pattern);
    return o;
  }

  static String line(String file, int i) {
    return file + "-line-" + String.format("%06d", i) + "-" + "x".repeat(i % 37);
  }

  static void append(Path f, String text) throws IOException {
    Files.writeString(
        f, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  static void assertExactlyOnce(List<String> got, List<String> expected) {
    Map<String, Integer> counts = new HashMap<>();
    got.forEach(l -> counts.merge(l, 1, Integer::sum));
    List<String> dup =
        counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
    List<String> missing = expected.stream().filter(l -> !counts.containsKey(l)).toList();
    assertThat(dup).as("duplicated lines").isEmpty();
    assertThat(missing).as("missing lines").isEmpty();
    assertThat(counts.keySet())
        .as("only lines written")
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  /** Runs batches until {@code expected.size()} lines were read (and the writer is done). */
  static List<String> drain(TailHarness h, CompletableFuture<?> writer, int expected) {
    List<String> got = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(5))
        .until(
            () -> {
              got.addAll(h.batch());
              if (writer.isDone()) {
                writer.get(); // rethrows a writer failure
              }
              return writer.isDone() && got.size() >= expected;
            });
    return got;
  }

  @Test
  void aShellAppendingHalfLinesIsReadLineByLineOnlyCompleteLines() throws Exception {
    Path dir = dir();
    Path log = dir.resolve("app.log");
    int n = 400;
    // Each line in two writes (printf >>): the source sees files ending in half a line.
    Process sh =
        new ProcessBuilder(
                "sh",
                "-c",
                "i=0; while [ $i -lt "
                    + n
                    + " ]; do printf 'sh-line-%06d' $i >> app.log; printf -- '-tail\\n' >> app.log;"
                    + " i=$((i+1)); done")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .start();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      expected.add(String.format("sh-line-%06d-tail", i));
    }
    try (TailHarness h = new TailHarness(options(dir, "*.log"), tmp.resolve("ckpt"))) {
      List<String> got = drain(h, sh.onExit(), n);
      assertThat(sh.exitValue()).isZero();
      assertThat(got).allMatch(l -> l.matches("sh-line-\\d{6}-tail"), "complete lines only");
      assertThat(got).containsExactlyElementsOf(expected); // one file: in order
      assertThat(h.source.followedFiles()).containsOnlyKeys("t0");
    }
  }

  /**
   * A program appending one line per write (opening the file by name each time, as loggers that
   * reopen do) and running logrotate itself every {@code every} lines, so no line is written
   * between logrotate's copy and its truncation (copytruncate loses such lines by design).
   */
  CompletableFuture<Void> appenderWithLogrotate(
      Path dir, String directive, int lines, int every, List<String> expected) throws IOException {
    Path conf = tmp.resolve("logrotate.conf");
    Files.writeString(
        conf,
        dir.resolve("app.log")
            + " {\n  rotate 50\n  missingok\n  nocompress\n  "
            + directive
            + "\n}\n");
    Path status = tmp.resolve("logrotate.status");
    for (int i = 0; i < lines; i++) {
      expected.add(line("app", i));
    }
    return CompletableFuture.runAsync(
        () -> {
          try {
            for (int i = 0; i < lines; i++) {
              append(dir.resolve("app.log"), line("app", i) + "\n");
              if (i % every == every - 1) {
                Process p =
                    new ProcessBuilder("logrotate", "-f", "-s", status.toString(), conf.toString())
                        .redirectErrorStream(true)
                        .start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                  throw new IllegalStateException("logrotate failed: " + out);
                }
              }
            }
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        });
  }

  @Test
  void logrotateRenamingTheFileWhileItIsAppendedTo() throws Exception {
    Path dir = dir();
    List<String> expected = new ArrayList<>();
    try (TailHarness h = new TailHarness(options(dir, "app.log*"), tmp.resolve("ckpt"))) {
      CompletableFuture<Void> writer = appenderWithLogrotate(dir, "create", 3000, 700, expected);
      List<String> got = drain(h, writer, expected.size());
      assertExactlyOnce(got, expected);
      assertThat(Files.exists(dir.resolve("app.log.4"))).as("rotated 4 times").isTrue();
      // app.log and its 4 rotations, each one followed file (inode kept by the rename).
      assertThat(h.source.followedFiles()).hasSize(5);
      assertThat(h.counter("tributary.files.tail.discovered")).isEqualTo(5);
    }
  }

  @Test
  void logrotateCopytruncateWhileTheFileIsAppendedTo() throws Exception {
    Path dir = dir();
    List<String> expected = new ArrayList<>();
    try (TailHarness h = new TailHarness(options(dir, "app.log*"), tmp.resolve("ckpt"))) {
      CompletableFuture<Void> writer =
          appenderWithLogrotate(dir, "copytruncate", 3000, 700, expected);
      List<String> got = drain(h, writer, expected.size());
      assertExactlyOnce(got, expected);
      assertThat(Files.exists(dir.resolve("app.log.4"))).isTrue();
      assertThat(h.counter("tributary.files.tail.discovered")).isEqualTo(5);
    }
  }

  @Test
  void theCopyOfCopytruncateIsFollowedAtTheReadPositionAndTheTruncatedFileAfresh()
      throws Exception {
    Path dir = dir();
    Path log = dir.resolve("app.log");
    List<String> expected = new ArrayList<>();
    StringBuilder first = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      first.append(line("a", i)).append('\n');
      expected.add(line("a", i));
    }
    append(log, first.toString());
    try (TailHarness h = new TailHarness(options(dir, "app.log*"), tmp.resolve("ckpt"))) {
      List<String> got = new ArrayList<>(h.batch());
      assertThat(got).hasSize(100);
      // More lines, not read yet; then copytruncate by hand (cp, truncate) and new lines.
      StringBuilder more = new StringBuilder();
      for (int i = 100; i < 150; i++) {
        more.append(line("a", i)).append('\n');
        expected.add(line("a", i));
      }
      append(log, more.toString());
      // The copy being written (half of it) is not a new file.
      byte[] all = Files.readAllBytes(log);
      Files.write(dir.resolve("app.log.1"), java.util.Arrays.copyOf(all, 300));
      got.addAll(h.batch());
      assertThat(h.source.followedFiles()).containsOnlyKeys("t0");
      Files.write(dir.resolve("app.log.1"), all);
      got.addAll(h.batch());
      assertThat(h.source.followedFiles()).containsOnlyKeys("t0");
      Files.write(log, new byte[0], StandardOpenOption.TRUNCATE_EXISTING);
      for (int i = 0; i < 30; i++) {
        append(log, line("b", i) + "\n");
        expected.add(line("b", i));
      }
      got.addAll(h.batch());
      got.addAll(h.batch());
      assertExactlyOnce(got, expected);
      assertThat(h.source.followedFiles())
          .containsEntry("t0", dir.resolve("app.log.1").toString())
          .containsEntry("t1", log.toString());
      assertThat(h.counter("tributary.files.tail.truncated")).isEqualTo(1);
    }
  }

  @Test
  void aFileTruncatedInPlaceIsReadAgainFromItsFirstByteAsANewFile() throws Exception {
    Path dir = dir();
    Path log = dir.resolve("app.log");
    append(log, line("a", 0) + "\n" + line("a", 1) + "\n");
    try (TailHarness h = new TailHarness(options(dir, "*.log"), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).containsExactly(line("a", 0), line("a", 1));
      Files.writeString(log, line("b", 0) + "\n" + line("b", 1) + "\n" + line("b", 2) + "\n");
      List<String> got = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        got.addAll(h.batch());
      }
      assertThat(got).containsExactly(line("b", 0), line("b", 1), line("b", 2));
      assertThat(h.counter("tributary.files.tail.truncated")).isEqualTo(1);
      // The old partition, gone, is closed at its read position and forgotten.
      assertThat(h.source.followedFiles()).containsOnlyKeys("t1");
      assertThat(h.counter("tributary.files.tail.unread-bytes")).isZero();
    }
  }

  @Test
  void aCrashBetweenPlanAndCommitReplaysTheSameBytesAlsoAfterARotationWhileDown() throws Exception {
    Path dir = dir();
    Path log = dir.resolve("app.log");
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      append(log, line("a", i) + "\n");
      expected.add(line("a", i));
    }
    List<String> output = new ArrayList<>();
    List<OffsetRange> uncommitted;
    try (TailHarness h = new TailHarness(options(dir, "app.log*"), tmp.resolve("ckpt"))) {
      output.addAll(h.batch()); // committed
      for (int i = 100; i < 200; i++) {
        append(log, line("a", i) + "\n");
        expected.add(line("a", i));
      }
      append(log, "half a li"); // not a line yet
      uncommitted = h.plan(); // offsets/N written; the process dies before commits/N
      h.read(uncommitted); // its output discarded (an idempotent sink replaces it)
    }
    // While down: rotated by rename, the half line completed in the rotated file, a new file.
    Files.move(log, dir.resolve("app.log.1"), StandardCopyOption.ATOMIC_MOVE);
    append(dir.resolve("app.log.1"), "ne\n");
    expected.add("half a line");
    for (int i = 0; i < 50; i++) {
      append(log, line("b", i) + "\n");
      expected.add(line("b", i));
    }
    try (TailHarness h = new TailHarness(options(dir, "app.log*"), tmp.resolve("ckpt"))) {
      h.recover(uncommitted);
      List<Record> replay = h.records(uncommitted);
      assertThat(replay).hasSize(100);
      assertThat(replay.get(0).headers().get("file"))
          .asString(StandardCharsets.UTF_8)
          .isEqualTo(dir.resolve("app.log.1").toString());
      replay.forEach(r -> output.add(r.valueAsString()));
      output.addAll(h.batch());
      output.addAll(h.batch());
      assertExactlyOnce(output, expected);
      assertThat(h.source.followedFiles())
          .containsEntry("t0", dir.resolve("app.log.1").toString())
          .containsEntry("t1", log.toString());
    }
  }

  @Test
  void aPlannedRangeWhoseFileIsGoneFailsLoudly() throws Exception {
    Path dir = dir();
    Path log = dir.resolve("app.log");
    append(log, line("a", 0) + "\n");
    List<OffsetRange> planned;
    try (TailHarness h = new TailHarness(options(dir, "*.log"), tmp.resolve("ckpt"))) {
      planned = h.plan();
    }
    Files.delete(log);
    try (TailHarness h = new TailHarness(options(dir, "*.log"), tmp.resolve("ckpt"))) {
      assertThatThrownBy(() -> h.read(planned))
          .isInstanceOf(FileVanishedException.class)
          .hasMessageContaining(log.toString())
          .hasMessageContaining("cannot be read");
    }
  }

  @Test
  void aFileRotatedOutOfThePatternBeforeItWasReadIsCountedAsUnread() throws Exception {
    Path dir = dir();
    Path log = dir.resolve("app.log");
    append(log, line("a", 0) + "\n");
    try (TailHarness h = new TailHarness(options(dir, "*.log"), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).hasSize(1);
      append(log, line("a", 1) + "\n");
      h.source.partitions(); // a listing sees the new line; the rotation comes before its batch
      Files.move(log, dir.resolve("app.log.1"));
      for (int i = 0; i < 5; i++) {
        assertThat(h.batch()).isEmpty();
      }
      assertThat(h.counter("tributary.files.tail.unread-bytes"))
          .isEqualTo(line("a", 1).length() + 1);
      assertThat(h.source.followedFiles()).isEmpty();
    }
  }

  @Test
  void startAtEndReadsOnlyWhatIsAppendedAfterTheFirstStart() throws Exception {
    Path dir = dir();
    Path log = dir.resolve("app.log");
    append(log, line("old", 0) + "\n" + "old half");
    Map<String, Object> o = options(dir, "*.log");
    o.put("start-at", "end");
    try (TailHarness h = new TailHarness(o, tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      append(log, " line\n" + line("new", 0) + "\n");
      append(dir.resolve("new.log"), line("other", 0) + "\n");
      List<String> got = new ArrayList<>(h.batch());
      got.addAll(h.batch());
      assertThat(got).containsExactlyInAnyOrder("old half line", line("new", 0), line("other", 0));
    }
  }

  @Test
  void compressedRotationsAreNotFollowedAndOverlongLinesFailNamingTheFile() throws Exception {
    Path dir = dir();
    append(dir.resolve("app.log.2.gz"), "\u001f\u008b binary\n");
    append(dir.resolve("app.log"), "y".repeat(100));
    Map<String, Object> o = options(dir, "app.log*");
    o.put("max-line-length", "64");
    try (TailHarness h = new TailHarness(o, tmp.resolve("ckpt"))) {
      assertThatThrownBy(h::batch)
          .isInstanceOf(RecordTooLongException.class)
          .hasMessageContaining(dir.resolve("app.log").toString())
          .hasMessageContaining("max-line-length");
      assertThat(h.source.followedFiles()).containsOnlyKeys("t0");
    }
  }

  @Test
  void aLowerFingerprintBytesAfterARestartKeepsFollowingTheSameFiles() throws Exception {
    Path dir = dir();
    Path log = dir.resolve("app.log");
    append(log, line("a", 0) + "\n" + line("a", 1) + "\n");
    try (TailHarness h = new TailHarness(options(dir, "*.log"), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).hasSize(2);
      List<OffsetRange> committed = h.plan();
      Map<String, Object> o = options(dir, "*.log");
      o.put("fingerprint-bytes", "16");
      try (TailHarness h2 = new TailHarness(o, tmp.resolve("ckpt"))) {
        h2.recover(committed);
        append(log, line("a", 2) + "\n");
        assertThat(h2.batch()).containsExactly(line("a", 2));
        assertThat(h2.source.followedFiles()).containsOnlyKeys("t0");
      }
    }
  }

  @Test
  void remotePathsAreRefused() {
    assertThatThrownBy(() -> TailSource.of(Map.of("paths", List.of("hdfs://nn:8020/logs"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("local files only");
  }
}
