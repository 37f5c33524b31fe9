package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.FileSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast listing modes stay fast but cannot lose a file: a reconciliation listing at every start
 * and every reconcile-interval finds files that arrived out of order or late, and counts them.
 */
class ReconciliationTest {
  @TempDir Path tmp;
  Path in;
  Path ckpt;
  final MutableClock clock = new MutableClock();

  @BeforeEach
  void dirs() throws IOException {
    in = Files.createDirectories(tmp.resolve("in"));
    ckpt = tmp.resolve("ckpt");
  }

  SourceHarness harness(Map<String, Long> positions, Object... kv) throws Exception {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toUri().toString());
    m.put("reconcile-interval", "1m");
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return new SourceHarness(m, ckpt, positions, clock);
  }

  static double late(SourceHarness h) {
    return h.counter("tributary.files.late");
  }

  @Test
  void aNameArrivingOutOfOrderIsReadByTheNextReconciliationAndCountedLate() throws Exception {
    try (SourceHarness h = harness(new HashMap<>(), "ordered-file-names", true)) {
      assertThat(h.batch()).isEmpty();
      assertThat(h.source.lastListing().reconciliation()).as("every start").isTrue();
      FileSourceTest.put(in, "f-0002.txt", "two\n");
      assertThat(h.batch()).containsExactly("two");
      assertThat(h.source.lastListing().reconciliation()).isFalse();
      // the fast listing skips names up to the mark of the cycle before the last (a listing is
      // not a snapshot; see ClockAndOrderTest): one more cycle and the mark is f-0002
      assertThat(h.batch()).isEmpty();
      FileSourceTest.put(in, "f-0001.txt", "one, uploaded late\n");
      FileSourceTest.put(in, "f-0003.txt", "three\n");
      assertThat(h.batch()).containsExactly("three"); // the fast path looks after f-0002 only
      clock.advance(Duration.ofSeconds(61));
      assertThat(h.batch()).containsExactly("one, uploaded late");
      assertThat(h.source.lastListing().reconciliation()).isTrue();
      assertThat(h.source.lastListing().late()).isEqualTo(1);
      assertThat(late(h)).isEqualTo(1);
      assertThat(h.counter("tributary.files.reconciliations")).isEqualTo(2);
      clock.advance(Duration.ofSeconds(61));
      assertThat(h.batch()).as("nothing read twice by reconciliations").isEmpty();
    }
  }

  @Test
  void aLateFileIsFoundAtTheNextStart() throws Exception {
    Map<String, Long> positions = new HashMap<>();
    try (SourceHarness h = harness(positions, "ordered-file-names", true)) {
      h.batch();
      FileSourceTest.put(in, "f-0005.txt", "five\n");
      assertThat(h.batch()).containsExactly("five");
    }
    FileSourceTest.put(in, "f-0004.txt", "four, while stopped\n");
    try (SourceHarness h = harness(positions, "ordered-file-names", true)) {
      assertThat(h.batch()).containsExactly("four, while stopped");
      assertThat(late(h)).isEqualTo(1);
    }
  }

  @Test
  void aLatePartitionAndALateFileInAnOldPartitionAreReadByReconciliation() throws Exception {
    Map<String, Long> positions = new HashMap<>();
    try (SourceHarness h =
        harness(positions, "recursive", true, "ordered-partitions", true, "max-file-age", "30d")) {
      h.batch();
      FileSourceTest.put(in.resolve("date=2026-11-24"), "a.txt", "a\n");
      FileSourceTest.put(in.resolve("date=2026-11-26"), "c.txt", "c\n");
      assertThat(h.batch()).containsExactlyInAnyOrder("a", "c");
      FileSourceTest.put(in.resolve("date=2026-11-25"), "late-partition.txt", "late partition\n");
      assertThat(h.batch()).as("pruned: sorts before the newest partition").isEmpty();
      assertThat(h.source.lastListing().directoriesPruned()).isEqualTo(1);
      clock.advance(Duration.ofSeconds(61));
      assertThat(h.batch()).containsExactly("late partition");
      assertThat(late(h)).isEqualTo(1);
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void zeroIntervalTurnsReconciliationOffAndTheSourceCanBeAskedForOne() throws Exception {
    try (SourceHarness h =
        harness(new HashMap<>(), "ordered-file-names", true, "reconcile-interval", "0s")) {
      h.batch();
      assertThat(h.source.lastListing().reconciliation()).isFalse();
      FileSourceTest.put(in, "f-2.txt", "2\n");
      assertThat(h.batch()).containsExactly("2");
      assertThat(h.batch()).isEmpty(); // the mark covers f-2 from the next cycle on
      FileSourceTest.put(in, "f-1.txt", "1\n");
      clock.advance(Duration.ofHours(1));
      assertThat(h.batch()).isEmpty();
      FileSource source = h.source;
      source.reconcileAtNextCycle();
      assertThat(h.batch()).containsExactly("1");
    }
  }
}
