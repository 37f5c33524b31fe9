package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.connector.file.FileChangedException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Detection after admission: on-change warn | fail | read-appended, counted and never silent. */
class OnChangeTest {
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
    m.put("stable-for", "1s");
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    SourceHarness h = new SourceHarness(m, ckpt, new HashMap<>(), clock);
    assertThat(h.batch()).isEmpty();
    return h;
  }

  /** Writes, then lets the guard admit it: returns what the admitting batch read. */
  java.util.List<String> settle(SourceHarness h) throws Exception {
    java.util.List<String> out = new java.util.ArrayList<>(h.batch());
    clock.advance(Duration.ofMillis(1100));
    out.addAll(h.batch());
    return out;
  }

  static void append(Path f, String s) throws IOException {
    Files.writeString(f, s, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  static double changed(SourceHarness h, String change, String action) {
    return h.registry
        .get("tributary.files.changed")
        .tag("change", change)
        .tag("action", action)
        .counter()
        .count();
  }

  @Test
  void warnCountsAndLogsAChangeOncePerFile() throws Exception {
    try (SourceHarness h = harness()) {
      Path f = in.resolve("a.txt");
      append(f, "a1\n");
      assertThat(settle(h)).containsExactly("a1");
      append(f, "a2\n");
      assertThat(h.batch()).isEmpty();
      append(f, "a3\n");
      clock.advance(Duration.ofSeconds(2));
      assertThat(h.batch()).isEmpty();
      assertThat(changed(h, "grew", "warn")).isEqualTo(1);
    }
  }

  @Test
  void failStopsWithAnExceptionNamingTheFileAndWhatToDo() throws Exception {
    try (SourceHarness h = harness("on-change", "fail")) {
      Path f = in.resolve("b.txt");
      append(f, "b1\nb2\n");
      assertThat(settle(h)).containsExactly("b1", "b2");
      Files.writeString(f, "x\n"); // rewritten shorter
      assertThatThrownBy(h::batch)
          .isInstanceOf(FileChangedException.class)
          .hasMessageContaining(f.getFileName().toString())
          .hasMessageContaining("on-change: read-appended");
      assertThat(changed(h, "rewritten", "fail")).isEqualTo(1);
    }
  }

  @Test
  void readAppendedReadsTheAppendedLinesOnceStableAsNewOffsets() throws Exception {
    try (SourceHarness h = harness("on-change", "read-appended")) {
      Path f = in.resolve("c.log");
      append(f, "c1\nc2\n");
      assertThat(settle(h)).containsExactly("c1", "c2");
      append(f, "c3\n");
      assertThat(h.batch()).isEmpty(); // growth seen, not yet stable
      append(f, "c4\n");
      clock.advance(Duration.ofMillis(500));
      assertThat(h.batch()).isEmpty();
      clock.advance(Duration.ofMillis(600));
      assertThat(h.batch()).isEmpty(); // stable for 600 ms only
      clock.advance(Duration.ofMillis(500));
      assertThat(h.batch()).containsExactly("c3", "c4");
      append(f, "c5\n");
      assertThat(settle(h)).containsExactly("c5");
      clock.advance(Duration.ofSeconds(5));
      assertThat(h.batch()).isEmpty();
      assertThat(changed(h, "grew", "read-appended")).isEqualTo(2);
      assertThat(h.counter("tributary.files.admitted")).as("one file, counted once").isEqualTo(1);
    }
  }

  @Test
  void readAppendedOnAGzipFileReadsTheAppendedMember() throws Exception {
    try (SourceHarness h = harness("on-change", "read-appended")) {
      Path f = in.resolve("d.gz");
      Files.write(f, gzip("d1\nd2\n"));
      assertThat(settle(h)).containsExactly("d1", "d2");
      Files.write(f, gzip("d3\n"), StandardOpenOption.APPEND); // gzip -c more >> d.gz
      assertThat(settle(h)).containsExactly("d3");
    }
  }

  @Test
  void readAppendedCountsARewriteAsAWarning() throws Exception {
    try (SourceHarness h = harness("on-change", "read-appended")) {
      Path f = in.resolve("e.txt");
      append(f, "e1\ne2\n");
      assertThat(settle(h)).containsExactly("e1", "e2");
      Files.writeString(f, "E1\nE2\n");
      Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
      assertThat(settle(h)).isEmpty();
      assertThat(changed(h, "rewritten", "warn")).isEqualTo(1);
    }
  }

  @Test
  void changesAreNotWatchedPastWatchChangesFor() throws Exception {
    try (SourceHarness h = harness("watch-changes-for", "10s")) {
      Path f = in.resolve("g.txt");
      append(f, "g1\n");
      assertThat(settle(h)).containsExactly("g1");
      clock.advance(Duration.ofSeconds(11));
      assertThat(h.batch()).isEmpty();
      append(f, "g2\n");
      assertThat(h.batch()).isEmpty();
      assertThat(h.registry.find("tributary.files.changed").counter()).isNull();
    }
  }

  static byte[] gzip(String s) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(b)) {
      gz.write(s.getBytes());
    }
    return b.toByteArray();
  }
}
