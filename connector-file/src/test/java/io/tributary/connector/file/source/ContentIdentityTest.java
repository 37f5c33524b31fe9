package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code identity: content}: a file renamed, compressed or hard-linked after it was read is not
 * read again, a file replaced under a name already read by other content is read; {@code identity:
 * path} (the default) for contrast.
 */
class ContentIdentityTest {
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

  static List<String> lines(String tag, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(tag + "-line-" + i);
    }
    return out;
  }

  static String text(List<String> lines) {
    return String.join("\n", lines) + "\n";
  }

  /** Writes under a temporary name, then renames into place. */
  static void put(Path dir, String name, String content) throws IOException {
    Path t = dir.resolve("." + name + ".tmp");
    Files.writeString(t, content);
    Files.move(t, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  static void gzipInPlace(Path f) throws IOException {
    Path gz = f.resolveSibling(f.getFileName() + ".gz");
    Path t = f.resolveSibling("." + f.getFileName() + ".gz.tmp");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(t))) {
      Files.copy(f, out);
    }
    Files.move(t, gz, StandardCopyOption.ATOMIC_MOVE);
    Files.delete(f);
  }

  /**
   * logrotate with {@code compress} and {@code delaycompress}: each rotation renames app.log to
   * app.log.1 (a name read before, now with new content) and compresses the previous app.log.1 to
   * app.log.2.gz (content read before, under a new name), the older .gz files shifting up.
   */
  List<String> rotateFourTimes(SourceHarness h, List<String> expected) throws Exception {
    Path conf = tmp.resolve("logrotate.conf");
    Files.writeString(
        conf,
        in.resolve("app.log")
            + " {\n  rotate 50\n  missingok\n  compress\n  delaycompress\n  create\n}\n");
    Path status = tmp.resolve("logrotate.status");
    List<String> got = new ArrayList<>(h.batch()); // first listing: nothing there yet
    for (int k = 1; k <= 4; k++) {
      List<String> ls = lines("rotation-" + k, 100 + k); // lengths differ per rotation
      expected.addAll(ls);
      Files.writeString(
          in.resolve("app.log"),
          text(ls),
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      Process p =
          new ProcessBuilder("logrotate", "-f", "-s", status.toString(), conf.toString())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isZero();
      got.addAll(h.batch());
    }
    assertThat(Files.exists(in.resolve("app.log.4.gz"))).as("rotated and compressed").isTrue();
    return got;
  }

  @Test
  void logrotateCompressReadsEveryLineOnceByContent() throws Exception {
    List<String> expected = new ArrayList<>();
    try (SourceHarness h =
        new SourceHarness(opts("file-pattern", "app.log.*", "identity", "content"), ckpt)) {
      List<String> got = rotateFourTimes(h, expected);
      assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
      // app.log.2.gz after rotations 2, 3, 4; app.log.3.gz after 3, 4; app.log.4.gz after 4
      assertThat(h.registry.get("tributary.files.ignored").tag("reason", "same-content").counter())
          .extracting(c -> c.count())
          .isEqualTo(6.0);
      assertThat(h.registry.find("tributary.files.changed").counters())
          .as("a name replaced by other content is a new file, not a change")
          .isEmpty();
    }
  }

  @Test
  void logrotateCompressByPathReadsCompressedCopiesAgainAndMissesReplacedNames() throws Exception {
    List<String> expected = new ArrayList<>();
    try (SourceHarness h = new SourceHarness(opts("file-pattern", "app.log.*"), ckpt)) {
      List<String> got = rotateFourTimes(h, expected);
      // the rule identity: content fixes: app.log.1 is read once (rotation 1's lines), later
      // contents under that name are not read; compressed copies are read as new files
      assertThat(got).containsAll(lines("rotation-1", 101));
      assertThat(got).filteredOn(l -> l.startsWith("rotation-1-")).hasSize(101 * 4);
      assertThat(got).doesNotContainAnyElementsOf(lines("rotation-4", 104));
    }
  }

  @Test
  void renamedCompressedAndHardLinkedCopiesAreNotReadAgainAcrossARestart() throws Exception {
    Map<String, Object> o = opts("identity", "content");
    Map<String, Long> positions = new HashMap<>(); // offsets/N, kept across the restart
    List<String> a = lines("a", 50);
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      assertThat(h.batch()).isEmpty();
      put(in, "a.txt", text(a));
      assertThat(h.batch()).containsExactlyElementsOf(a);
      Files.createLink(in.resolve("a-link.txt"), in.resolve("a.txt"));
      assertThat(h.batch()).as("a hard link is the same content").isEmpty();
    }
    // restart: the fingerprint read is in the checkpoint
    try (SourceHarness h = new SourceHarness(o, ckpt, positions)) {
      Files.move(in.resolve("a.txt"), in.resolve("a-renamed.txt"));
      gzipInPlace(in.resolve("a-renamed.txt"));
      put(in, "b.txt", text(lines("b", 3)));
      assertThat(h.batch()).containsExactlyElementsOf(lines("b", 3));
      assertThat(h.registry.get("tributary.files.ignored").tag("reason", "same-content").counter())
          .extracting(c -> c.count())
          .as("a-link.txt and a-renamed.txt.gz, once each however many cycles")
          .isEqualTo(2.0);
      assertThat(h.batch()).isEmpty();
      assertThat(h.registry.get("tributary.files.ignored").tag("reason", "same-content").counter())
          .extracting(c -> c.count())
          .isEqualTo(2.0);
    }
  }

  @Test
  void aNameReplacedByOtherContentIsReadAndAGrownFileIsNotANewFile() throws Exception {
    try (SourceHarness h =
        new SourceHarness(opts("identity", "content", "fingerprint-bytes", "64"), ckpt)) {
      assertThat(h.batch()).isEmpty();
      put(in, "x.txt", "short\n"); // shorter than fingerprint-bytes
      assertThat(h.batch()).containsExactly("short");
      // grows past fingerprint-bytes: the same file (on-change warns), not new content
      Files.writeString(in.resolve("x.txt"), text(lines("more", 20)), StandardOpenOption.APPEND);
      assertThat(h.batch()).isEmpty();
      assertThat(h.registry.get("tributary.files.changed").tag("change", "grew").counter().count())
          .isEqualTo(1.0);
      // the grown file renamed: still the content read
      Files.move(in.resolve("x.txt"), in.resolve("x-old.txt"));
      assertThat(h.batch()).isEmpty();
      // x.txt again, other content: read
      put(in, "x.txt", text(lines("new", 3)));
      assertThat(h.batch()).containsExactlyElementsOf(lines("new", 3));
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void byPathAHardLinkIsASecondFileAndAReplacedNameIsNotRead() throws Exception {
    try (SourceHarness h = new SourceHarness(opts(), ckpt)) {
      assertThat(h.batch()).isEmpty();
      put(in, "a.txt", "a1\n");
      assertThat(h.batch()).containsExactly("a1");
      Files.createLink(in.resolve("a-link.txt"), in.resolve("a.txt"));
      assertThat(h.batch()).as("identity path: two names are two files").containsExactly("a1");
      put(in, "a.txt", "a2\n");
      assertThat(h.batch()).as("identity path: a name is read once").isEmpty();
    }
  }
}
