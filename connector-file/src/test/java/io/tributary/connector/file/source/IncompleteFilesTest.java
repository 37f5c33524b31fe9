package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.OffsetRange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files read before their writer finished them. */
class IncompleteFilesTest {
  @TempDir Path tmp;
  Path in;
  Path ckpt;

  @BeforeEach
  void dirs() throws IOException {
    in = Files.createDirectories(tmp.resolve("in"));
    ckpt = tmp.resolve("ckpt");
  }

  SourceHarness harness(Map<String, Long> positions, Object... kv) throws Exception {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toUri().toString());
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return new SourceHarness(m, ckpt, positions);
  }

  static void append(Path f, String s) throws IOException {
    Files.writeString(f, s, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  SourceHarness guarded(MutableClock clock, Map<String, Long> positions, Object... kv)
      throws Exception {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toUri().toString());
    m.put("stable-for", "1s");
    m.put("watch-changes-for", "1m");
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return new SourceHarness(m, ckpt, positions, clock);
  }

  /** Batches while the clock moves 1.1 s each time, until {@code n} more lines were read. */
  static List<String> batches(SourceHarness h, MutableClock clock, int cycles) throws Exception {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < cycles; i++) {
      out.addAll(h.batch());
      clock.advance(java.time.Duration.ofMillis(1100));
    }
    return out;
  }

  /**
   * A file read while its last line is still being written (the writer paused longer than
   * stable-for mid-line, then went on): the half line is not a record; the appended bytes complete
   * it (read-appended). Before, "li" became a record.
   */
  @Test
  void aHalfWrittenLastLineIsNeverARecordAndIsCompletedByTheAppendedBytes() throws Exception {
    MutableClock clock = new MutableClock();
    try (SourceHarness h = guarded(clock, new HashMap<>(), "on-change", "read-appended")) {
      assertThat(h.batch()).isEmpty();
      Path f = in.resolve("app.log");
      append(f, "line-1\nli");
      // observed, then admitted stable: the writer paused longer than stable-for mid-line
      assertThat(batches(h, clock, 2)).containsExactly("line-1");
      append(f, "ne-2\nline-3\n");
      assertThat(batches(h, clock, 5)).containsExactly("line-2", "line-3");
      assertThat(batches(h, clock, 5)).isEmpty();
    }
  }

  /**
   * A file known complete that does not end with a line terminator: its last line is emitted once,
   * also across a restart that comes before it was emitted.
   */
  @Test
  void aCompleteFileWithoutAFinalNewlineEmitsItsLastLineOnceAlsoAcrossARestart() throws Exception {
    MutableClock clock = new MutableClock();
    Map<String, Long> positions = new HashMap<>();
    try (SourceHarness h = guarded(clock, positions)) {
      assertThat(h.batch()).isEmpty();
      append(in.resolve("a.txt"), "a1\na2");
      assertThat(batches(h, clock, 6)).containsExactly("a1", "a2");
      append(in.resolve("b.txt"), "b1\nb2");
      List<String> got = new ArrayList<>();
      for (int i = 0; i < 3 && got.isEmpty(); i++) {
        got.addAll(h.batch()); // admitted (stable): b1 only, b2 held back
        clock.advance(java.time.Duration.ofMillis(1100));
      }
      assertThat(got).containsExactly("b1");
    }
    try (SourceHarness h = guarded(clock, positions)) {
      assertThat(batches(h, clock, 4)).as("after the restart").containsExactly("b2");
      assertThat(batches(h, clock, 4)).isEmpty();
    }
  }

  static byte[] gzipLines(int n) throws IOException {
    ByteArrayOutputStream whole = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(whole)) {
      for (int i = 0; i < n; i++) {
        gz.write(("line-" + i + "\n").getBytes());
      }
    }
    return whole.toByteArray();
  }

  /**
   * A gzip listed while still being written (here with the completeness guard off, as a writer that
   * pauses longer than stable-for would be): the read that finds it truncated does not fail the
   * pipeline, a replay of that batch yields the same (nothing), and the file is admitted again with
   * its new length and read whole, once. Before, the pipeline failed, and kept failing after the
   * file was complete, because the replay was pinned to the listed length.
   */
  @Test
  void aGzipReadWhileStillBeingWrittenIsReplannedWithItsNewLengthAndReadOnce() throws Exception {
    byte[] gz = gzipLines(5000);
    Map<String, Long> positions = new HashMap<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      expected.add("line-" + i);
    }
    try (SourceHarness h = harness(positions, "on-bad-file", "fail")) {
      assertThat(h.batch()).isEmpty();
      Path f = in.resolve("app.log.gz");
      Files.write(f, Arrays.copyOf(gz, gz.length / 2)); // gzip still writing, in place
      List<OffsetRange> first = h.plan();
      assertThat(h.read(first)).as("nothing of a truncated stream").isEmpty();
      assertThat(h.read(first)).as("a replay of the batch decides the same").isEmpty();
      h.commit(first);
      assertThat(h.counter("tributary.files.replanned")).isEqualTo(1);
      Files.write(f, Arrays.copyOfRange(gz, gz.length / 2, gz.length), StandardOpenOption.APPEND);
      assertThat(h.batch()).containsExactlyElementsOf(expected);
      assertThat(h.batch()).isEmpty();
    }
    try (SourceHarness h = harness(positions, "on-bad-file", "fail")) {
      assertThat(h.batch()).as("nothing read again after a restart").isEmpty();
    }
  }

  @Test
  void aReplanPendingAtACrashIsAdmittedAfterTheRestart() throws Exception {
    byte[] gz = gzipLines(3000);
    Map<String, Long> positions = new HashMap<>();
    Path f = in.resolve("app.log.gz");
    try (SourceHarness h = harness(positions)) {
      assertThat(h.batch()).isEmpty();
      Files.write(f, Arrays.copyOf(gz, gz.length / 3));
      assertThat(h.batch()).isEmpty();
      assertThat(h.counter("tributary.files.replanned")).isEqualTo(1);
    }
    Files.write(f, Arrays.copyOfRange(gz, gz.length / 3, gz.length), StandardOpenOption.APPEND);
    try (SourceHarness h = harness(positions)) {
      List<String> got = h.batch();
      assertThat(got).hasSize(3000).first().isEqualTo("line-0");
      assertThat(h.batch()).isEmpty();
    }
  }

  /**
   * A truncated gzip that nobody writes to any more: waited for during watch-changes-for (it may
   * still be being written), then read again and bad input as before.
   */
  @Test
  void aGzipUnchangedForWatchChangesForThatEndsEarlyIsCorrupt() throws Exception {
    byte[] gz = gzipLines(3000);
    MutableClock clock = new MutableClock();
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toUri().toString());
    m.put("on-bad-file", "skip");
    m.put("watch-changes-for", "1m");
    try (SourceHarness h = new SourceHarness(m, ckpt, new HashMap<>(), clock)) {
      assertThat(h.batch()).isEmpty();
      Files.write(in.resolve("damaged.gz"), Arrays.copyOf(gz, gz.length / 2));
      assertThat(h.batch()).isEmpty();
      assertThat(h.counter("tributary.files.replanned")).isEqualTo(1);
      assertThat(h.batch()).as("waiting for its writer").isEmpty();
      assertThat(h.source.quarantinedFiles()).isEmpty();
      clock.advance(java.time.Duration.ofMinutes(2));
      assertThat(h.batch()).isEmpty();
      assertThat(h.source.quarantinedFiles())
          .singleElement()
          .satisfies(
              q -> {
                assertThat(q.reason()).isEqualTo("corrupt");
                // the message fits the configuration in force: no advice to set what is set
                assertThat(q.message())
                    .doesNotContain("set on-bad-file: skip")
                    .contains("on-bad-file is skip: the file is quarantined");
              });
      assertThat(h.counter("tributary.files.replanned")).isEqualTo(1);
    }
  }
}
