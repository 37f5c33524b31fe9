package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names and entries that real directories hold, on the local file system: paths are handled as
 * paths (no checksum side files are looked for), and only regular files are opened.
 */
class HostileNamesTest {
  @TempDir Path tmp;
  Path in;
  Path ckpt;

  @BeforeEach
  void dirs() throws IOException {
    in = Files.createDirectories(tmp.resolve("in"));
    ckpt = tmp.resolve("ckpt");
  }

  SourceHarness harness(Object... kv) throws Exception {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toUri().toString());
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return new SourceHarness(m, ckpt);
  }

  static final List<String> NAMES =
      List.of(
          "2026-11-25T10:00.csv",
          "with space.txt",
          "percent%20and%.txt",
          "hash#tag.txt",
          "question?.txt",
          "new\nline.txt",
          "-leading-dash.txt",
          "caf\u00e9-\u65e5\u672c.txt",
          "semi;colon&amp.txt",
          "brackets[1]{2}.txt");

  @Test
  void unusualNamesAreListedReadArchivedAndNotReadTwice() throws Exception {
    Path archive = tmp.resolve("archive");
    try (SourceHarness h = harness("clean-source", "archive", "archive-dir", archive.toString())) {
      assertThat(h.batch()).isEmpty();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < NAMES.size(); i++) {
        FileSourceTest.put(in, NAMES.get(i), "line-" + i + "\n");
        expected.add("line-" + i);
      }
      assertThat(h.batch()).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(h.batch()).isEmpty();
      try (var files = Files.list(archive)) {
        assertThat(files.map(p -> p.getFileName().toString()))
            .containsExactlyInAnyOrderElementsOf(NAMES);
      }
      try (var left = Files.list(in)) {
        assertThat(left).as("no .crc side files written or left").isEmpty();
      }
    }
  }

  @Test
  void aColonInTheNameWorksUnderSkipTooAndRestartsFindTheSameState() throws Exception {
    Map<String, Long> positions = new HashMap<>();
    try (SourceHarness h =
        new SourceHarness(
            Map.of("paths", in.toUri().toString(), "on-bad-file", "skip"), ckpt, positions)) {
      h.batch();
      FileSourceTest.put(in, "2026-11-25T10:00.csv", "a,1\n");
      assertThat(h.batch()).containsExactly("a,1");
      assertThat(h.counter("tributary.files.quarantined")).isZero();
    }
    try (SourceHarness h =
        new SourceHarness(Map.of("paths", in.toUri().toString()), ckpt, positions)) {
      FileSourceTest.put(in, "2026-11-25T11:00.csv", "b,2\n");
      assertThat(h.batch()).containsExactly("b,2");
    }
  }

  @Test
  void aFifoIsSkippedWithACountedWarningAndNeverOpened() throws Exception {
    try (SourceHarness h = harness()) {
      assertThat(h.batch()).isEmpty();
      Process mkfifo =
          new ProcessBuilder("mkfifo", in.resolve("pipe.txt").toString()).inheritIO().start();
      assertThat(mkfifo.waitFor()).isZero();
      FileSourceTest.put(in, "after.txt", "after\n");
      // a read of the FIFO would block this thread for good (no writer ever opens it)
      assertThat(h.batch()).containsExactly("after");
      assertThat(h.batch()).isEmpty();
      assertThat(
              h.registry
                  .get("tributary.files.ignored")
                  .tag("reason", "not-regular")
                  .counter()
                  .count())
          .isEqualTo(1);
    }
  }
}
