package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.connector.file.CorruptFileException;
import io.tributary.connector.file.FileAccessDeniedException;
import io.tributary.connector.file.FileSource;
import io.tributary.connector.file.FileVanishedException;
import io.tributary.connector.file.QuarantinedFile;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.runtime.Pipeline;
import io.tributary.core.sinks.RollingFileSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.security.UserGroupInformation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file source against a real HDFS (one MiniDFSCluster for the class, one directory per test).
 */
class HdfsFileSourceIT {
  static MiniDFSCluster cluster;
  static FileSystem fs;

  @TempDir java.nio.file.Path tmp;
  Path in;

  @BeforeAll
  static void startHdfs() throws IOException {
    cluster = startCluster("tributary-minidfs", Map.of());
    fs = cluster.getFileSystem();
  }

  /**
   * A MiniDFSCluster with permissions on (the test's user, who starts the NameNode, is its
   * superuser), one data node, in a new temporary directory, with {@code settings} on top.
   */
  static MiniDFSCluster startCluster(String prefix, Map<String, String> settings)
      throws IOException {
    Configuration conf = new Configuration();
    java.nio.file.Path base = Files.createTempDirectory(prefix);
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
    conf.setBoolean("dfs.permissions.enabled", true);
    settings.forEach(conf::set);
    MiniDFSCluster c = new MiniDFSCluster.Builder(conf, base.toFile()).numDataNodes(1).build();
    c.waitActive();
    return c;
  }

  /**
   * {@code /<prefix><test method>}, created and writable by everyone (tests run as other users
   * too).
   */
  static Path testDirectory(FileSystem fs, String prefix, TestInfo info) throws IOException {
    Path dir =
        fs.makeQualified(new Path("/" + prefix + info.getTestMethod().orElseThrow().getName()));
    fs.mkdirs(dir);
    fs.setPermission(dir, new FsPermission((short) 0777));
    return dir;
  }

  @AfterAll
  static void stopHdfs() {
    if (cluster != null) {
      cluster.shutdown(true);
    }
  }

  TestInfo info;

  @BeforeEach
  void dir(TestInfo info) throws IOException {
    this.info = info;
    in = testDirectory(fs, "in-", info);
  }

  Map<String, Object> opts(Object... kv) {
    return options(in, kv);
  }

  /** Source options reading {@code dir}, plus {@code kv} as key, value, key, value, ... */
  static Map<String, Object> options(Path dir, Object... kv) {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", dir.toString());
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  /** Writes under a temporary name (as {@code hdfs dfs -put} does), then renames into place. */
  static Path put(Path dir, String name, byte[] content) throws IOException {
    return put(fs, dir, name, content);
  }

  /** {@link #put(Path, String, byte[])} on another HDFS. */
  static Path put(FileSystem fs, Path dir, String name, byte[] content) throws IOException {
    fs.mkdirs(dir);
    Path t = new Path(dir, name + "._COPYING_");
    try (FSDataOutputStream out = fs.create(t)) {
      out.write(content);
    }
    Path f = new Path(dir, name);
    assertThat(fs.rename(t, f)).isTrue();
    return f;
  }

  static Path put(Path dir, String name, String content) throws IOException {
    return put(dir, name, content.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void withStableForAFileWrittenUnderItsFinalNameIsReadOnlyOnceClosedAndStable() throws Exception {
    MutableClock clock = new MutableClock();
    try (SourceHarness h =
        new SourceHarness(
            opts("stable-for", "1s"), tmp.resolve("ckpt"), new java.util.HashMap<>(), clock)) {
      assertThat(h.batch()).isEmpty();
      Path f = new Path(in, "open.txt");
      FSDataOutputStream out = fs.create(f);
      out.write("o1\no2\n".getBytes(StandardCharsets.UTF_8));
      out.hflush(); // visible to readers, file still open: length and time may stay still for long
      assertThat(h.batch()).isEmpty();
      clock.advance(java.time.Duration.ofSeconds(5));
      assertThat(h.batch()).as("stable but not closed").isEmpty();
      clock.advance(java.time.Duration.ofSeconds(5));
      assertThat(h.batch()).isEmpty();
      out.write("o3\n".getBytes(StandardCharsets.UTF_8));
      out.close();
      assertThat(h.batch()).isEmpty(); // closed now: observed again
      clock.advance(java.time.Duration.ofSeconds(2));
      assertThat(h.batch()).containsExactly("o1", "o2", "o3");
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void aFileDatedThirtyDaysAheadNeverMovesTheHorizonOnHdfs() throws Exception {
    try (SourceHarness h = new SourceHarness(opts("max-file-age", "1d"), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      Path future = put(in, "future.txt", "from the future\n");
      fs.setTimes(future, System.currentTimeMillis() + 30L * 86_400_000L, -1);
      assertThat(h.batch()).containsExactly("from the future");
      put(in, "normal.txt", "normal\n");
      assertThat(h.batch()).as("inside the horizon").containsExactly("normal");
      assertThat(h.counter("tributary.files.future-dated")).isEqualTo(1);
    }
  }

  @Test
  void aGzipReadWhileStillBeingWrittenIsReplannedWithItsNewLengthOnHdfs() throws Exception {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 3000; i++) {
      lines.append("line-").append(i).append('\n');
    }
    byte[] gz = gzip(lines.toString());
    try (SourceHarness h = new SourceHarness(opts("on-bad-file", "fail"), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      Path f = put(in, "app.log.gz", Arrays.copyOf(gz, gz.length / 2));
      assertThat(h.batch()).as("truncated: re-planned, not failed").isEmpty();
      assertThat(h.counter("tributary.files.replanned")).isEqualTo(1);
      try (FSDataOutputStream out = fs.append(f)) {
        out.write(Arrays.copyOfRange(gz, gz.length / 2, gz.length));
      }
      List<String> got = h.batch();
      assertThat(got).hasSize(3000).doesNotHaveDuplicates().startsWith("line-0");
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void byContentARotatedAndCompressedFileIsNotReadAgainAndAReplacedNameIsReadOnHdfs()
      throws Exception {
    Map<String, Long> positions = new HashMap<>();
    Map<String, Object> o = opts("identity", "content", "file-pattern", "app.log.*");
    StringBuilder first = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      first.append("first-").append(i).append('\n');
    }
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"), positions)) {
      assertThat(h.batch()).isEmpty();
      put(in, "app.log.1", first.toString());
      assertThat(h.batch()).hasSize(200).startsWith("first-0");
      // logrotate's next rotation: app.log.1 compressed to app.log.2.gz, a new app.log.1
      put(in, "app.log.2.gz", gzip(first.toString()));
      assertThat(fs.delete(new Path(in, "app.log.1"), false)).isTrue();
      put(in, "app.log.1", "second-0\nsecond-1\n");
      assertThat(h.batch()).containsExactly("second-0", "second-1");
      assertThat(h.registry.get("tributary.files.ignored").tag("reason", "same-content").counter())
          .extracting(c -> c.count())
          .isEqualTo(1.0);
    }
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"), positions)) {
      // after a restart: renamed again (the fingerprints are in the checkpoint)
      assertThat(fs.rename(new Path(in, "app.log.2.gz"), new Path(in, "app.log.3.gz"))).isTrue();
      assertThat(fs.rename(new Path(in, "app.log.1"), new Path(in, "app.log.2"))).isTrue();
      assertThat(h.batch()).isEmpty();
      assertThat(h.registry.get("tributary.files.ignored").tag("reason", "same-content").counter())
          .extracting(c -> c.count())
          .isEqualTo(2.0);
    }
  }

  @Test
  void fileBeingWrittenIsIgnoredUntilRenamedIntoPlace() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), tmp.resolve("ckpt"))) {
      h.batch();
      Path copying = new Path(in, "a.txt._COPYING_");
      try (FSDataOutputStream out = fs.create(copying)) {
        out.write("a1\n".getBytes(StandardCharsets.UTF_8));
        out.hflush();
        assertThat(h.batch()).isEmpty(); // open for write, in-progress name
        out.write("a2\n".getBytes(StandardCharsets.UTF_8));
      }
      assertThat(h.batch()).isEmpty(); // closed, still the in-progress name
      fs.rename(copying, new Path(in, "a.txt"));
      put(in, "b.txt", "b\n");
      assertThat(h.batch()).containsExactlyInAnyOrder("a1", "a2", "b");
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void newPartitionsAreFoundWhileOldOnesArePruned() throws Exception {
    long now = System.currentTimeMillis();
    for (int d = 10; d < 15; d++) {
      Path f = put(new Path(in, "date=2026-11-" + d + "/hour=00"), "old.txt", "old\n");
      fs.setTimes(f, now - 30L * 86_400_000L, -1);
    }
    Map<String, Object> o =
        opts("recursive", true, "ordered-partitions", true, "max-file-age", "1d");
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      put(new Path(in, "date=2026-11-25/hour=10"), "a.txt", "a\n");
      assertThat(h.batch()).containsExactly("a");
      put(new Path(in, "date=2026-11-25/hour=11"), "b.txt", "b\n");
      put(new Path(in, "date=2026-11-26/hour=00"), "c.gz", gzip("c\n"));
      assertThat(h.batch()).containsExactlyInAnyOrder("b", "c");
      assertThat(h.source.lastListing().directoriesPruned()).isEqualTo(5);
    }
  }

  @Test
  void orderedFileNamesListOnlyNamesAfterTheLastSeenOnHdfs() throws Exception {
    for (int i = 0; i < 50; i++) {
      put(in, String.format("f-%04d.txt", i), "old\n");
    }
    try (SourceHarness h =
        new SourceHarness(opts("ordered-file-names", true), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      assertThat(h.source.lastListing().filesListed()).isEqualTo(50);
      // a cycle lists after the mark the cycle before the last started with (a listing is not a
      // snapshot: a name renamed in during it may be missing although a later one is there)
      assertThat(h.batch()).isEmpty();
      put(in, "f-0050.txt", "n50\n");
      put(in, "f-0051.txt", "n51\n");
      assertThat(h.batch()).containsExactly("n50", "n51");
      assertThat(h.source.lastListing().filesListed())
          .isEqualTo(2); // the NameNode listed from f-0049 on
      assertThat(h.batch()).isEmpty();
      assertThat(h.source.lastListing().filesListed()).as("f-0050, f-0051 remembered").isEqualTo(2);
      assertThat(h.batch()).isEmpty();
      assertThat(h.source.lastListing().filesListed()).isZero();
      put(in, "a-late.txt", "late\n"); // sorts before: not looked for (documented)
      put(in, "f-0052.txt", "n52\n");
      assertThat(h.batch()).containsExactly("n52");
    }
  }

  @Test
  void pipelineRestartedRepeatedlyReadsEveryLineExactlyOnce() throws Exception {
    java.nio.file.Path out = Files.createDirectories(tmp.resolve("out"));
    java.nio.file.Path ckpt = tmp.resolve("ckpt");
    List<String> expected = new ArrayList<>();
    int file = 0;
    for (int round = 0; round < 3; round++) {
      Pipeline p = pipeline(ckpt, out);
      p.start();
      for (int k = 0; k < 10; k++, file++) {
        StringBuilder sb = new StringBuilder();
        for (int line = 0; line < 3; line++) {
          String l = "f" + file + "-l" + line;
          sb.append(l).append('\n');
          expected.add(l);
        }
        put(in, "f" + file + ".txt", sb.toString());
      }
      if (round == 1) {
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> FileSourcePipelineTest.outputLines(out).size() == expected.size());
      }
      p.stopNow();
      assertThat(p.failure()).isEmpty();
    }
    Pipeline p = pipeline(ckpt, out);
    p.start();
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> FileSourcePipelineTest.outputLines(out).size() >= expected.size());
      assertThat(FileSourcePipelineTest.outputLines(out))
          .containsExactlyInAnyOrderElementsOf(expected);
    } finally {
      p.stopGracefully();
    }
  }

  private Pipeline pipeline(java.nio.file.Path ckpt, java.nio.file.Path out) {
    return Pipeline.builder("hdfs-files")
        .checkpointDir(ckpt)
        .batchInterval(Duration.ofMillis(50))
        .source(
            "files",
            FileSource.of(
                Map.of("paths", in.toString(), "include-existing", true, "max-files-per-batch", 4)))
        .sink("out", RollingFileSink.builder(out).build())
        .build();
  }

  @Test
  void anUnreadableSubdirectoryIsSkippedCountedAndRetriedUnderSkipAndNamedUnderFail()
      throws Exception {
    put(new Path(in, "open"), "a.txt", "a\n");
    Path closed = new Path(in, "closed");
    put(closed, "b.txt", "b\n");
    fs.setPermission(
        closed, new FsPermission((short) 0700)); // the superuser's; alice cannot list it
    UserGroupInformation alice =
        UserGroupInformation.createUserForTesting("alice", new String[] {"users"});
    alice.doAs(
        (PrivilegedExceptionAction<Void>)
            () -> {
              try (SourceHarness h =
                  new SourceHarness(
                      opts("include-existing", true, "recursive", true), tmp.resolve("ckpt-f"))) {
                assertThatThrownBy(h::batch)
                    .isInstanceOf(FileAccessDeniedException.class)
                    .hasMessageContaining(closed.toUri().getPath())
                    .hasMessageContaining("on-bad-file: skip");
              }
              try (SourceHarness h =
                  new SourceHarness(
                      opts("include-existing", true, "recursive", true, "on-bad-file", "skip"),
                      tmp.resolve("ckpt-s"))) {
                assertThat(h.batch()).containsExactly("a");
                assertThat(h.batch()).isEmpty();
                assertThat(
                        h.registry
                            .get("tributary.files.ignored")
                            .tag("reason", "directory-access-denied")
                            .counter()
                            .count())
                    .as("counted once, while listed again each cycle")
                    .isEqualTo(1);
                fs.setPermission(closed, new FsPermission((short) 0755));
                assertThat(h.batch()).containsExactly("b");
              }
              return null;
            });
  }

  @Test
  void unreadableFileIsAccessDeniedForAnotherUser() throws Exception {
    Path secret = put(in, "secret.txt", "s\n");
    fs.setPermission(secret, new FsPermission((short) 0600));
    UserGroupInformation alice =
        UserGroupInformation.createUserForTesting("alice", new String[] {"users"});
    alice.doAs(
        (PrivilegedExceptionAction<Void>)
            () -> {
              try (SourceHarness h =
                  new SourceHarness(opts("include-existing", true), tmp.resolve("ckpt"))) {
                List<OffsetRange> ranges = h.plan();
                assertThatThrownBy(() -> h.read(ranges))
                    .isInstanceOf(FileAccessDeniedException.class)
                    .hasMessageContaining("secret.txt");
              }
              return null;
            });
  }

  @Test
  void vanishedAndTruncatedFilesFailOrAreQuarantined() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), tmp.resolve("ckpt"))) {
      h.batch();
      Path gone = put(in, "gone.txt", "g\n");
      List<OffsetRange> ranges = h.plan();
      fs.delete(gone, false);
      assertThatThrownBy(() -> h.read(ranges)).isInstanceOf(FileVanishedException.class);
    }
    try (SourceHarness h =
        new SourceHarness(opts("watch-changes-for", "0s"), tmp.resolve("ckpt2"))) {
      h.batch();
      byte[] gz = gzip("x\n".repeat(1000));
      put(in, "trunc.gz", Arrays.copyOf(gz, gz.length / 2));
      List<OffsetRange> ranges = h.plan();
      assertThatThrownBy(() -> h.read(ranges)).isInstanceOf(CorruptFileException.class);
    }
    try (SourceHarness h =
        new SourceHarness(
            opts("on-bad-file", "skip", "watch-changes-for", "0s"), tmp.resolve("ckpt3"))) {
      h.batch();
      put(in, "ok.txt", "ok\n");
      Path gone = put(in, "gone2.txt", "g\n");
      byte[] gz = gzip("x\n".repeat(1000));
      put(in, "trunc2.gz", Arrays.copyOf(gz, gz.length / 2));
      List<OffsetRange> ranges = h.plan();
      fs.delete(gone, false);
      assertThat(h.read(ranges)).containsExactly("ok");
      assertThat(h.source.quarantinedFiles())
          .extracting(QuarantinedFile::reason)
          .containsExactlyInAnyOrder("vanished", "corrupt");
    }
  }

  static byte[] gzip(String s) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (OutputStream o = new GZIPOutputStream(b)) {
      o.write(s.getBytes(StandardCharsets.UTF_8));
    }
    return b.toByteArray();
  }

  /** HostileNamesTest's names that HDFS allows (it refuses ':' in a name). */
  static List<String> hdfsNames() {
    return HostileNamesTest.NAMES.stream().filter(n -> !n.contains(":")).toList();
  }

  @Test
  void hostileNamesAreListedReadArchivedAndNotReadAgainAfterARestartOnHdfs() throws Exception {
    Path archive = testDirectory(fs, "archive-", info);
    Map<String, Object> o =
        opts(
            "recursive",
            true,
            "clean-source",
            "archive",
            "archive-dir",
            archive.toString(),
            "on-bad-file",
            "skip",
            "watch-changes-for",
            "0s");
    Map<String, Long> positions = new HashMap<>();
    List<String> expected = new ArrayList<>();
    List<String> bad = new ArrayList<>();
    List<String> names = hdfsNames();
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"), positions)) {
      assertThat(h.batch()).isEmpty();
      for (int i = 0; i < names.size(); i++) {
        put(in, names.get(i), "top-" + i + "\n");
        put(new Path(in, names.get(i) + " dir"), names.get(i), "sub-" + i + "\n");
        bad.add(
            put(in, "bad " + names.get(i) + ".gz", HostileNamesTest.truncatedGzip())
                .toUri()
                .getPath());
        expected.add("top-" + i);
        expected.add("sub-" + i);
      }
      assertThat(h.batch()).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(HostileNamesTest.quarantinedPaths(h)).containsExactlyInAnyOrderElementsOf(bad);
    }
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"), positions)) {
      assertThat(HostileNamesTest.quarantinedPaths(h)).containsExactlyInAnyOrderElementsOf(bad);
      put(in, "after.txt", "after\n");
      assertThat(h.batch()).as("nothing read twice after the restart").containsExactly("after");
    }
    for (String b : bad) {
      assertThat(fs.exists(new Path(b))).as("quarantined files stay: %s", b).isTrue();
    }
    List<String> archived = new ArrayList<>();
    var it = fs.listFiles(archive, true);
    while (it.hasNext()) {
      Path p = it.next().getPath();
      archived.add(p.toUri().getPath().substring(archive.toUri().getPath().length() + 1));
    }
    List<String> expectedArchive = new ArrayList<>(List.of("after.txt"));
    for (String n : names) {
      expectedArchive.add(n);
      expectedArchive.add(n + " dir/" + n);
    }
    assertThat(archived).containsExactlyInAnyOrderElementsOf(expectedArchive);
  }

  @Test
  void hostileNamesWithOrderedFileNamesAreListedAfterTheMarkOnHdfs() throws Exception {
    List<String> names = hdfsNames();
    try (SourceHarness h = new SourceHarness(opts("ordered-file-names", true), tmp.resolve("c"))) {
      assertThat(h.batch()).isEmpty();
      for (int round = 0; round < 2; round++) {
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
          put(in, round + "" + (char) ('a' + i) + " " + names.get(i), round + "-" + i + "\n");
          expected.add(round + "-" + i);
        }
        assertThat(h.batch()).containsExactlyInAnyOrderElementsOf(expected);
      }
      assertThat(h.batch()).isEmpty();
    }
  }
}
