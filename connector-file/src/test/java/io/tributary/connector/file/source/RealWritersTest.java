package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files source with the tools people write files with, writing in place into the watched
 * directory while the source lists it as fast as it can: every line exactly once, through the
 * completeness guard (stable-for). rsync and curl are not on every fresh Debian machine: {@code
 * .ci/run} installs them.
 */
class RealWritersTest {
  static final Duration STABLE = Duration.ofSeconds(1);

  @TempDir Path tmp;
  Path in;
  Path src;
  Path ckpt;
  int sentinels;

  /** The sentinel's file name suffix: it must match the file pattern (a .gz one is compressed). */
  String sentinelSuffix = ".txt";

  @BeforeEach
  void dirs() throws IOException {
    in = Files.createDirectories(tmp.resolve("in"));
    src = Files.createDirectories(tmp.resolve("src"));
    ckpt = tmp.resolve("ckpt");
  }

  SourceHarness harness(Object... kv) throws Exception {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toUri().toString());
    m.put("stable-for", STABLE.toMillis() + "ms");
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    SourceHarness h = new SourceHarness(m, ckpt);
    assertThat(h.batch()).isEmpty(); // first start: nothing there yet
    return h;
  }

  static List<String> lines(String prefix, int n) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(prefix + "-" + i + "-" + "x".repeat(40));
    }
    return out;
  }

  static Path writeLines(Path f, List<String> lines) throws IOException {
    return Files.write(f, lines, StandardCharsets.UTF_8);
  }

  static Process start(Path dir, String... command) throws IOException {
    return new ProcessBuilder(command)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("..").resolve("tool-" + command[0] + ".log").toFile())
        .start();
  }

  /**
   * Lists and reads in a loop while the writer runs, then renames a sentinel file into place and
   * goes on until the sentinel is read: its admission needs stable-for after the writer finished,
   * so everything the writer wrote has been read by then.
   */
  List<String> readWhile(SourceHarness h, Process writer) throws Exception {
    List<String> got = new ArrayList<>();
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(5))
        .until(
            () -> {
              got.addAll(h.batch());
              return !writer.isAlive();
            });
    assertThat(writer.waitFor()).as("exit code of the writer").isZero();
    return drain(h, got);
  }

  List<String> drain(SourceHarness h, List<String> got) throws Exception {
    String sentinel = "sentinel-" + sentinels++;
    Path t = in.resolve(".sentinel.tmp");
    byte[] content = (sentinel + "\n").getBytes(StandardCharsets.UTF_8);
    if (sentinelSuffix.endsWith(".gz")) {
      java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
      try (OutputStream gz = new java.util.zip.GZIPOutputStream(b)) {
        gz.write(content);
      }
      content = b.toByteArray();
    }
    Files.write(t, content);
    Files.move(t, in.resolve("zz-" + sentinel + sentinelSuffix), StandardCopyOption.ATOMIC_MOVE);
    await()
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              got.addAll(h.batch());
              return got.contains(sentinel);
            });
    got.remove(sentinel);
    return got;
  }

  /** Every expected line exactly once, nothing else (lines are unique in these tests). */
  static void assertExactlyOnce(List<String> got, List<String> expected) {
    Map<String, Integer> counts = new HashMap<>();
    for (String l : got) {
      counts.merge(l, 1, Integer::sum);
    }
    List<String> duplicated = new ArrayList<>();
    counts.forEach(
        (l, n) -> {
          if (n > 1) {
            duplicated.add(l);
          }
        });
    java.util.Set<String> want = new java.util.HashSet<>(expected);
    List<String> missing = expected.stream().filter(l -> !counts.containsKey(l)).limit(5).toList();
    List<String> unexpected = got.stream().filter(l -> !want.contains(l)).limit(5).toList();
    assertThat(duplicated).as("lines read more than once").isEmpty();
    assertThat(missing).as("lines never read (first 5)").isEmpty();
    assertThat(unexpected).as("lines never written (first 5)").isEmpty();
    assertThat(got).hasSameSizeAs(expected);
  }

  @Test
  void cpOfALargeFileStraightIntoTheDirectory() throws Exception {
    List<String> expected = lines("cp", 300_000);
    writeLines(src.resolve("big.txt"), expected);
    try (SourceHarness h = harness()) {
      Process cp = start(src, "cp", src.resolve("big.txt").toString(), in.toString());
      assertExactlyOnce(readWhile(h, cp), expected);
      assertThat(h.counter("tributary.files.admitted")).isEqualTo(2); // the file and the sentinel
    }
  }

  @Test
  void curlDownloadingFromALocalHttpServer() throws Exception {
    List<String> expected = lines("curl", 20_000);
    byte[] body = (String.join("\n", expected) + "\n").getBytes(StandardCharsets.UTF_8);
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    CountDownLatch served = new CountDownLatch(1);
    server.createContext(
        "/data.txt",
        ex -> {
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream out = ex.getResponseBody()) {
            int step = body.length / 20;
            for (int off = 0; off < body.length; off += step) {
              out.write(body, off, Math.min(step, body.length - off));
              out.flush();
              try {
                // a slow network: the body arrives in 20 pieces, well within stable-for of each
                // other
                TimeUnit.MILLISECONDS.sleep(40);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
              }
            }
          }
          served.countDown();
        });
    server.start();
    try (SourceHarness h = harness()) {
      Process curl =
          start(
              in,
              "curl",
              "-sS",
              "--fail",
              "-o",
              in.resolve("data.txt").toString(),
              "http://127.0.0.1:" + server.getAddress().getPort() + "/data.txt");
      assertExactlyOnce(readWhile(h, curl), expected);
      assertThat(served.await(1, TimeUnit.MINUTES)).isTrue();
    } finally {
      server.stop(0);
    }
  }

  @Test
  void splitWritingItsPiecesInPlace() throws Exception {
    List<String> expected = lines("split", 200_000);
    writeLines(src.resolve("big.txt"), expected);
    try (SourceHarness h = harness()) {
      Process split =
          start(
              in,
              "split",
              "-l",
              "7000",
              "-d",
              "-a",
              "3",
              src.resolve("big.txt").toString(),
              "part-");
      assertExactlyOnce(readWhile(h, split), expected);
    }
  }

  @Test
  void rsyncInplaceWithABandwidthLimit() throws Exception {
    List<String> expected = lines("rsync", 40_000);
    writeLines(src.resolve("big.txt"), expected);
    try (SourceHarness h = harness()) {
      Process rsync =
          start(
              src,
              "rsync",
              "--inplace",
              "--bwlimit=1500",
              src.resolve("big.txt").toString(),
              in.resolve("big.txt").toString());
      assertExactlyOnce(readWhile(h, rsync), expected);
    }
  }

  @Test
  void tarExtractingFreshFiles() throws Exception {
    List<String> expected = new ArrayList<>();
    Path pack = Files.createDirectories(tmp.resolve("pack"));
    for (int i = 0; i < 5; i++) {
      List<String> l = lines("tar" + i, 30_000);
      expected.addAll(l);
      writeLines(pack.resolve("f" + i + ".txt"), l);
    }
    Path archive = tmp.resolve("fresh.tar");
    assertThat(start(pack, "tar", "cf", archive.toString(), ".").waitFor()).isZero();
    try (SourceHarness h = harness()) {
      Process tar = start(in, "tar", "xf", archive.toString(), "--exclude=./", "--no-same-owner");
      assertExactlyOnce(readWhile(h, tar), expected);
    }
  }

  @Test
  void gzipCompressingAFileInPlace() throws Exception {
    List<String> expected = lines("gz", 300_000);
    sentinelSuffix = ".gz";
    try (SourceHarness h = harness("file-pattern", "*.gz")) {
      writeLines(in.resolve("data.log"), expected); // not matched by the pattern
      Process gzip = start(in, "gzip", "-6", in.resolve("data.log").toString());
      assertExactlyOnce(readWhile(h, gzip), expected);
      assertThat(h.counter("tributary.files.quarantined")).isZero();
    }
  }

  @Test
  void aProgramAppendingToAFileUnderItsFinalName() throws Exception {
    List<String> expected = lines("app", 100);
    try (SourceHarness h = harness()) {
      Path f = in.resolve("app.log");
      Thread appender =
          new Thread(
              () -> {
                try {
                  for (String l : expected) {
                    Files.writeString(
                        f, l + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    TimeUnit.MILLISECONDS.sleep(20); // the writer's own pace, not a synchronisation
                  }
                } catch (IOException | InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              },
              "appender");
      appender.start();
      List<String> got = new ArrayList<>();
      await()
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(5))
          .until(
              () -> {
                got.addAll(h.batch());
                return !appender.isAlive();
              });
      assertExactlyOnce(drain(h, got), expected);
    }
  }

  /** Files written 10 days ago by the writer's clock, next to a fresh one that sets the horizon. */
  List<String> oldFiles(Path dir, String prefix, int files) throws IOException {
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < files; i++) {
      List<String> l = lines(prefix + i, 1000);
      expected.addAll(l);
      Path f = writeLines(dir.resolve(prefix + "-" + i + ".txt"), l);
      Files.setLastModifiedTime(
          f, FileTime.from(Instant.now().minus(Duration.ofDays(10)).plusSeconds(i)));
    }
    return expected;
  }

  /**
   * Runs a writer that keeps old modification times, first with the default age rule (the files are
   * ignored, counted once each and logged), then with age-by: discovery-time (read once).
   */
  void oldTimesKept(String... command) throws Exception {
    List<String> expected = oldFiles(src, "old", 3);
    SourceHarness h = harness("max-file-age", "1d");
    try (h) {
      List<String> got = drain(h, new ArrayList<>()); // a fresh file sets the horizon to now - 1d
      assertThat(got).isEmpty();
      Process p = start(src, command);
      got = readWhile(h, p);
      assertThat(got).isEmpty();
      got = drain(h, got);
      assertThat(got).isEmpty();
      assertThat(ignoredTooOld(h)).as("each ignored file counted once, over cycles").isEqualTo(3);
    }
    Files.walk(in).sorted(java.util.Comparator.reverseOrder()).forEach(RealWritersTest::delete);
    Files.createDirectories(in);
    ckpt = tmp.resolve("ckpt-discovery");
    try (SourceHarness d = harness("max-file-age", "1d", "age-by", "discovery-time")) {
      assertExactlyOnce(readWhile(d, start(src, command)), expected);
      assertThat(ignoredTooOld(d)).isZero();
      assertThat(drain(d, new ArrayList<>())).isEmpty();
    }
  }

  static double ignoredTooOld(SourceHarness h) {
    return h.registry.get("tributary.files.ignored").tag("reason", "too-old").counter().count();
  }

  static void delete(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void rsyncKeepingModificationTimes() throws Exception {
    oldTimesKept("rsync", "-t", "old-0.txt", "old-1.txt", "old-2.txt", in.toString() + "/");
  }

  @Test
  void cpPreservingModificationTimes() throws Exception {
    oldTimesKept("cp", "-p", "old-0.txt", "old-1.txt", "old-2.txt", in.toString());
  }

  @Test
  void tarExtractingOldFiles() throws Exception {
    Path archive = tmp.resolve("old.tar");
    oldFiles(src, "old", 3);
    assertThat(
            start(src, "tar", "cf", archive.toString(), "old-0.txt", "old-1.txt", "old-2.txt")
                .waitFor())
        .isZero();
    oldTimesKept("tar", "xf", archive.toString(), "-C", in.toString());
  }
}
