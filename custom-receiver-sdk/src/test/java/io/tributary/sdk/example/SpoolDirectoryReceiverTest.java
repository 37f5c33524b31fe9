package io.tributary.sdk.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import io.tributary.sdk.testkit.ReceiverContractTest;
import io.tributary.sdk.testkit.ReceiverTestContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The SDK tests its own example with its own kit, plus the spool-specific rules. */
class SpoolDirectoryReceiverTest extends ReceiverContractTest {
  private static final int CHUNK = 50;

  /** A spool directory as the source: files written with the tmp-then-rename rule; acknowledged = in .done/. */
  static final class SpoolContext implements ReceiverTestContext {
    final Path dir;
    final AtomicInteger files = new AtomicInteger();

    SpoolContext(Path dir) throws IOException {
      this.dir = Files.createDirectories(dir);
    }

    @Override
    public Receiver createReceiver() {
      // Long poll timeout on purpose: the stop case proves that wakeup() ends a blocked poll.
      return new SpoolDirectoryReceiver(dir, CHUNK, Duration.ofSeconds(30), Duration.ofMillis(10));
    }

    @Override
    public List<String> writeRecords(int count) throws IOException {
      String name = String.format("f-%06d.log", files.incrementAndGet());
      List<String> lines = new ArrayList<>();
      for (int i = 1; i <= count; i++) {
        lines.add(name + ":" + i);
      }
      writeFile(dir, name, lines);
      return lines;
    }

    @Override
    public List<String> acknowledged() throws IOException {
      Path done = dir.resolve(SpoolDirectoryReceiver.DONE_DIR);
      List<String> out = new ArrayList<>();
      if (!Files.isDirectory(done)) {
        return out;
      }
      TreeSet<Path> paths = new TreeSet<>();
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(done)) {
        ds.forEach(paths::add);
      }
      for (Path p : paths) {
        out.addAll(Files.readAllLines(p, StandardCharsets.UTF_8));
      }
      return out;
    }

    @Override
    public boolean deduplicatesAfterCrash() {
      return true;
    }
  }

  static void writeFile(Path dir, String name, List<String> lines) throws IOException {
    Path tmp = dir.resolve(name + ".tmp");
    Files.write(tmp, lines, StandardCharsets.UTF_8);
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  protected ReceiverTestContext createContext() throws IOException {
    return new SpoolContext(tempDir.resolve("spool"));
  }

  private SpoolContext spool() {
    return (SpoolContext) context();
  }

  private static List<String> values(List<Record> records) {
    return records.stream().map(Record::valueAsString).toList();
  }

  @Test
  void ignoresFilesStillBeingWritten() throws Exception {
    Path dir = spool().dir;
    Files.writeString(dir.resolve(".hidden.log"), "h1\n");
    Files.writeString(dir.resolve("partial.log.tmp"), "t1\n");
    EmbeddedReceiver h = newHarness().start();
    List<String> complete = context().writeRecords(3);
    await().until(() -> spool().acknowledged().containsAll(complete));
    await()
        .during(quietPeriod())
        .atMost(Duration.ofSeconds(5))
        .until(() -> Files.exists(dir.resolve(".hidden.log")) && Files.exists(dir.resolve("partial.log.tmp")));
    assertThat(values(h.durable())).containsExactlyElementsOf(complete);

    Files.move(dir.resolve("partial.log.tmp"), dir.resolve("partial.log"), StandardCopyOption.ATOMIC_MOVE);
    await().until(() -> values(h.durable()).contains("t1"));
  }

  @Test
  void bigFileIsStoredInBoundedChunksWithLinePositions() throws Exception {
    EmbeddedReceiver h = newHarness().start();
    List<String> lines = context().writeRecords(CHUNK * 4 + 7);
    await().until(() -> spool().acknowledged().size() == lines.size());
    assertThat(values(h.durable())).containsExactlyElementsOf(lines);
    assertThat(h.reliableBatchSizes()).containsExactly(CHUNK, CHUNK, CHUNK, CHUNK, 7);
    Record last = h.durable().get(h.durable().size() - 1);
    assertThat(last.position()).isEqualTo(new SourcePosition("contract", "f-000001.log", CHUNK * 4 + 7));
  }

  @Test
  void fileIsMovedOnlyAfterItsLastChunkIsDurable() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.holdReliableStores();
    h.start();
    context().writeRecords(CHUNK + 1);
    await().until(() -> h.heldStoreCount() == 1);
    h.releaseReliableStores();
    h.holdReliableStores();
    await().until(() -> h.heldStoreCount() == 1);
    assertThat(Files.exists(spool().dir.resolve("f-000001.log"))).as("file still in the spool").isTrue();
    h.releaseReliableStores();
    await().until(() -> spool().acknowledged().size() == CHUNK + 1);
    assertThat(Files.exists(spool().dir.resolve("f-000001.log"))).isFalse();
  }

  @Test
  void crashMidFileResumesAfterTheLastStoredLine() throws Exception {
    EmbeddedReceiver h = newHarness();
    h.holdReliableStores();
    h.start();
    List<String> lines = context().writeRecords(CHUNK * 2 + 10);
    await().until(() -> h.heldStoreCount() == 1);
    h.releaseReliableStores(); // chunk 1 durable
    h.holdReliableStores();
    await().until(() -> h.heldStoreCount() == 1);
    h.crashAfterHeldStoresBecomeDurable(); // chunk 2 durable, but the receiver never learnt it

    EmbeddedReceiver recovered = h.recoverWith(context().createReceiver()).start();
    try {
      await().until(() -> spool().acknowledged().size() == lines.size());
      assertThat(values(recovered.durable())).containsExactlyElementsOf(lines);
      assertThat(recovered.reliableBatchSizes()).as("only the unstored tail is read again").containsExactly(10);
    } finally {
      recovered.close();
    }
  }

  @Test
  void emptyFileIsAcknowledgedWithoutAStore() throws Exception {
    EmbeddedReceiver h = newHarness().start();
    writeFile(spool().dir, "empty.log", List.of());
    await().until(() -> Files.exists(spool().dir.resolve(".done/empty.log")));
    assertThat(h.reliableBatchSizes()).isEmpty();
  }

  @Test
  void missingDirectoryAsksForRestartWithAHelpfulMessage() throws Exception {
    Receiver r =
        new SpoolDirectoryReceiver(tempDir.resolve("nope"), CHUNK, Duration.ofSeconds(1), Duration.ofMillis(10));
    try (EmbeddedReceiver h = new EmbeddedReceiver(r, "missing").start()) {
      await().until(() -> !h.restartRequests().isEmpty());
      assertThat(h.restartRequests().get(0)).contains("open failed").contains("does not exist");
    }
  }

  @Test
  void pollThreadIsNamedAfterPipelineAndReceiver() throws Exception {
    newHarness().start();
    await()
        .until(
            () ->
                Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("tributary-embedded-contract-poll-0")));
  }
}
