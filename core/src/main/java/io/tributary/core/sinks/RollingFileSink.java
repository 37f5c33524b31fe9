package io.tributary.core.sinks;

import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.IdempotentSink;
import io.tributary.core.api.PackedRecords;
import io.tributary.core.api.Record;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Writes each batch as newline-delimited files on the local file system, exactly-once by naming and
 * atomic rename.
 *
 * <p>Batch N becomes {@code <prefix>-<N as 20 digits>-<part as 5 digits><suffix>}, rolling to a new
 * part when a file reaches {@code maxFileBytes}. Every part is written to a hidden temp file as the
 * batch's chunks arrive (so memory stays flat whatever the batch size) and fsynced; when the batch
 * commits, the parts are renamed into place and the directory is fsynced. A batch abandoned before
 * its commit leaves no visible file. A replayed batch (same id, same records) produces the same
 * names and content and replaces the earlier files atomically, so readers see each record once.
 * Readers must ignore names starting with {@code .}. Empty batches write nothing.
 *
 * <p>Each record is written as its value bytes followed by {@code \n}; values containing newlines
 * are written as they are (use a transform to escape them when that matters).
 *
 * <p>Thread safety: used by the batch thread only.
 */
public final class RollingFileSink implements IdempotentSink {
  private static final int WRITE_BUFFER_BYTES = 1 << 20;

  /** Write buffer, reused by every batch (the sink is used by one thread). */
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);

  private final Path dir;
  private final String prefix;
  private final String suffix;
  private final long maxFileBytes;
  private final boolean fsync;

  private RollingFileSink(Builder b) {
    this.dir = b.dir.toAbsolutePath();
    this.prefix = b.prefix;
    this.suffix = b.suffix;
    this.maxFileBytes = b.maxFileBytes;
    this.fsync = b.fsync;
  }

  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  public Path directory() {
    return dir;
  }

  @Override
  public void open(SinkContext context) throws IOException {
    Files.createDirectories(dir);
    // Temp files of a batch interrupted by a crash: that batch is replayed, so they are garbage.
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
      for (Path p : ds) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** The name of part {@code part} of batch {@code batchId}. */
  public String fileName(long batchId, int part) {
    return String.format("%s-%020d-%05d%s", prefix, batchId, part, suffix);
  }

  /**
   * Writes the batch as one chunk, as {@link Sink#writeAll} does (narrowed to {@link IOException}).
   */
  @Override
  public void write(long batchId, List<Record> records) throws IOException {
    try (Writer w = new Writer(batchId)) {
      if (!records.isEmpty()) {
        w.write(records);
      }
      w.commit();
    }
  }

  /**
   * Starts batch {@code batch.batchId()}: each chunk is appended to the batch's hidden temp part
   * (rolling at {@code maxFileBytes}), and {@link BatchWriter#commit()} publishes every part by
   * atomic rename. Closing the writer without commit deletes its temp files, so an abandoned batch
   * leaves nothing visible.
   */
  @Override
  public BatchWriter begin(SinkBatch batch) {
    return new Writer(batch.batchId());
  }

  /**
   * The writer of one batch: the parts are written to hidden temp files as chunks arrive, so only
   * the output buffer is held in memory, whatever the batch size.
   *
   * <p>Thread safety: used by the batch thread only.
   */
  private final class Writer implements BatchWriter {
    private final long batchId;

    /**
     * Temp files of this batch's parts so far (the last one is being written while {@code channel}
     * is open).
     */
    private final List<Path> temps = new ArrayList<>();

    /** The part being written, or {@code null} between parts. */
    private FileChannel channel;

    private long written;
    private boolean committed;
    private boolean closed;

    private Writer(long batchId) {
      this.batchId = batchId;
    }

    @Override
    public void write(List<Record> chunk) throws IOException {
      checkOpen();
      if (chunk instanceof PackedRecords packed) {
        packedWriter.write(packed);
        return;
      }
      ByteBuffer buf = buffer;
      for (Record r : chunk) {
        // A part takes records until it reaches maxFileBytes; a record never spans two parts.
        if (channel != null && written >= maxFileBytes) {
          finishPart();
        }
        if (channel == null) {
          startPart();
        }
        // Records are small (a socket line is ~100 bytes): copy them into one large reused buffer
        // and write that,
        // rather than two calls per record into a (synchronized) BufferedOutputStream.
        byte[] v = r.value();
        if (buf.remaining() < v.length + 1) {
          drain(channel, buf);
          if (v.length + 1 > buf.capacity()) {
            writeFully(channel, ByteBuffer.wrap(v));
            buf.put((byte) '\n');
            written += v.length + 1;
            continue;
          }
        }
        buf.put(v).put((byte) '\n');
        written += v.length + 1;
      }
    }

    private final PackedWriter packedWriter = new PackedWriter();

    /**
     * Writes a {@link PackedRecords} chunk without building its records: values that lie back to
     * back in one array, each followed by a single {@code \n} (a socket read's lines), are copied
     * into the buffer as one run. Same bytes and the same part boundaries as the record path.
     */
    private final class PackedWriter implements PackedRecords.ValueVisitor<IOException> {
      private byte[] runArray;
      private int runStart;

      /**
       * End of the run's last value (exclusive); the run's bytes are {@code [runStart, runEnd)}.
       */
      private int runEnd;

      void write(PackedRecords packed) throws IOException {
        runArray = null;
        try {
          packed.forEachValue(this);
          flushRun();
        } finally {
          runArray = null;
        }
      }

      @Override
      public void accept(byte[] array, int start, int end, long offset, long timestampMs)
          throws IOException {
        int len = end - start;
        if (channel != null && written >= maxFileBytes) {
          flushRun();
          finishPart();
        }
        if (channel == null) {
          startPart();
        }
        if (runArray == array
            && start == runEnd + 1
            && array[runEnd] == '\n'
            && (runEnd - runStart + 1) + len + 1 <= buffer.remaining()) {
          runEnd = end; // the separator between the two values is the '\n' the file needs
          written += len + 1;
          return;
        }
        flushRun();
        if (buffer.remaining() < len + 1) {
          drain(channel, buffer);
          if (len + 1 > buffer.capacity()) {
            writeFully(channel, ByteBuffer.wrap(array, start, len));
            buffer.put((byte) '\n');
            written += len + 1;
            return;
          }
        }
        runArray = array;
        runStart = start;
        runEnd = end;
        written += len + 1;
      }

      private void flushRun() {
        if (runArray != null) {
          buffer.put(runArray, runStart, runEnd - runStart).put((byte) '\n');
          runArray = null;
        }
      }
    }

    private void checkOpen() {
      if (committed || closed) {
        throw new IllegalStateException(
            "batch " + batchId + " of " + dir + " was already committed or abandoned");
      }
    }

    private void startPart() throws IOException {
      Path tmp = dir.resolve("." + fileName(batchId, temps.size()) + ".tmp");
      temps.add(tmp);
      channel =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE);
      buffer.clear();
      written = 0;
    }

    private void finishPart() throws IOException {
      try (FileChannel ch = channel) {
        drain(ch, buffer);
        if (fsync) {
          ch.force(false);
        }
      } finally {
        channel = null;
      }
    }

    @Override
    public void commit() throws IOException {
      checkOpen();
      if (channel != null) {
        finishPart();
      }
      if (temps.isEmpty()) {
        committed = true;
        return; // an empty batch writes nothing
      }
      for (int k = 0; k < temps.size(); k++) {
        Files.move(
            temps.get(k),
            dir.resolve(fileName(batchId, k)),
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      }
      // A replay of a batch that had more parts before cannot happen (same records, same roll
      // size), but clean up
      // anyway in case maxFileBytes changed between runs.
      for (int extra = temps.size(); Files.exists(dir.resolve(fileName(batchId, extra))); extra++) {
        Files.delete(dir.resolve(fileName(batchId, extra)));
      }
      if (fsync) {
        LocalCheckpointStorage.fsyncDirectory(dir);
      }
      committed = true;
    }

    /**
     * Releases the open part; without a successful {@link #commit()}, deletes the batch's temp
     * files, so nothing of it becomes visible (a commit that failed half-way may have published
     * some parts, whole: the replay replaces them).
     */
    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      IOException failure = null;
      if (channel != null) {
        try {
          channel.close(); // what is still buffered belongs to an abandoned part
        } catch (IOException e) {
          failure = e;
        } finally {
          channel = null;
        }
      }
      if (committed) {
        return;
      }
      for (Path t : temps) {
        try {
          Files.deleteIfExists(t); // false for those a failed commit renamed already
        } catch (IOException e) {
          if (failure == null) {
            failure = e;
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  @Override
  public void close() {}

  /** Settings of a {@link RollingFileSink}. */
  public static final class Builder {
    private final Path dir;
    private String prefix = "part";
    private String suffix = ".txt";
    private long maxFileBytes = 128L * 1024 * 1024;
    private boolean fsync = true;

    private Builder(Path dir) {
      this.dir = Objects.requireNonNull(dir);
    }

    public Builder prefix(String p) {
      this.prefix = Objects.requireNonNull(p);
      return this;
    }

    public Builder suffix(String s) {
      this.suffix = Objects.requireNonNull(s);
      return this;
    }

    /** Size at which a batch's output rolls to a new part file. */
    public Builder maxFileBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException(
            "Invalid value " + bytes + " for maxFileBytes: (expected: >= 1)");
      }
      this.maxFileBytes = bytes;
      return this;
    }

    /**
     * Whether to fsync files before publishing them (default true; turning it off risks loss on
     * power failure).
     */
    public Builder fsync(boolean enabled) {
      this.fsync = enabled;
      return this;
    }

    public RollingFileSink build() {
      return new RollingFileSink(this);
    }
  }

  private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
    buf.flip();
    writeFully(ch, buf);
    buf.clear();
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }
}
