package io.tributary.sdk.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.sdk.PollingReceiver;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Behaviour specific to the spool directory, beyond the contract suite. */
class SpoolDirectoryReceiverTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  private final List<EmbeddedReceiver> harnesses = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (EmbeddedReceiver h : harnesses) {
      h.close();
    }
  }

  private SpoolDirectoryReceiver receiver(int chunkLines) {
    return new SpoolDirectoryReceiver(
        dir,
        chunkLines,
        1024 * 1024,
        Duration.ofMillis(20),
        PollingReceiver.Settings.defaults()
            .withBackoff(Duration.ofMillis(10), Duration.ofMillis(50)));
  }

  private EmbeddedReceiver started(SpoolDirectoryReceiver r) throws Exception {
    EmbeddedReceiver h = new EmbeddedReceiver(r, "spool");
    harnesses.add(h);
    return h.start();
  }

  private Path done(String name) {
    return dir.resolve(SpoolDirectoryReceiver.DONE_DIR).resolve(name);
  }

  private static List<String> lines(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> "line " + i).toList();
  }

  private static List<String> values(List<Record> records) {
    return records.stream().map(Record::valueAsString).toList();
  }

  @Test
  void ignoresTempAndHiddenFilesUntilTheyAreRenamedIntoPlace() throws Exception {
    Files.write(dir.resolve("a.txt.tmp"), List.of("tmp"));
    Files.write(dir.resolve(".a.txt"), List.of("hidden"));
    EmbeddedReceiver h = started(receiver(10));
    // Renamed into place, as the spool contract asks: a file written in place can be seen empty.
    spool("marker.txt", List.of("marker"));
    await().atMost(WAIT).until(() -> Files.exists(done("marker.txt")));
    assertThat(values(h.durable())).containsExactly("marker");
    assertThat(dir.resolve("a.txt.tmp")).exists();
    assertThat(dir.resolve(".a.txt")).exists();

    Files.move(dir.resolve("a.txt.tmp"), dir.resolve("a.txt"), StandardCopyOption.ATOMIC_MOVE);
    await().atMost(WAIT).until(() -> Files.exists(done("a.txt")));
    assertThat(values(h.durable())).containsExactly("marker", "tmp");
  }

  @Test
  void storesALargeFileInBoundedChunksWithLinePositionsAndMovesItOnceAtTheEnd() throws Exception {
    Files.write(dir.resolve("big.txt"), lines(0, 95));
    EmbeddedReceiver h = new EmbeddedReceiver(receiver(10), "spool");
    harnesses.add(h);
    h.holdReliableStores();
    h.start();
    for (int chunk = 0; chunk < 9; chunk++) {
      int expected = (chunk + 1) * 10;
      await().atMost(WAIT).until(() -> h.heldStoreCount() == 1);
      assertThat(h.heldRecords()).hasSize(10);
      h.completeHeldStores();
      await().atMost(WAIT).until(() -> h.durable().size() == expected);
      assertThat(dir.resolve("big.txt")).as("moved only after its last chunk").exists();
    }
    await().atMost(WAIT).until(() -> h.heldStoreCount() == 1);
    assertThat(h.heldRecords()).hasSize(5);
    h.releaseReliableStores();
    await().atMost(WAIT).until(() -> Files.exists(done("big.txt")));
    assertThat(values(h.durable())).containsExactlyElementsOf(lines(0, 95));
    for (int i = 0; i < 95; i++) {
      assertThat(h.durable().get(i).position())
          .isEqualTo(new SourcePosition("spool", "big.txt", i + 1));
    }
  }

  @Test
  void aCrashBetweenStoreAndMoveSkipsTheStoredLinesAfterwards() throws Exception {
    Files.write(dir.resolve("f.txt"), lines(0, 25));
    EmbeddedReceiver h = new EmbeddedReceiver(receiver(10), "spool");
    harnesses.add(h);
    h.holdCompletions(); // the first chunk becomes durable, the receiver never hears of it
    h.start();
    await().atMost(WAIT).until(() -> h.heldStoreCount() == 1);
    h.crash();
    assertThat(values(h.durable())).containsExactlyElementsOf(lines(0, 10));
    assertThat(dir.resolve("f.txt")).exists();

    EmbeddedReceiver recovered = h.afterCrash(receiver(10));
    harnesses.add(recovered);
    recovered.start();
    await().atMost(WAIT).until(() -> Files.exists(done("f.txt")));
    assertThat(values(recovered.durable())).containsExactlyElementsOf(lines(0, 25));
  }

  @Test
  void aFileWhoseLinesWereAllStoredIsJustMoved() throws Exception {
    Files.write(dir.resolve("f.txt"), lines(0, 10));
    EmbeddedReceiver h = new EmbeddedReceiver(receiver(10), "spool");
    harnesses.add(h);
    h.holdCompletions();
    h.start();
    await().atMost(WAIT).until(() -> h.heldStoreCount() == 1);
    h.crash();
    EmbeddedReceiver recovered = h.afterCrash(receiver(10));
    harnesses.add(recovered);
    recovered.start();
    await().atMost(WAIT).until(() -> Files.exists(done("f.txt")));
    assertThat(values(recovered.durable())).containsExactlyElementsOf(lines(0, 10));
  }

  @Test
  void emptyFilesAndCrLfLinesAreHandled() throws Exception {
    Files.write(dir.resolve("empty.txt"), new byte[0]);
    Files.writeString(
        dir.resolve("crlf.txt"), "a\r\nb\r\nlast-without-newline", StandardCharsets.UTF_8);
    EmbeddedReceiver h = started(receiver(10));
    await()
        .atMost(WAIT)
        .until(() -> Files.exists(done("empty.txt")) && Files.exists(done("crlf.txt")));
    assertThat(values(h.durable())).containsExactly("a", "b", "last-without-newline");
  }

  @Test
  void anInvalidUtf8FileFailsLoudlyAndIsNotAcknowledged() throws Exception {
    Files.write(
        dir.resolve("bad.txt"), new byte[] {'o', 'k', '\n', (byte) 0xC3, (byte) 0x28, '\n'});
    EmbeddedReceiver h = started(receiver(10));
    await().atMost(WAIT).until(() -> !h.restartRequests().isEmpty());
    assertThat(h.reportedErrors())
        .anySatisfy(
            e ->
                assertThat(e)
                    .isInstanceOf(SpoolDirectoryException.class)
                    .hasMessageContaining("bad.txt")
                    .hasMessageContaining("not valid UTF-8"));
    assertThat(h.durable()).isEmpty();
    assertThat(dir.resolve("bad.txt")).exists();
  }

  @Test
  void aReusedFileNameFailsLoudly() throws Exception {
    Files.createDirectories(dir.resolve(SpoolDirectoryReceiver.DONE_DIR));
    Files.write(done("again.txt"), List.of("old"));
    Files.write(dir.resolve("again.txt"), List.of("new"));
    EmbeddedReceiver h = started(receiver(10));
    await().atMost(WAIT).until(() -> !h.restartRequests().isEmpty());
    assertThat(h.reportedErrors())
        .anySatisfy(
            e ->
                assertThat(e)
                    .isInstanceOf(SpoolDirectoryException.class)
                    .hasMessageContaining("again.txt"));
    assertThat(h.durable()).isEmpty();
    assertThat(Files.readAllLines(done("again.txt"))).containsExactly("old");
  }

  @Test
  void readsFilesInNameOrder() throws Exception {
    for (String n : List.of("c.txt", "a.txt", "b.txt")) {
      Files.write(dir.resolve(n), List.of(n));
    }
    EmbeddedReceiver h = started(receiver(10));
    await().atMost(WAIT).until(() -> h.durable().size() == 3);
    assertThat(values(h.durable())).containsExactly("a.txt", "b.txt", "c.txt");
  }

  @Test
  void isEligibleFollowsTheNamingRule() throws IOException {
    assertThat(SpoolDirectoryReceiver.isEligible("data.csv")).isTrue();
    assertThat(SpoolDirectoryReceiver.isEligible(".data.csv")).isFalse();
    assertThat(SpoolDirectoryReceiver.isEligible("data.csv.tmp")).isFalse();
  }

  /**
   * Writes {@code name} as a hidden temporary file, then renames it into the spool directory
   * atomically.
   */
  private void spool(String name, List<String> lines) throws Exception {
    Path tmp = dir.resolve("." + name + ".writing");
    Files.write(tmp, lines);
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }
}
