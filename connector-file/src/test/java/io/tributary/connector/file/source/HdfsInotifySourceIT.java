package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.connector.file.FileSource;
import io.tributary.core.api.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.protocol.HdfsConstants.SafeModeAction;
import org.apache.hadoop.security.UserGroupInformation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hdfs-inotify: true} against a real HDFS (MiniDFSCluster, permissions on; the test's user
 * started the NameNode, so it is the superuser): new files are found from the NameNode's events,
 * with no directory listed after the first cycle, and with the same completion rule, filters and
 * exactly-once bookkeeping as listings.
 */
class HdfsInotifySourceIT {
  static MiniDFSCluster cluster;
  static FileSystem fs;

  @TempDir java.nio.file.Path tmp;
  Path in;

  @BeforeAll
  static void startHdfs() throws IOException {
    cluster =
        HdfsFileSourceIT.startCluster(
            "tributary-minidfs-inotify",
            Map.of(
                "dfs.namenode.rpc-address", "127.0.0.1:0",
                "dfs.namenode.http-address", "127.0.0.1:0",
                // keep almost no edits beyond the last checkpoint, so a test can make the NameNode
                // purge edits a
                // stream still needs (2: a purge during saveNamespace may not reach into the open
                // segment's two ops)
                "dfs.namenode.num.extra.edits.retained", "2",
                "dfs.namenode.num.checkpoints.retained", "1",
                // a client's close() need not wait for the data node's block report (about 0.3 s a
                // file otherwise)
                "dfs.namenode.file.close.num-committed-allowed", "1"));
    fs = cluster.getFileSystem();
  }

  @AfterAll
  static void stopHdfs() {
    if (cluster != null) {
      cluster.shutdown(true);
    }
  }

  @BeforeEach
  void dir(TestInfo info) throws IOException {
    in = HdfsFileSourceIT.testDirectory(fs, "inotify-", info);
  }

  Map<String, Object> opts(Object... kv) {
    Map<String, Object> m = HdfsFileSourceIT.options(in, kv);
    m.putIfAbsent("hdfs-inotify", true);
    return m;
  }

  static Path put(Path dir, String name, String content) throws IOException {
    return HdfsFileSourceIT.put(fs, dir, name, content.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Runs batches until {@code expected} lines were read (events reach the stream soon after each
   * edit).
   */
  static List<String> readUntil(SourceHarness h, int expected) {
    List<String> got = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              got.addAll(h.batch());
              return got.size() >= expected;
            });
    return got;
  }

  @Test
  void newFilesComeFromEventsWithoutListingTheDirectory() throws Exception {
    for (int i = 0; i < 25; i++) {
      put(in, "old-" + i + ".txt", "old\n");
    }
    try (SourceHarness h = new SourceHarness(opts(), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty(); // the one listing of this start: existing files are not new
      assertThat(h.source.lastListing().directoriesListed()).isEqualTo(1);
      assertThat(h.source.lastListing().filesListed()).isEqualTo(25);

      put(in, "a.txt", "a1\na2\n"); // written as a._COPYING_, renamed into place
      Path direct = new Path(in, "b.txt");
      try (FSDataOutputStream out = fs.create(direct)) { // written under its final name
        out.write("b1\n".getBytes(StandardCharsets.UTF_8));
        out.hflush();
        put(in, "c.txt", "c\n");
        assertThat(readUntil(h, 3))
            .containsExactlyInAnyOrder("a1", "a2", "c"); // b.txt is still open
        out.write("b2\n".getBytes(StandardCharsets.UTF_8));
      }
      assertThat(readUntil(h, 2)).containsExactly("b1", "b2"); // complete once closed
      assertThat(h.source.lastListing().directoriesListed()).isZero();
      assertThat(h.source.lastListing().filesListed())
          .isLessThan(10); // the paths events named, not the 28 files
      assertThat(h.batch()).isEmpty();
      assertThat(h.functionCounter("tributary.files.inotify.events")).isPositive();
      assertThat(h.functionCounter("tributary.files.inotify.relists")).isZero();
    }
  }

  @Test
  void inProgressNamesHiddenDirectoriesAndOtherPathsAreIgnored() throws Exception {
    Path elsewhere = fs.makeQualified(new Path(in.getParent(), in.getName() + "-elsewhere"));
    try (SourceHarness h = new SourceHarness(opts("file-pattern", "*.log"), tmp.resolve("ckpt"))) {
      h.batch();
      put(elsewhere, "x.log", "elsewhere\n");
      put(new Path(in, "sub"), "nested.log", "nested\n"); // not recursive
      put(in, "_tmp.log", "hidden\n");
      put(in, "skip.txt", "pattern\n");
      try (FSDataOutputStream out = fs.create(new Path(in, "w.log.inprogress"))) {
        out.write("inprogress\n".getBytes(StandardCharsets.UTF_8));
      }
      put(in, "z.log", "last\n");
      assertThat(readUntil(h, 1)).containsExactly("last");
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void partitionsAndDirectoriesRenamedIntoPlaceAreRead() throws Exception {
    Map<String, Object> o = opts("recursive", true, "ordered-partitions", true);
    Path staging = fs.makeQualified(new Path("/staging-" + in.getName()));
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"))) {
      h.batch();
      put(new Path(in, "date=2026-11-25/hour=10"), "a.txt", "a\n");
      assertThat(readUntil(h, 1)).containsExactly("a");
      // a whole partition written elsewhere and renamed in: one event for the directory, none for
      // its files
      put(new Path(staging, "hour=11"), "b1.txt", "b1\n");
      put(new Path(staging, "hour=11"), "b2.txt", "b2\n");
      fs.mkdirs(new Path(in, "date=2026-11-25"));
      assertThat(fs.rename(new Path(staging, "hour=11"), new Path(in, "date=2026-11-25/hour=11")))
          .isTrue();
      // an older partition, which listings with ordered-partitions would prune, is seen from its
      // events
      put(new Path(in, "date=2026-11-24/hour=23"), "late.txt", "late\n");
      put(new Path(in, "date=2026-11-25/_temporary/0"), "t.txt", "temporary\n");
      assertThat(readUntil(h, 3)).containsExactlyInAnyOrder("b1", "b2", "late");
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void aDirectoryAboveTheMonitoredOneRenamedIntoPlaceIsListed() throws Exception {
    Path staging = fs.makeQualified(new Path("/staging-" + in.getName()));
    Map<String, Object> o = opts();
    o.put("paths", new Path(in, "land*/events").toString()); // nothing matches yet
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"))) {
      h.batch();
      // a file whose path matches the pattern's first components is no reason to list
      put(in, "landing-note.txt", "note\n");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                assertThat(h.batch()).isEmpty();
                assertThat(h.source.lastListing().directoriesListed()).isZero();
                return h.functionCounter("tributary.files.inotify.events")
                    > 0; // the note's events were read
              });
      // a directory renamed into place with the monitored directory inside: one event, none for its
      // files
      put(new Path(staging, "landing/events"), "a.txt", "a\n");
      put(new Path(staging, "landing/events"), "b.txt", "b\n");
      assertThat(fs.rename(new Path(staging, "landing"), new Path(in, "landing"))).isTrue();
      assertThat(readUntil(h, 2)).containsExactlyInAnyOrder("a", "b");
      put(new Path(in, "landing/events"), "c.txt", "c\n");
      assertThat(readUntil(h, 1)).containsExactly("c");
      assertThat(h.source.lastListing().directoriesListed()).isZero();
    }
  }

  @Test
  void filesLeftOverByAdmissionLimitsAreReadInLaterCycles() throws Exception {
    List<String> expected = new ArrayList<>();
    try (SourceHarness h = new SourceHarness(opts("max-files-per-batch", 3), tmp.resolve("ckpt"))) {
      h.batch();
      for (int i = 0; i < 20; i++) {
        put(in, String.format("f-%02d.txt", i), "f" + i + "\n");
        expected.add("f" + i);
      }
      List<String> got = readUntil(h, 20);
      assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void restartListsOnceAndMissesNothingThatArrivedWhileStopped() throws Exception {
    java.nio.file.Path ckpt = tmp.resolve("ckpt");
    Map<String, Long> committed;
    try (SourceHarness h = new SourceHarness(opts(), ckpt)) {
      h.batch();
      put(in, "one.txt", "one\n");
      assertThat(readUntil(h, 1)).containsExactly("one");
      committed = new HashMap<>(h.positions);
      put(in, "two.txt", "two\n");
      h.plan(); // two.txt may be admitted now (and never committed) or not yet seen: either way
      // it is read once
    }
    put(in, "three.txt", "three\n"); // while stopped: no event stream is open
    // the runtime replays from the end of the last committed batch (commits/N): the uncommitted
    // plan comes first
    try (SourceHarness h = new SourceHarness(opts(), ckpt, committed)) {
      assertThat(readUntil(h, 2)).containsExactlyInAnyOrder("two", "three");
      assertThat(h.batch()).isEmpty();
      put(in, "four.txt", "four\n");
      assertThat(readUntil(h, 1)).containsExactly("four");
    }
  }

  @Test
  void editsPurgedUnderTheStreamMakeTheSourceListAgainAndMissNothing() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), tmp.resolve("ckpt"))) {
      h.batch();
      put(in, "before.txt", "before\n");
      // checkpoint the namespace a few times: the edit segments holding before.txt's events are
      // purged
      DistributedFileSystem dfs = (DistributedFileSystem) fs;
      for (int i = 0; i < 3; i++) {
        dfs.setSafeMode(SafeModeAction.SAFEMODE_ENTER);
        dfs.saveNamespace();
        dfs.setSafeMode(SafeModeAction.SAFEMODE_LEAVE);
      }
      put(in, "after.txt", "after\n");
      assertThat(readUntil(h, 2)).containsExactlyInAnyOrder("before", "after");
      assertThat(h.functionCounter("tributary.files.inotify.relists")).isEqualTo(1);
      put(in, "later.txt", "later\n"); // events again after the new stream's listing
      assertThat(readUntil(h, 1)).containsExactly("later");
      assertThat(h.source.lastListing().directoriesListed()).isZero();
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void onlyHdfsSuperusersMayUseTheEventStream() throws Exception {
    UserGroupInformation alice =
        UserGroupInformation.createUserForTesting("alice", new String[] {"users"});
    alice.doAs(
        (PrivilegedExceptionAction<Void>)
            () -> {
              assertThatThrownBy(() -> new SourceHarness(opts(), tmp.resolve("ckpt")))
                  .isInstanceOf(ConfigException.class)
                  .hasMessageContaining("hdfs-inotify")
                  .hasMessageContaining("alice")
                  .hasMessageContaining("superuser");
              return null;
            });
  }

  @Test
  void pathsOnOtherFileSystemsAreRefused() {
    assertThatThrownBy(
            () ->
                FileSource.of(
                    Map.of("paths", tmp.toUri().toString() + "," + in, "hdfs-inotify", true)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid value true for hdfs-inotify: path " + tmp.toUri())
        .hasMessageContaining("hdfs-inotify: false");
  }
}
