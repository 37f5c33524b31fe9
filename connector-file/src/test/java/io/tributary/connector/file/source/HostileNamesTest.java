package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.OffsetRange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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

  /** Half of a gzip file: bad input ({@code corrupt}) once {@code watch-changes-for} is 0s. */
  static byte[] truncatedGzip() throws IOException {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (var gz = new java.util.zip.GZIPOutputStream(bytes)) {
      gz.write("x\n".repeat(5000).getBytes(StandardCharsets.UTF_8));
    }
    byte[] whole = bytes.toByteArray();
    return java.util.Arrays.copyOf(whole, whole.length / 2);
  }

  /** The paths of the quarantined files, as plain paths (no scheme). */
  static List<String> quarantinedPaths(SourceHarness h) {
    return h.source.quarantinedFiles().stream()
        .map(q -> new org.apache.hadoop.fs.Path(q.path()).toUri().getPath())
        .toList();
  }

  double ignored(SourceHarness h, String reason) {
    var c = h.registry.find("tributary.files.ignored").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void aNameWithBytesTheCharsetCannotDecodeIsSkippedWithACountedWarning() throws Exception {
    try (SourceHarness h = harness()) {
      assertThat(h.batch()).isEmpty();
      // the URI form carries raw bytes: 0xE9 alone is Latin-1 "é", not UTF-8
      Path latin1 = Path.of(java.net.URI.create(in.toUri() + "caf%E9.txt"));
      Files.writeString(latin1, "latin1\n");
      FileSourceTest.put(in, "caf\u00e9.txt", "utf8\n");
      assertThat(h.batch()).containsExactly("utf8");
      assertThat(h.batch()).isEmpty();
      assertThat(ignored(h, "unrepresentable-name")).isEqualTo(1);
    }
  }

  @Test
  void hostileNamesAreQuarantinedUnderTheirOwnNameAndTheStateSurvivesARestart() throws Exception {
    Map<String, Object> o = new HashMap<>();
    o.put("paths", in.toUri().toString());
    o.put("on-bad-file", "skip");
    o.put("hadoop.fs.file.impl", DenyingLocalFileSystem.class.getName());
    o.put("hadoop.fs.file.impl.disable.cache", "true");
    Map<String, Long> positions = new HashMap<>();
    List<String> bad = new ArrayList<>();
    List<String> good = new ArrayList<>();
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      h.batch();
      for (String name : NAMES) {
        FileSourceTest.put(in, "denied " + name, "secret\n"); // unreadable: quarantined
        bad.add(in.resolve("denied " + name).toString());
        FileSourceTest.put(in, "ok " + name, "ok-" + good.size() + "\n");
        good.add("ok-" + good.size());
      }
      assertThat(h.batch()).containsExactlyInAnyOrderElementsOf(good);
      assertThat(h.source.quarantinedFiles())
          .extracting(q -> Path.of(new org.apache.hadoop.fs.Path(q.path()).toUri()).toString())
          .containsExactlyInAnyOrderElementsOf(bad);
    }
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      assertThat(h.source.quarantinedFiles()).hasSize(NAMES.size());
      FileSourceTest.put(in, "after.txt", "after\n");
      assertThat(h.batch()).as("nothing read twice after the restart").containsExactly("after");
    }
  }

  @Test
  void aUnixSocketIsSkippedLikeAFifo() throws Exception {
    try (SourceHarness h = harness();
        var server =
            java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      assertThat(h.batch()).isEmpty();
      server.bind(java.net.UnixDomainSocketAddress.of(in.resolve("sock.txt")));
      FileSourceTest.put(in, "after.txt", "after\n");
      assertThat(h.batch()).containsExactly("after");
      assertThat(ignored(h, "not-regular")).isEqualTo(1);
    }
  }

  /**
   * A recursive tree with links back up ({@code ln -s .. up}, {@code ln -s . self}), a link to a
   * file of the tree, and links to a file and a directory outside it.
   */
  void linkedTree() throws IOException {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    FileSourceTest.put(outside, "far.txt", "far\n");
    FileSourceTest.put(outside.resolve("dir"), "deep.txt", "deep\n");
    FileSourceTest.put(in.resolve("a"), "one.txt", "one\n");
    FileSourceTest.put(in.resolve("a/b"), "two.txt", "two\n");
    Files.createSymbolicLink(in.resolve("a/b/up"), Path.of(".."));
    Files.createSymbolicLink(in.resolve("a/self"), Path.of("."));
    Files.createSymbolicLink(in.resolve("root"), in);
    Files.createSymbolicLink(in.resolve("a/alias.txt"), Path.of("b/two.txt"));
    Files.createSymbolicLink(in.resolve("far-link.txt"), outside.resolve("far.txt"));
    Files.createSymbolicLink(in.resolve("dir-link"), outside.resolve("dir"));
    Files.createSymbolicLink(in.resolve("dangling.txt"), tmp.resolve("nothing-here"));
  }

  @Test
  void linksAreNotFollowedByDefaultAndEveryLineIsReadOnce() throws Exception {
    try (SourceHarness h = harness("recursive", true)) {
      assertThat(h.batch()).isEmpty();
      linkedTree();
      assertThat(h.batch()).containsExactlyInAnyOrder("one", "two");
      assertThat(h.batch()).isEmpty();
      assertThat(ignored(h, "symlink")).as("each link counted once").isEqualTo(7);
    }
  }

  @Test
  void followedLinksReadEachFileOnceUnderOneTargetPathAndLoopsAreCounted() throws Exception {
    try (SourceHarness h = harness("recursive", true, "follow-links", true)) {
      assertThat(h.batch()).isEmpty();
      linkedTree();
      List<OffsetRange> ranges = h.plan();
      List<io.tributary.core.api.Record> records = h.records(ranges);
      h.commit(ranges);
      assertThat(records)
          .extracting(io.tributary.core.api.Record::valueAsString)
          .containsExactlyInAnyOrder("one", "two", "far", "deep");
      assertThat(records)
          .extracting(r -> new String(r.headers().get("file"), StandardCharsets.UTF_8))
          .as("one path per file: the target's")
          .doesNotHaveDuplicates()
          .noneMatch(p -> p.contains("/up/") || p.contains("/self/") || p.contains("alias"));
      assertThat(h.batch()).isEmpty();
      FileSourceTest.put(in.resolve("a/b"), "three.txt", "three\n");
      assertThat(h.batch()).containsExactly("three");
      assertThat(ignored(h, "link-loop")).as("up, self and root, once each").isEqualTo(3);
      assertThat(ignored(h, "dangling-link")).isEqualTo(1);
    }
  }

  @Test
  void cleanSourceNeverDeletesALinkTargetOutsideTheMonitoredPath() throws Exception {
    try (SourceHarness h =
        harness("recursive", true, "follow-links", true, "clean-source", "delete")) {
      assertThat(h.batch()).isEmpty();
      Path outside = Files.createDirectories(tmp.resolve("outside"));
      FileSourceTest.put(outside, "far.txt", "far\n");
      Files.createSymbolicLink(in.resolve("far-link.txt"), outside.resolve("far.txt"));
      FileSourceTest.put(in, "near.txt", "near\n");
      assertThat(h.batch()).containsExactlyInAnyOrder("far", "near");
      assertThat(in.resolve("near.txt")).doesNotExist();
      assertThat(outside.resolve("far.txt")).as("someone else's file").exists();
      assertThat(h.batch()).isEmpty();
    }
  }
}
