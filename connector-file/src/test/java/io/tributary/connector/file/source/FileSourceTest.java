package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.connector.file.FileSource;
import io.tributary.connector.file.FileSourceFactory;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSourceTest {
  @TempDir Path tmp;
  Path in;
  Path ckpt;

  @BeforeEach
  void dirs() throws IOException {
    in = Files.createDirectories(tmp.resolve("in"));
    ckpt = tmp.resolve("ckpt");
  }

  Map<String, Object> opts(Object... kv) {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toUri().toString());
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  /** Writes under a temporary name, then renames into place (the completion rule). */
  static Path put(Path dir, String name, String content) throws IOException {
    Files.createDirectories(dir);
    Path t = dir.resolve("." + name + ".tmp");
    Files.writeString(t, content);
    return Files.move(t, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void factoryIsFoundByServiceLoaderAsTypeFiles() {
    assertThat(ServiceLoader.load(SourceFactory.class).stream().map(ServiceLoader.Provider::get))
        .anySatisfy(
            f -> {
              assertThat(f).isInstanceOf(FileSourceFactory.class);
              assertThat(f.type()).isEqualTo("files");
            });
  }

  @Test
  void newFilesOnlyByDefaultThenEveryNewFileOnce() throws Exception {
    put(in, "old.txt", "old\n");
    try (SourceHarness h = new SourceHarness(opts(), ckpt)) {
      assertThat(h.batch()).isEmpty();
      put(in, "a.txt", "a1\na2\n");
      put(in, "b.txt", "b1");
      assertThat(h.batch()).containsExactlyInAnyOrder("a1", "a2", "b1");
      assertThat(h.batch()).isEmpty();
      put(in, "c.txt", "c1\r\nc2\r\n");
      assertThat(h.batch()).containsExactly("c1", "c2");
    }
  }

  @Test
  void includeExistingReadsFilesPresentAtFirstStart() throws Exception {
    put(in, "old.txt", "old\n");
    try (SourceHarness h = new SourceHarness(opts("include-existing", true), ckpt)) {
      assertThat(h.batch()).containsExactly("old");
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void filesInProgressAreIgnoredUntilRenamedIntoPlace() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), ckpt)) {
      h.batch();
      Files.writeString(in.resolve(".hidden"), "h\n");
      Files.writeString(in.resolve("_SUCCESS"), "s\n");
      Files.writeString(in.resolve("part.tmp"), "t\n");
      Files.writeString(in.resolve("x.txt._COPYING_"), "c\n");
      Files.writeString(in.resolve("y.inprogress"), "p\n");
      assertThat(h.batch()).isEmpty();
      Files.move(
          in.resolve("x.txt._COPYING_"), in.resolve("x.txt"), StandardCopyOption.ATOMIC_MOVE);
      assertThat(h.batch()).containsExactly("c");
    }
  }

  @Test
  void filePatternSelectsFileNames() throws Exception {
    try (SourceHarness h = new SourceHarness(opts("file-pattern", "*.{csv,log}"), ckpt)) {
      h.batch();
      put(in, "a.csv", "csv\n");
      put(in, "b.json", "json\n");
      put(in, "c.log", "log\n");
      assertThat(h.batch()).containsExactlyInAnyOrder("csv", "log");
    }
  }

  @Test
  void globPathsMonitorSeveralDirectoriesAsOnePartition() throws Exception {
    Map<String, Object> o = opts();
    o.put("paths", tmp.toUri() + "in/*/logs");
    Files.createDirectories(in.resolve("x/logs"));
    try (SourceHarness h = new SourceHarness(o, ckpt)) {
      h.batch();
      put(in.resolve("x/logs"), "1.txt", "x\n");
      put(in.resolve("y/logs"), "1.txt", "y\n");
      put(in.resolve("y/other"), "1.txt", "no\n");
      List<OffsetRange> ranges = h.plan();
      assertThat(ranges).hasSize(1);
      assertThat(h.read(ranges)).containsExactlyInAnyOrder("x", "y");
    }
  }

  @Test
  void everyRecordCarriesFileOffsetPathAndModificationTime() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), ckpt)) {
      h.batch();
      Path a = put(in, "a.txt", "1\n2\n");
      Files.setLastModifiedTime(a, FileTime.fromMillis(1_700_000_000_000L));
      List<OffsetRange> ranges = h.plan();
      List<Record> records = h.records(ranges);
      assertThat(records).hasSize(2);
      for (Record r : records) {
        assertThat(r.position().offset()).isEqualTo(ranges.get(0).fromOffset());
        assertThat(r.position().partition()).isEqualTo(in.toUri().toString());
        assertThat(r.position().source()).isEqualTo("files");
        assertThat(new String(r.headers().get("file"), StandardCharsets.UTF_8))
            .endsWith("/in/a.txt");
        assertThat(r.timestamp()).isEqualTo(1_700_000_000_000L);
      }
    }
  }

  @Test
  void maxFilesPerBatchBoundsWhatIsAdmittedBeforeACommit() throws Exception {
    try (SourceHarness h = new SourceHarness(opts("max-files-per-batch", 3), ckpt)) {
      h.batch();
      for (int i = 0; i < 8; i++) {
        put(in, "f" + i + ".txt", "l" + i + "\n");
      }
      List<OffsetRange> first = h.plan();
      assertThat(first.get(0).count()).isEqualTo(3);
      // not committed yet: nothing more is admitted
      assertThat(h.plan().get(0).count()).isZero();
      assertThat(h.read(first)).hasSize(3);
      h.commit(first);
      assertThat(h.batch()).hasSize(3);
      assertThat(h.batch()).hasSize(2);
      assertThat(h.source.heldFiles()).isZero();
    }
  }

  @Test
  void restartReplaysTheSameFilesAndAdmitsNothingTwice() throws Exception {
    Map<String, Long> positions = new HashMap<>();
    List<OffsetRange> pending;
    List<String> firstAttempt;
    try (SourceHarness h = new SourceHarness(opts(), ckpt, positions)) {
      h.batch();
      put(in, "a.txt", "a\n");
      put(in, "b.txt", "b\n");
      pending = h.plan();
      firstAttempt = h.read(pending);
      // crash: no commit
    }
    put(in, "c.txt", "c\n");
    try (SourceHarness h = new SourceHarness(opts(), ckpt, positions)) {
      assertThat(h.read(pending)).isEqualTo(firstAttempt).containsExactlyInAnyOrder("a", "b");
      h.commit(pending);
      assertThat(h.batch()).containsExactly("c");
      assertThat(h.batch()).isEmpty();
    }
    try (SourceHarness h = new SourceHarness(opts(), ckpt, positions)) {
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void crashAfterAdmissionBeforeThePlanKeepsTheAdmittedFilesForTheNextBatch() throws Exception {
    Map<String, Long> positions = new HashMap<>();
    try (SourceHarness h = new SourceHarness(opts(), ckpt, positions)) {
      h.batch();
      put(in, "a.txt", "a\n");
      h.source.partitions(); // admitted and recorded, but the runtime died before offsets/N
    }
    try (SourceHarness h = new SourceHarness(opts(), ckpt, positions)) {
      assertThat(h.batch()).containsExactly("a");
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void admissionResumesAfterARestartWhoseStateHasAnOldCommittedMark() throws Exception {
    Map<String, Long> positions = new HashMap<>();
    Map<String, Object> o = opts("max-files-per-batch", 2);
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      h.batch();
      put(in, "a.txt", "a\n");
      put(in, "b.txt", "b\n");
      assertThat(h.batch()).containsExactlyInAnyOrder("a", "b");
    }
    // the snapshot still says "nothing committed"; the files admitted before are committed though,
    // so a full
    // allowance is available again instead of waiting for a commit that never comes
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      put(in, "c.txt", "c\n");
      put(in, "d.txt", "d\n");
      put(in, "e.txt", "e\n");
      assertThat(h.batch()).containsExactlyInAnyOrder("c", "d");
      assertThat(h.batch()).containsExactly("e");
    }
  }

  @Test
  void orderedFileNamesSkipNamesAtOrBeforeTheLastSeen() throws Exception {
    put(in, "f-0001.txt", "old\n");
    try (SourceHarness h = new SourceHarness(opts("ordered-file-names", true), ckpt)) {
      assertThat(h.batch()).isEmpty();
      put(in, "f-0002.txt", "two\n");
      assertThat(h.batch()).containsExactly("two");
      put(in, "f-0000.txt", "late\n");
      put(in, "f-0003.txt", "three\n");
      assertThat(h.batch()).containsExactly("three");
    }
    assertThatThrownBy(() -> FileSource.of(opts("ordered-file-names", true, "recursive", true)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ordered-file-names");
  }

  @Test
  void filesOlderThanTheHorizonAreIgnored() throws Exception {
    try (SourceHarness h = new SourceHarness(opts("max-file-age", "1h"), ckpt)) {
      h.batch();
      long now = System.currentTimeMillis();
      Path fresh = put(in, "fresh.txt", "fresh\n");
      Files.setLastModifiedTime(fresh, FileTime.fromMillis(now));
      assertThat(h.batch()).containsExactly("fresh");
      Path stale = put(in, "stale.txt", "stale\n");
      Files.setLastModifiedTime(stale, FileTime.fromMillis(now - 2 * 3_600_000L));
      assertThat(h.batch()).isEmpty();
      assertThat(h.batch()).isEmpty();
      assertThat(
              h.registry.get("tributary.files.ignored").tag("reason", "too-old").counter().count())
          .as("counted once per file, not per cycle")
          .isEqualTo(1);
    }
  }

  @Test
  void rememberedSetAndStateStayBoundedByTheHorizon() throws Exception {
    long t0 = System.currentTimeMillis() / 1000 * 1000 - 3L * 86_400_000L; // not future-dated
    Map<String, Object> o = opts("max-file-age", "10s", "state-compaction-interval", 4);
    Map<String, Long> positions = new HashMap<>();
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      h.batch();
      for (int i = 0; i < 60; i++) {
        Path f = put(in, "f" + i + ".txt", "l" + i + "\n");
        // one file per simulated second
        Files.setLastModifiedTime(f, FileTime.fromMillis(t0 + i * 1000L));
        assertThat(h.batch()).containsExactly("l" + i);
      }
      // 60 files read, but only those inside the 10 s horizon (plus up to one compaction interval)
      // are remembered
      assertThat(h.source.rememberedFiles()).isBetween(10L, 16L);
      assertThat(h.gauge("tributary.files.remembered")).isBetween(10.0, 16.0);
      try (Stream<Path> s = Files.list(ckpt.resolve("sources/files/index"))) {
        assertThat(s.count()).isLessThanOrEqualTo(5); // one snapshot + fewer than 4 deltas
      }
      assertThat(h.source.heldFiles()).isZero();
    }
    // the compacted state still knows every file inside the horizon after a restart
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void filesPresentAtFirstStartLeaveMemoryOnceOutsideTheHorizonWithoutWaitingForACompaction()
      throws Exception {
    long t0 = System.currentTimeMillis() / 1000 * 1000 - 3L * 86_400_000L; // not future-dated
    for (int i = 0;
        i < 200;
        i++) { // present at the first start, within an hour of each other: all remembered
      Files.setLastModifiedTime(
          put(in, "old-" + i + ".txt", "o\n"), FileTime.fromMillis(t0 + i * 10_000L));
    }
    Map<String, Object> o = opts("max-file-age", "1h", "state-compaction-interval", 1000);
    Map<String, Long> positions = new HashMap<>();
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      assertThat(h.batch()).isEmpty();
      assertThat(h.source.rememberedFiles()).isEqualTo(200);
      Path fresh =
          put(in, "fresh.txt", "fresh\n"); // a day later: every old file is now outside the horizon
      Files.setLastModifiedTime(fresh, FileTime.fromMillis(t0 + 86_400_000L));
      assertThat(h.batch()).containsExactly("fresh");
      assertThat(h.batch()).isEmpty();
      assertThat(h.source.rememberedFiles()).isEqualTo(1);
      assertThat(h.gauge("tributary.files.remembered")).isEqualTo(1.0);
    }
    // the state on disk (snapshot plus deltas, no compaction since) still reads the same: nothing
    // is read again
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void deltaLeftBehindByACrashDuringCompactionChangesNothing() throws Exception {
    Map<String, Object> o = opts("state-compaction-interval", 3);
    Map<String, Long> positions = new HashMap<>();
    Path index = ckpt.resolve("sources/files/index");
    Map<Path, byte[]> deltas = new HashMap<>();
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      h.batch();
      for (int i = 0; i < 3; i++) {
        put(in, "f" + i + ".txt", "l" + i + "\n");
        assertThat(h.batch()).containsExactly("l" + i);
        try (Stream<Path> s = Files.list(index)) {
          for (Path p : s.filter(p -> p.getFileName().toString().startsWith("delta-")).toList()) {
            deltas.put(p, Files.readAllBytes(p));
          }
        }
      }
    }
    // the compaction wrote its snapshot, then the process died before deleting the deltas it
    // replaces
    assertThat(deltas).isNotEmpty();
    for (Map.Entry<Path, byte[]> d : deltas.entrySet()) {
      Files.write(d.getKey(), d.getValue());
    }
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      put(in, "f3.txt", "l3\n");
      assertThat(h.batch()).containsExactly("l3");
      assertThat(h.batch()).isEmpty();
      assertThat(h.source.rememberedFiles()).isEqualTo(4); // f0..f3, nothing counted twice
      assertThat(h.source.heldFiles()).isZero();
    }
  }

  @Test
  void configProblemsAreReportedTogether() {
    assertThatThrownBy(
            () -> FileSource.of(opts("format", "fixed-length", "clean-source", "archive")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("record-length")
        .hasMessageContaining("archive-dir");
    assertThatThrownBy(
            () ->
                FileSource.of(
                    opts("clean-source", "archive", "archive-dir", in.resolve("done").toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("inside the monitored path");
  }

  @Test
  void cleanSourceDeleteRemovesFilesOnlyAfterCommit() throws Exception {
    try (SourceHarness h = new SourceHarness(opts("clean-source", "delete"), ckpt)) {
      h.batch();
      Path a = put(in, "a.txt", "a\n");
      List<OffsetRange> ranges = h.plan();
      assertThat(h.read(ranges)).containsExactly("a");
      assertThat(a).exists();
      h.commit(ranges);
      assertThat(a).doesNotExist();
      h.commit(ranges); // repeated (a restart sees the commit again): harmless
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void cleanSourceArchiveMovesFilesAfterCommitKeepingRelativePaths() throws Exception {
    Path archive = tmp.resolve("archive");
    Map<String, Object> o =
        opts("clean-source", "archive", "archive-dir", archive.toString(), "recursive", true);
    try (SourceHarness h = new SourceHarness(o, ckpt)) {
      h.batch();
      Path a = put(in.resolve("date=2026-11-25"), "a.txt", "a\n");
      List<OffsetRange> ranges = h.plan();
      assertThat(h.read(ranges)).containsExactly("a");
      assertThat(a).exists();
      h.commit(ranges);
      assertThat(a).doesNotExist();
      assertThat(archive.resolve("date=2026-11-25/a.txt")).hasContent("a");
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void cleaningMissedByACrashAfterCommitHappensAtTheNextCommit() throws Exception {
    Map<String, Long> positions = new HashMap<>();
    Path a;
    try (SourceHarness h = new SourceHarness(opts("clean-source", "delete"), ckpt, positions)) {
      h.batch();
      a = put(in, "a.txt", "a\n");
      List<OffsetRange> ranges = h.plan();
      h.read(ranges);
      // the pipeline wrote commits/N, then died before onBatchCommitted
    }
    assertThat(a).exists();
    try (SourceHarness h = new SourceHarness(opts("clean-source", "delete"), ckpt, positions)) {
      put(in, "b.txt", "b\n");
      assertThat(h.batch()).containsExactly("b");
      assertThat(a).doesNotExist();
      assertThat(in.resolve("b.txt")).doesNotExist();
    }
  }

  static List<String> lines(int n, String prefix) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(prefix + i);
    }
    return out;
  }
}
