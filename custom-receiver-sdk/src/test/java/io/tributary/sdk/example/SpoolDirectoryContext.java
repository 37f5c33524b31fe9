package io.tributary.sdk.example;

import io.tributary.core.api.Receiver;
import io.tributary.sdk.PollingReceiver;
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

/**
 * The spool directory as a contract-test source: files written atomically, acknowledged = lines of
 * {@code .done/}.
 */
final class SpoolDirectoryContext implements ReceiverTestContext {
  private final Path dir;
  private final int chunkLines;
  private int files;

  SpoolDirectoryContext(Path dir, int chunkLines) {
    this.dir = dir;
    this.chunkLines = chunkLines;
  }

  @Override
  public Receiver createReceiver() {
    return new SpoolDirectoryReceiver(
        dir,
        chunkLines,
        1024 * 1024,
        Duration.ofMillis(20),
        PollingReceiver.Settings.defaults()
            .withBackoff(Duration.ofMillis(10), Duration.ofMillis(100)));
  }

  @Override
  public void writeRecords(List<String> values) throws IOException {
    String name = String.format("batch-%05d.txt", files++);
    Path tmp = dir.resolve(name + ".tmp");
    Files.write(tmp, values, StandardCharsets.UTF_8);
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public List<String> acknowledgedValues() throws IOException {
    Path done = dir.resolve(SpoolDirectoryReceiver.DONE_DIR);
    List<String> out = new ArrayList<>();
    if (!Files.isDirectory(done)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(done)) {
      for (Path p : ds) {
        out.addAll(Files.readAllLines(p, StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  @Override
  public boolean skipsRecordsAlreadyStored() {
    return true;
  }
}
