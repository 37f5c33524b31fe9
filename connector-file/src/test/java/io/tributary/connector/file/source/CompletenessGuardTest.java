package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.connector.file.FileSource;
import io.tributary.core.api.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stable-for with a clock the test moves: a file written in place is admitted only once stable. */
class CompletenessGuardTest {
  @TempDir Path tmp;
  Path in;
  Path ckpt;
  final MutableClock clock = new MutableClock();

  @BeforeEach
  void dirs() throws IOException {
    in = Files.createDirectories(tmp.resolve("in"));
    ckpt = tmp.resolve("ckpt");
  }

  SourceHarness harness(Object... kv) throws Exception {
    Map<String, Object> m = new HashMap<>();
    m.put("paths", in.toUri().toString());
    m.put("stable-for", "2s");
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return new SourceHarness(m, ckpt, new HashMap<>(), clock);
  }

  static void append(Path f, String s) throws IOException {
    Files.writeString(f, s, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Test
  void fileWrittenInPlaceIsAdmittedOnlyOnceLengthAndTimeWereStableForTheDeclaredTime()
      throws Exception {
    try (SourceHarness h = harness()) {
      h.batch();
      Path f = in.resolve("growing.txt");
      append(f, "a1\na2\n");
      assertThat(h.batch()).isEmpty(); // first observation
      assertThat(h.gauge("tributary.files.unstable")).isEqualTo(1);
      clock.advance(Duration.ofMillis(1500));
      append(f, "a3\n");
      assertThat(h.batch()).isEmpty(); // changed: observed again from now
      clock.advance(Duration.ofMillis(1500));
      assertThat(h.batch()).isEmpty(); // stable for 1.5 s only
      clock.advance(Duration.ofMillis(600));
      assertThat(h.batch()).containsExactly("a1", "a2", "a3");
      assertThat(h.gauge("tributary.files.unstable")).isZero();
      clock.advance(Duration.ofSeconds(5));
      assertThat(h.batch()).isEmpty();
    }
  }

  @Test
  void growingGzipWaitsInsteadOfFailingAsTruncated() throws Exception {
    try (SourceHarness h = harness()) {
      h.batch();
      ByteArrayOutputStream whole = new ByteArrayOutputStream();
      try (OutputStream gz = new GZIPOutputStream(whole)) {
        for (int i = 0; i < 5000; i++) {
          gz.write(("line-" + i + "\n").getBytes());
        }
      }
      byte[] bytes = whole.toByteArray();
      Path f = in.resolve("data.gz");
      Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length / 2)); // half written, in place
      assertThat(h.batch()).isEmpty();
      clock.advance(Duration.ofSeconds(1));
      assertThat(h.batch()).isEmpty();
      Files.write(f, bytes); // the writer finished
      assertThat(h.batch()).isEmpty();
      clock.advance(Duration.ofSeconds(2));
      assertThat(h.batch()).hasSize(5000).startsWith("line-0").endsWith("line-4999");
    }
  }

  @Test
  void aFileHeldForStabilityHoldsBackLaterNamesWithOrderedFileNames() throws Exception {
    try (SourceHarness h = harness("ordered-file-names", true)) {
      h.batch();
      append(in.resolve("f-001.log"), "one\n");
      clock.advance(Duration.ofSeconds(1));
      h.batch();
      append(in.resolve("f-002.log"), "two\n"); // stable first, but after a held name
      clock.advance(Duration.ofMillis(1500));
      append(in.resolve("f-001.log"), "one-more\n");
      assertThat(h.batch()).isEmpty();
      clock.advance(Duration.ofSeconds(2));
      assertThat(h.batch()).containsExactlyInAnyOrder("one", "one-more", "two");
    }
  }

  @Test
  void restartForgetsObservationsAndTheFileWaitsAgain() throws Exception {
    Path f = in.resolve("x.txt");
    try (SourceHarness h = harness()) {
      h.batch();
      append(f, "x\n");
      assertThat(h.batch()).isEmpty();
    }
    try (SourceHarness h = harness()) {
      clock.advance(Duration.ofSeconds(3));
      assertThat(h.batch()).isEmpty(); // observed for the first time by this process
      clock.advance(Duration.ofSeconds(2));
      assertThat(h.batch()).containsExactly("x");
    }
  }

  @Test
  void discoveryTimeIsRefusedWithTheFastListings() {
    assertThatThrownBy(
            () ->
                FileSource.of(
                    Map.of(
                        "paths",
                        in.toString(),
                        "age-by",
                        "discovery-time",
                        "ordered-file-names",
                        true)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Invalid value discovery-time for age-by")
        .hasMessageContaining("ordered-file-names");
  }

  @Test
  void negativeStableForIsRefused() {
    assertThatThrownBy(() -> FileSource.of(Map.of("paths", in.toString(), "stable-for", "-1s")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("stable-for")
        .hasMessageContaining("must not be negative");
  }
}
