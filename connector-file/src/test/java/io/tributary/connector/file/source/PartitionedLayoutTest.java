package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.FileSource.ListingStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PartitionedLayoutTest {
  // in the past: a modification time more than a minute ahead of the clock is future-dated
  static final long NOW = System.currentTimeMillis() / 1000 * 1000 - 30L * 86_400_000L;
  static final long DAY = 86_400_000L;

  @TempDir Path tmp;
  Path in;

  @BeforeEach
  void oldPartitions() throws IOException {
    in = Files.createDirectories(tmp.resolve("table"));
    for (int d = 10; d < 20; d++) {
      put("date=2026-11-" + d + "/hour=00", "old.txt", "old\n", NOW - 30 * DAY);
    }
  }

  Path put(String rel, String name, String content, long mtime) throws IOException {
    Path dir = Files.createDirectories(in.resolve(rel));
    Path t = dir.resolve("." + name + ".tmp");
    Files.writeString(t, content);
    Files.setLastModifiedTime(t, FileTime.fromMillis(mtime));
    return Files.move(t, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  Map<String, Object> opts(boolean ordered) {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toString());
    m.put("recursive", true);
    m.put("ordered-partitions", ordered);
    m.put("max-file-age", "1d");
    return m;
  }

  @Test
  void newPartitionsAreFoundAndOldOnesAreNotListedAgain() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(true), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      assertThat(h.source.lastListing().directoriesListed())
          .isEqualTo(21); // first start: everything once
      put("date=2026-11-25/hour=00", "a.txt", "a\n", NOW);
      assertThat(h.batch()).containsExactly("a");
      // the old partitions fell out of the horizon: only the newest partition's branch is opened
      assertThat(h.batch()).isEmpty();
      ListingStats s = h.source.lastListing();
      assertThat(s.directoriesListed()).isEqualTo(3); // table, date=2026-11-25, hour=00
      assertThat(s.directoriesPruned()).isEqualTo(10);
      assertThat(s.filesListed()).isEqualTo(1);
      // a late file in the current partition, a new hour and a new day are all found
      put("date=2026-11-25/hour=00", "late.txt", "late\n", NOW + 1000);
      put("date=2026-11-25/hour=01", "b.txt", "b\n", NOW + 2000);
      put("date=2026-11-26/hour=00", "c.txt", "c\n", NOW + 3000);
      assertThat(h.batch()).containsExactlyInAnyOrder("late", "b", "c");
      // documented trade-off: a file written into a partition older than the horizon is not looked
      // for
      put("date=2026-11-12/hour=00", "too-late.txt", "too-late\n", NOW + 4000);
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void withoutOrderedPartitionsEverySubdirectoryIsListed() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(false), tmp.resolve("ckpt"))) {
      assertThat(h.batch()).isEmpty();
      put("date=2026-11-25/hour=00", "a.txt", "a\n", NOW);
      assertThat(h.batch()).containsExactly("a");
      put("date=2026-11-12/hour=00", "late.txt", "late\n", NOW);
      assertThat(h.batch()).containsExactly("late");
      assertThat(h.source.lastListing().directoriesListed()).isEqualTo(23);
      assertThat(h.source.lastListing().directoriesPruned()).isZero();
    }
  }
}
