package io.tributary.connector.file;

import io.tributary.connector.file.internal.tail.TailTracker;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.api.RangeEndByReading;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Tail mode: follows growing local files (application logs) by byte offset, as Filebeat, Vector's
 * file source and Flume's TAILDIR source do, with the exactly-once protocol of direct sources.
 *
 * <p>Each followed file is one partition ({@code t0}, {@code t1}, ...) whose positions are byte
 * offsets. A file is identified by its device/inode and a fingerprint of its first bytes ({@code
 * fingerprint-bytes}), or by the fingerprint alone where there is no inode: renamed (rotation by
 * rename) it is followed under its new name; copied then truncated (copytruncate) it is followed in
 * the copy, and what the truncated file holds afterwards is a new file. The table of followed files
 * is written to the source's state storage before a new file is reported, so a replay finds the
 * same bytes.
 *
 * <p>A batch's range of a file ends just after a line terminator ({@link RangeEndByReading}: the
 * end is fixed while the batch is planned, then written to {@code offsets/N}), so only complete
 * lines are read, and a replay after a crash reads exactly the bytes planned. Records: one per line
 * (UTF-8 bytes, {@code \n} or {@code \r\n} not included), position = the line's first byte,
 * timestamp = read time, header {@code file} = the path read.
 *
 * <p>Blocking and durability: {@link #partitions()} lists the directories and reads the first bytes
 * of each matching file (local file I/O, no waiting for data), and writes the table of followed
 * files to the state storage when it changed, before it returns; {@link #fixRangeEnd} reads ahead
 * from the position up to the runtime's limits and returns at once when no complete line is there.
 * Nothing is buffered across batches: what a batch reads is fixed by its range.
 *
 * <p>Thread safety: {@link #partitions()} and {@link #fixRangeEnd} on the batch thread; {@link
 * #read} concurrently for different ranges, each iterator by one thread.
 */
public final class TailSource implements DirectSource, RangeEndByReading {
  private final Config config;
  private final List<Path> dirs = new ArrayList<>();
  private TailTracker tracker;
  private String name;

  public TailSource(Config config) {
    this.config = config;
    for (String p : config.get(TailSourceOptions.PATHS)) {
      Path dir;
      if (p.contains(":/")) {
        URI u = URI.create(p);
        if (!"file".equals(u.getScheme())) {
          throw new io.tributary.core.api.ConfigException(
              "Invalid value "
                  + p
                  + " for paths: tail mode follows local files only (expected: a local directory,"
                  + " file:/dir or a plain path; use the files source for HDFS and S3)");
        }
        dir = Path.of(u);
      } else {
        dir = Path.of(p);
      }
      dirs.add(dir.toAbsolutePath().normalize());
    }
  }

  /** A source from raw options (validated), for tests and embedding. */
  public static TailSource of(Map<String, ?> raw) {
    return new TailSource(TailSourceOptions.SPEC.parse(raw));
  }

  @Override
  public void open(SourceContext context) throws Exception {
    this.name = context.sourceName();
    this.tracker =
        new TailTracker(
            dirs,
            config.get(TailSourceOptions.FILE_PATTERN),
            config.get(TailSourceOptions.EXCLUDE_PATTERN),
            (int) (long) config.get(TailSourceOptions.FINGERPRINT_BYTES),
            (int) (long) config.get(TailSourceOptions.MAX_LINE_LENGTH),
            config.get(TailSourceOptions.START_AT) == TailSourceOptions.StartAt.END,
            context.pipelineId(),
            context.sourceName(),
            context.stateStorage(),
            context.meterRegistry());
  }

  @Override
  public List<PartitionInfo> partitions() throws Exception {
    return tracker.scan();
  }

  @Override
  public Position fixRangeEnd(String partition, Position from, long maxRecords, long maxBytes)
      throws Exception {
    return tracker.fixRangeEnd(partition, from, maxRecords, maxBytes);
  }

  @Override
  public CloseableIterator<Record> read(OffsetRange range) throws Exception {
    if (range.isEmpty()) {
      return CloseableIterator.of(List.of());
    }
    long from = range.fromOffset();
    long until = range.untilOffset();
    TailTracker.Opened o = tracker.open(range.partition(), from, until);
    return new Lines(o.channel(), o.path(), range.partition(), from, until);
  }

  /** Followed files now: partition id to path. */
  public Map<String, String> followedFiles() {
    return tracker.followed();
  }

  @Override
  public void close() {}

  /** The lines of {@code [from, until)} of an open file. */
  private final class Lines implements CloseableIterator<Record> {
    private FileChannel ch;
    private String path;
    private int reopens;
    private final String partition;
    private Map<String, byte[]> headers;
    private final long until;
    private final long ts = System.currentTimeMillis();
    private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    private long filePos; // file offset of buf's next unread byte
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private Record next;
    private boolean closed;

    Lines(FileChannel ch, String path, String partition, long from, long until) {
      this.ch = ch;
      this.path = path;
      this.partition = partition;
      this.until = until;
      this.filePos = from;
      this.headers = Map.of("file", path.getBytes(StandardCharsets.UTF_8));
      buf.limit(0);
    }

    @Override
    public boolean hasNext() {
      if (next == null && !closed) {
        try {
          next = readLine();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        if (next == null) {
          close();
        }
      }
      return next != null;
    }

    @Override
    public Record next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Record r = next;
      next = null;
      return r;
    }

    private Record readLine() throws IOException {
      line.reset();
      long start = filePos;
      while (true) {
        if (!buf.hasRemaining()) {
          if (filePos >= until) {
            break;
          }
          buf.clear().limit((int) Math.min(buf.capacity(), until - filePos));
          int n = ch.read(buf, filePos);
          if (n <= 0) {
            // Truncated while read (copytruncate): the rest of the range is in the copy.
            reopen();
            continue;
          }
          buf.flip();
        }
        byte b = buf.get();
        filePos++;
        if (b == '\n') {
          return record(start, true);
        }
        line.write(b);
      }
      return line.size() > 0 ? record(start, false) : null;
    }

    private void reopen() throws IOException {
      if (++reopens > 3) {
        throw new FileVanishedException(
            path,
            "File "
                + path
                + " (partition "
                + partition
                + ") ended at "
                + filePos
                + " while bytes up to "
                + until
                + " were planned, and no file with its first bytes holds them",
            null);
      }
      TailTracker.Opened o = tracker.open(partition, filePos, until);
      ch.close();
      ch = o.channel();
      path = o.path();
      headers = Map.of("file", path.getBytes(StandardCharsets.UTF_8));
      buf.clear().limit(0);
    }

    private Record record(long start, boolean terminated) {
      byte[] bytes = line.toByteArray();
      int len = bytes.length;
      if (terminated && len > 0 && bytes[len - 1] == '\r') {
        bytes = java.util.Arrays.copyOf(bytes, len - 1);
      }
      return new Record(
          null, bytes, ts, headers, new SourcePosition(name, partition, Position.of(start)));
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        try {
          ch.close();
        } catch (IOException e) {
          // nothing was written through it
        }
      }
    }
  }
}
