package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clocks and order on the local file system: a future-dated file never moves the horizon, and
 * ordered-file-names cannot skip a name renamed in while the directory was being read.
 */
class ClockAndOrderTest {
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

  static Path putAt(Path dir, String name, String content, Instant mtime) throws IOException {
    Path t = dir.resolve("." + name + ".tmp");
    Files.writeString(t, content);
    Files.setLastModifiedTime(t, FileTime.from(mtime));
    return Files.move(t, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void aFileDatedThirtyDaysAheadIsReadCountedOnceAndNeverMovesTheHorizon() throws Exception {
    Map<String, Long> positions = new HashMap<>();
    try (SourceHarness h = harness(positions, "max-file-age", "1d")) {
      assertThat(h.batch()).isEmpty();
      putAt(in, "future.txt", "from the future\n", Instant.now().plus(Duration.ofDays(30)));
      assertThat(h.batch()).containsExactly("from the future");
      FileSourceTest.put(in, "normal-1.txt", "normal 1\n");
      assertThat(h.batch()).as("a file of now is inside the horizon").containsExactly("normal 1");
      putAt(in, "hour-old.txt", "an hour old\n", Instant.now().minus(Duration.ofHours(1)));
      assertThat(h.batch()).containsExactly("an hour old");
      assertThat(h.batch()).as("nothing read twice").isEmpty();
      assertThat(h.counter("tributary.files.future-dated")).as("once per file").isEqualTo(1);
    }
    try (SourceHarness h = harness(positions, "max-file-age", "1d")) {
      FileSourceTest.put(in, "normal-2.txt", "normal 2\n");
      assertThat(h.batch()).as("after a restart too").containsExactly("normal 2");
    }
  }

  /**
   * Names strictly increasing, renamed in as fast as one thread can while the source lists a
   * directory of 20,000 older names (read in hash order by the kernel): every file exactly once,
   * without reconciliation. Before the fix the mark moved to the greatest name a listing returned,
   * and a smaller name renamed in during that listing, which the listing had passed, was never
   * looked at again.
   */
  @Test
  void orderedNamesRenamedInDuringListingsAreReadExactlyOnceWithoutReconciliation()
      throws Exception {
    Path staging = Files.createDirectories(tmp.resolve("staging"));
    for (int i = 0; i < 20_000; i++) {
      Files.createFile(in.resolve(String.format("a-%06d.txt", i)));
    }
    int total = 30_000;
    List<String> read = new ArrayList<>();
    try (SourceHarness h =
        harness(
            new HashMap<>(),
            "ordered-file-names",
            true,
            "reconcile-interval",
            "0s",
            "max-files-per-batch",
            100_000)) {
      assertThat(h.batch()).isEmpty();
      AtomicInteger cycles = new AtomicInteger();
      CompletableFuture<Integer> writer =
          CompletableFuture.supplyAsync(
              () -> {
                int i = 0;
                try {
                  for (; i < total && cycles.get() < 40; i++) {
                    String name = String.format("b-%06d.txt", i);
                    Path t = staging.resolve(name);
                    Files.writeString(t, name + "\n");
                    Files.move(t, in.resolve(name), StandardCopyOption.ATOMIC_MOVE);
                  }
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
                return i;
              });
      // listing cycles only while the writer runs (reading thousands of files per cycle would
      // leave few listings to race with); every planned range is read at the end
      List<io.tributary.core.api.OffsetRange> planned = new ArrayList<>();
      while (!writer.isDone()) {
        planned.addAll(h.plan());
        cycles.incrementAndGet();
      }
      int written = writer.join();
      // two cycles after the last rename: the second's mark covers everything the first listed
      planned.addAll(h.plan());
      planned.addAll(h.plan());
      read.addAll(h.read(planned));
      assertThat(cycles.get()).as("the writer overlapped many listings").isGreaterThan(3);
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < written; i++) {
        expected.add(String.format("b-%06d.txt", i));
      }
      Map<String, Long> counts =
          read.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
      assertThat(counts.values()).as("nothing twice").allMatch(n -> n == 1);
      assertThat(counts.keySet())
          .as("nothing skipped (%d written, %d cycles)", written, cycles.get())
          .containsExactlyInAnyOrderElementsOf(expected);
    }
  }
}
