package io.tributary.sdk.example;

import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.sdk.PollingReceiver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SDK's worked example: a {@link PollingReceiver} that reads UTF-8 line files dropped into a
 * spool directory, and acknowledges each file, once all its lines are durable, by moving it into
 * {@code .done/}.
 *
 * <h2>Rules for producers</h2>
 *
 * <ul>
 *   <li>Write a file under a name the receiver ignores, then rename it into place (an atomic rename
 *       in the same directory): names starting with {@code .} or ending in {@code .tmp} are
 *       ignored, so {@code .part-17} or {@code batch-17.txt.tmp} then {@code batch-17.txt} is the
 *       pattern.
 *   <li>Use each file name once: the name is the record position's partition, and a reused name
 *       would be taken for a file already stored (its first lines skipped). A reused name that is
 *       still in {@code .done/} fails loudly.
 *   <li>Lines end with {@code \n}, {@code \r\n} or {@code \r}; the last line needs no terminator. A
 *       file that is not valid UTF-8 fails loudly (the receiver restarts with backoff and logs the
 *       file and what to do).
 * </ul>
 *
 * <h2>How it maps to the contract</h2>
 *
 * <ul>
 *   <li>Files are read in name order, in chunks of at most {@code maxChunkLines} lines and about
 *       {@code maxChunkBytes} bytes; each chunk is one reliable store, so memory stays bounded
 *       whatever the file size.
 *   <li>Each line is a record whose position is {@code (receiverName, fileName, lineNumber)}, line
 *       numbers from 1.
 *   <li>{@link #acknowledge(List)} moves the file to {@code .done/} (atomic rename) after its last
 *       chunk is durable.
 *   <li>After a crash between a store and the move, the file is read again and lines up to {@code
 *       lastStoredOffset(fileName)} are skipped, so nothing is stored twice; a file whose lines are
 *       all stored already is just moved.
 *   <li>{@link #wakeup()} ends a wait for new files at once, so a stop is prompt.
 * </ul>
 *
 * <p>One receiver per directory: two receivers on the same directory would read the same files.
 *
 * <p>Limitation: the runtime remembers the last stored line per file name, so a checkpoint grows by
 * one small entry per file ever read. That suits thousands of files a day, not millions; for that,
 * roll the spool directory.
 *
 * <p>Thread safety: as {@link PollingReceiver}: everything but {@link #wakeup()} runs on the poll
 * thread.
 */
public final class SpoolDirectoryReceiver extends PollingReceiver {
  private static final Logger LOG = LoggerFactory.getLogger(SpoolDirectoryReceiver.class);

  /** Where acknowledged files go, inside the spool directory. */
  public static final String DONE_DIR = ".done";

  private final Path directory;
  private final int maxChunkLines;
  private final long maxChunkBytes;
  private final Duration scanInterval;

  private final Object wakeLock = new Object();
  private boolean woken; // guarded by wakeLock

  // Poll-thread state, reset by open().
  private final ArrayDeque<Path> backlog = new ArrayDeque<>();
  private OpenFile current;
  private OpenFile moveOnAcknowledge;

  /**
   * A file being read: the reader, the number of the next line, and one line of lookahead to detect
   * the end.
   */
  private static final class OpenFile {
    final Path path;
    final String name;
    final BufferedReader reader;
    long nextLine = 1;
    String lookahead;

    OpenFile(Path path, BufferedReader reader) {
      this.path = path;
      this.name = path.getFileName().toString();
      this.reader = reader;
    }

    boolean atEnd() {
      return lookahead == null;
    }
  }

  /** A receiver with chunks of 1000 lines / 1 MiB and a 500 ms scan interval. */
  public SpoolDirectoryReceiver(Path directory) {
    this(directory, 1000, 1024 * 1024, Duration.ofMillis(500), Settings.defaults());
  }

  /**
   * @param directory the spool directory (created if missing)
   * @param maxChunkLines most lines per reliable store
   * @param maxChunkBytes about the most bytes per reliable store (a chunk ends after the line that
   *     reaches it)
   * @param scanInterval how often to look for new files while idle
   * @param settings poll loop settings
   */
  public SpoolDirectoryReceiver(
      Path directory,
      int maxChunkLines,
      long maxChunkBytes,
      Duration scanInterval,
      Settings settings) {
    super(settings);
    this.directory = Objects.requireNonNull(directory, "directory").toAbsolutePath();
    if (maxChunkLines < 1) {
      throw new IllegalArgumentException(
          "Invalid value " + maxChunkLines + " for maxChunkLines: (expected: >= 1)");
    }
    if (maxChunkBytes < 1) {
      throw new IllegalArgumentException(
          "Invalid value " + maxChunkBytes + " for maxChunkBytes: (expected: >= 1)");
    }
    this.maxChunkLines = maxChunkLines;
    this.maxChunkBytes = maxChunkBytes;
    this.scanInterval = Objects.requireNonNull(scanInterval, "scanInterval");
  }

  public Path directory() {
    return directory;
  }

  /** Whether producers' file {@code name} is picked up: not hidden, not a {@code .tmp} file. */
  public static boolean isEligible(String name) {
    return !name.startsWith(".") && !name.endsWith(".tmp");
  }

  @Override
  protected void open() throws IOException {
    Files.createDirectories(directory.resolve(DONE_DIR));
    backlog.clear();
    current = null;
    moveOnAcknowledge = null;
    LOG.info("event=spool_opened receiver={} directory={}", receiverName(), directory);
  }

  @Override
  protected List<Record> poll(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (current == null) {
        Path next = nextFile();
        if (next == null) {
          long left = deadline - System.nanoTime();
          if (left <= 0 || !waitForFiles(Math.min(left, scanInterval.toNanos()))) {
            return List.of();
          }
          continue;
        }
        current = openSkippingStored(next);
        if (current == null) {
          continue; // vanished, or nothing left to store: already moved
        }
      }
      List<Record> chunk = readChunk(current);
      if (current.atEnd()) {
        moveOnAcknowledge = current;
        current = null;
      }
      if (!chunk.isEmpty()) {
        return chunk;
      }
      if (moveOnAcknowledge != null) {
        finish(moveOnAcknowledge); // nothing new in it: everything before was stored
        moveOnAcknowledge = null;
      }
    }
  }

  @Override
  protected void acknowledge(List<Record> batch) throws IOException {
    OpenFile done = moveOnAcknowledge;
    if (done != null) {
      moveOnAcknowledge = null;
      finish(done);
    }
  }

  @Override
  protected void wakeup() {
    synchronized (wakeLock) {
      woken = true;
      wakeLock.notifyAll();
    }
  }

  @Override
  protected void close() throws IOException {
    IOException failure = null;
    for (OpenFile f : new OpenFile[] {current, moveOnAcknowledge}) {
      if (f != null) {
        try {
          f.reader.close();
        } catch (IOException e) {
          failure = e;
        }
      }
    }
    current = null;
    moveOnAcknowledge = null;
    backlog.clear();
    if (failure != null) {
      throw failure;
    }
  }

  /** Waits for a scan interval unless woken; returns false when woken (the poll should return). */
  private boolean waitForFiles(long nanos) throws InterruptedException {
    synchronized (wakeLock) {
      if (!woken) {
        TimeUnit.NANOSECONDS.timedWait(wakeLock, nanos);
      }
      boolean wasWoken = woken;
      woken = false;
      return !wasWoken;
    }
  }

  /** The next eligible file in name order; lists the directory only when the backlog is empty. */
  private Path nextFile() throws IOException {
    while (true) {
      if (backlog.isEmpty()) {
        TreeSet<String> names = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory)) {
          for (Path p : ds) {
            String name = p.getFileName().toString();
            if (isEligible(name) && Files.isRegularFile(p)) {
              names.add(name);
            }
          }
        }
        names.forEach(n -> backlog.add(directory.resolve(n)));
        if (backlog.isEmpty()) {
          return null;
        }
      }
      Path p = backlog.poll();
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
  }

  /** Opens {@code path} and skips the lines already stored; null if the file vanished. */
  private OpenFile openSkippingStored(Path path) throws IOException {
    String name = path.getFileName().toString();
    if (Files.exists(directory.resolve(DONE_DIR).resolve(name))) {
      throw new SpoolDirectoryException(
          "File "
              + path
              + " has the name of a file already read ("
              + DONE_DIR
              + "/"
              + name
              + "); its lines would be"
              + " taken for stored ones. Rename it to a name never used before (for example with a timestamp or a"
              + " UUID) or remove the old one from "
              + DONE_DIR
              + " if it is really the same file");
    }
    BufferedReader reader;
    try {
      // newDecoder() reports malformed input instead of replacing it: a bad file fails loudly.
      reader =
          new BufferedReader(
              new InputStreamReader(
                  Files.newInputStream(path), StandardCharsets.UTF_8.newDecoder()));
    } catch (java.nio.file.NoSuchFileException e) {
      return null;
    }
    OpenFile f = new OpenFile(path, reader);
    OptionalLong stored = lastStoredOffset(name);
    try {
      f.lookahead = readLine(f);
      if (stored.isPresent()) {
        while (!f.atEnd() && f.nextLine <= stored.getAsLong()) {
          f.nextLine++;
          f.lookahead = readLine(f);
        }
        LOG.info(
            "event=spool_resumed receiver={} file={} skipped_lines={}",
            receiverName(),
            name,
            f.nextLine - 1);
      }
    } catch (IOException | RuntimeException e) {
      reader.close();
      throw e;
    }
    return f;
  }

  private String readLine(OpenFile f) throws IOException {
    try {
      return f.reader.readLine();
    } catch (CharacterCodingException e) {
      throw new SpoolDirectoryException(
          "File "
              + f.path
              + " is not valid UTF-8 (at or after line "
              + f.nextLine
              + "): "
              + e
              + ". Convert it to"
              + " UTF-8 or move it out of the spool directory; the receiver retries it until then",
          e);
    }
  }

  private List<Record> readChunk(OpenFile f) throws IOException {
    List<Record> chunk = new ArrayList<>();
    long bytes = 0;
    while (!f.atEnd() && chunk.size() < maxChunkLines && bytes < maxChunkBytes) {
      byte[] value = f.lookahead.getBytes(StandardCharsets.UTF_8);
      bytes += value.length;
      chunk.add(
          new Record(
              null, value, -1L, Map.of(), new SourcePosition(receiverName(), f.name, f.nextLine)));
      f.nextLine++;
      f.lookahead = readLine(f);
    }
    return chunk;
  }

  /** Closes the file and moves it to {@code .done/}: the acknowledgement. */
  private void finish(OpenFile f) throws IOException {
    f.reader.close();
    Path target = directory.resolve(DONE_DIR).resolve(f.name);
    if (Files.exists(target)) {
      throw new SpoolDirectoryException(
          "Cannot acknowledge "
              + f.path
              + ": "
              + target
              + " exists already (a file name was used twice). Move one"
              + " of them away; the lines of "
              + f.name
              + " are stored");
    }
    Files.move(f.path, target, StandardCopyOption.ATOMIC_MOVE);
    LOG.debug(
        "event=spool_file_done receiver={} file={} lines={}",
        receiverName(),
        f.name,
        f.nextLine - 1);
  }
}
