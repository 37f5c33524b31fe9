package io.tributary.sdk.example;

import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.sdk.PollingReceiver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SDK's worked example: reads UTF-8 line files that appear in a spool directory, one record per line, and
 * acknowledges each file by moving it into the {@code .done/} subdirectory once all its lines are durable.
 *
 * <h2>Rules for the producers writing into the directory</h2>
 *
 * <ul>
 *   <li>A file is complete when its name is visible without a leading {@code .} and without a {@code .tmp} suffix:
 *       write {@code .orders-42.csv} or {@code orders-42.csv.tmp}, then rename it to {@code orders-42.csv} (an atomic
 *       rename on one local file system). Names starting with {@code .} or ending in {@code .tmp} are ignored.
 *   <li>A file must not change once complete, and file names must be unique for the life of the pipeline: the
 *       receiver remembers the last line stored per file name (to skip lines already stored after a crash), so a new
 *       file reusing an old name would have its first lines skipped.
 *   <li>Files are read in name order. Invalid UTF-8 is replaced with U+FFFD rather than failing the receiver.
 * </ul>
 *
 * <h2>How it keeps every line exactly once</h2>
 *
 * Each line becomes a record with position {@code (receiverName, fileName, lineNumber)}, line numbers starting at 1.
 * A file is returned by {@link #poll(Duration)} in chunks of at most {@code maxLinesPerBatch} lines; the SDK stores
 * each chunk reliably before calling {@link #acknowledge(List)}, which moves the file to {@code .done/} after its last
 * chunk. If the process dies between the store and the move, the file is still in the directory on restart, and
 * {@link #lastStoredOffset(String)} tells which lines are already durable: they are skipped, so no line is stored
 * twice. A file whose lines are all stored already (or an empty file) is moved at once.
 *
 * <p>Thread safety: like every {@link PollingReceiver}, driven by its poll thread only; {@link #wakeup()} is
 * thread-safe.
 */
public class SpoolDirectoryReceiver extends PollingReceiver {
  private static final Logger LOG = LoggerFactory.getLogger(SpoolDirectoryReceiver.class);

  /** The subdirectory that acknowledged files are moved to. */
  public static final String DONE_DIR = ".done";

  private final Path directory;
  private final int maxLinesPerBatch;
  private final Duration scanInterval;
  private final Object wakeupMonitor = new Object();
  private boolean wakeupRequested; // guarded by wakeupMonitor

  // Poll-thread state, reset by open().
  private Path doneDir;
  private String currentFile;
  private BufferedReader reader;
  private long lineNumber;
  private String lookahead;
  private String fileToMoveOnAck;

  /**
   * @param directory the spool directory (must exist)
   * @param maxLinesPerBatch the most lines one stored batch holds (bounds memory for big files)
   * @param pollTimeout the longest time one poll waits for a new file
   * @param scanInterval how often the directory is listed while waiting for a new file
   */
  public SpoolDirectoryReceiver(Path directory, int maxLinesPerBatch, Duration pollTimeout, Duration scanInterval) {
    super(pollTimeout, PollingReceiver.DEFAULT_STOP_TIMEOUT);
    this.directory = Objects.requireNonNull(directory, "directory");
    if (maxLinesPerBatch < 1) {
      throw new IllegalArgumentException(
          "Invalid value " + maxLinesPerBatch + " for maxLinesPerBatch: must be at least 1");
    }
    this.maxLinesPerBatch = maxLinesPerBatch;
    this.scanInterval = Objects.requireNonNull(scanInterval, "scanInterval");
  }

  /** Whether a file name is complete (eligible): not hidden, not {@code .tmp}. */
  public static boolean isComplete(String fileName) {
    return !fileName.startsWith(".") && !fileName.endsWith(".tmp");
  }

  @Override
  protected void open() throws IOException {
    if (!Files.isDirectory(directory)) {
      throw new IOException(
          "Spool directory " + directory.toAbsolutePath() + " of receiver " + receiverName() + " does not exist or"
              + " is not a directory; create it or fix the 'directory' option");
    }
    doneDir = Files.createDirectories(directory.resolve(DONE_DIR));
    currentFile = null;
    reader = null;
    lookahead = null;
    fileToMoveOnAck = null;
    synchronized (wakeupMonitor) {
      wakeupRequested = false; // a wakeup aimed at the previous run must not end this run's first poll
    }
  }

  @Override
  protected List<Record> poll(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (currentFile == null && !openNextFile()) {
        if (!waitForFiles(deadline)) {
          return List.of();
        }
        continue;
      }
      List<Record> chunk = readChunk();
      if (!chunk.isEmpty()) {
        return chunk;
      }
      // Nothing left to store in this file (empty, or every line was stored before a crash): acknowledge it now.
      finishCurrentFile();
    }
  }

  /** Opens the first complete file in name order, skipping lines already stored. Returns false when none. */
  private boolean openNextFile() throws IOException {
    TreeSet<String> names = new TreeSet<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (isComplete(n) && Files.isRegularFile(p)) {
          names.add(n);
        }
      }
    }
    if (names.isEmpty()) {
      return false;
    }
    currentFile = names.first();
    reader =
        new BufferedReader(
            new InputStreamReader(Files.newInputStream(directory.resolve(currentFile)), StandardCharsets.UTF_8));
    lineNumber = 0;
    long alreadyStored = lastStoredOffset(currentFile).orElse(0L);
    while (lineNumber < alreadyStored && reader.readLine() != null) {
      lineNumber++;
    }
    if (alreadyStored > 0) {
      LOG.info(
          "event=spool_file_resumed receiver={} file={} skipped_lines={}", receiverName(), currentFile, lineNumber);
    }
    lookahead = reader.readLine();
    return true;
  }

  private List<Record> readChunk() throws IOException {
    List<Record> chunk = new ArrayList<>(Math.min(maxLinesPerBatch, 1024));
    while (lookahead != null && chunk.size() < maxLinesPerBatch) {
      lineNumber++;
      chunk.add(
          new Record(
              null,
              lookahead.getBytes(StandardCharsets.UTF_8),
              -1L,
              Map.of(),
              new SourcePosition(receiverName(), currentFile, lineNumber)));
      lookahead = reader.readLine();
    }
    fileToMoveOnAck = lookahead == null && !chunk.isEmpty() ? currentFile : null;
    if (fileToMoveOnAck != null) {
      closeReader();
    }
    return chunk;
  }

  /** Sleeps until the next scan, the deadline or a wakeup. Returns false when the poll should return empty. */
  private boolean waitForFiles(long deadline) throws InterruptedException {
    synchronized (wakeupMonitor) {
      if (wakeupRequested) {
        wakeupRequested = false;
        return false;
      }
      long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
      if (remainingMs <= 0) {
        return false;
      }
      wakeupMonitor.wait(Math.max(1, Math.min(remainingMs, scanInterval.toMillis())));
      if (wakeupRequested) {
        wakeupRequested = false;
        return false;
      }
      return true;
    }
  }

  @Override
  protected void acknowledge(List<Record> batch) throws IOException {
    if (fileToMoveOnAck != null) {
      finishCurrentFile();
    }
  }

  private void finishCurrentFile() throws IOException {
    closeReader();
    String name = currentFile;
    Files.move(directory.resolve(name), doneDir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    LOG.info("event=spool_file_done receiver={} file={} lines={}", receiverName(), name, lineNumber);
    currentFile = null;
    fileToMoveOnAck = null;
  }

  private void closeReader() throws IOException {
    if (reader != null) {
      BufferedReader r = reader;
      reader = null;
      r.close();
    }
  }

  @Override
  protected void close() throws IOException {
    closeReader();
    currentFile = null;
    fileToMoveOnAck = null;
  }

  @Override
  protected void wakeup() {
    synchronized (wakeupMonitor) {
      wakeupRequested = true;
      wakeupMonitor.notifyAll();
    }
  }
}
