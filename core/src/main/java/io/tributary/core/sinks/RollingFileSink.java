package io.tributary.core.sinks;

import io.tributary.core.api.IdempotentSink;
import io.tributary.core.api.Record;
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
 * Writes each batch as newline-delimited files on the local file system, exactly-once by naming and atomic rename.
 *
 * <p>Batch N becomes {@code <prefix>-<N as 20 digits>-<part as 5 digits><suffix>}, rolling to a new part when a file
 * reaches {@code maxFileBytes}. Every part is written to a hidden temp file, fsynced, then renamed into place, and the
 * directory is fsynced. A replayed batch (same id, same records) produces the same names and content and replaces the
 * earlier files atomically, so readers see each record once. Readers must ignore names starting with {@code .}.
 * Empty batches write nothing.
 *
 * <p>Each record is written as its value bytes followed by {@code \n}; values containing newlines are written as they
 * are (use a transform to escape them when that matters).
 *
 * <p>Thread safety: used by the batch thread only.
 */
public final class RollingFileSink implements IdempotentSink {
  private static final int WRITE_BUFFER_BYTES = 1 << 20;
  private final Path dir;
  private final String prefix;
  private final String suffix;
  private final long maxFileBytes;
  private final boolean fsync;
  /** Write buffer, reused by every batch (the sink is used by one thread). */
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);

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

  @Override
  public void write(long batchId, List<Record> records) throws IOException {
    if (records.isEmpty()) {
      return;
    }
    List<Path> temps = new ArrayList<>();
    List<Path> finals = new ArrayList<>();
    int part = 0;
    int i = 0;
    while (i < records.size()) {
      String name = fileName(batchId, part++);
      Path tmp = dir.resolve("." + name + ".tmp");
      long written = 0;
      try (FileChannel ch =
          FileChannel.open(
              tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        // Records are small (a socket line is ~100 bytes): copy them into one large buffer and write that, rather
        // than two calls per record into a (synchronized) BufferedOutputStream.
        ByteBuffer buf = buffer;
        buf.clear();
        while (i < records.size() && (written == 0 || written < maxFileBytes)) {
          byte[] v = records.get(i++).value();
          if (buf.remaining() < v.length + 1) {
            drain(ch, buf);
            if (v.length + 1 > buf.capacity()) {
              writeFully(ch, ByteBuffer.wrap(v));
              buf.put((byte) '\n');
              written += v.length + 1;
              continue;
            }
          }
          buf.put(v).put((byte) '\n');
          written += v.length + 1;
        }
        drain(ch, buf);
        if (fsync) {
          ch.force(false);
        }
      }
      temps.add(tmp);
      finals.add(dir.resolve(name));
    }
    for (int k = 0; k < temps.size(); k++) {
      Files.move(temps.get(k), finals.get(k), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
    // A replay of a batch that had more parts before cannot happen (same records, same roll size), but clean up
    // anyway in case maxFileBytes changed between runs.
    for (int extra = part; Files.exists(dir.resolve(fileName(batchId, extra))); extra++) {
      Files.delete(dir.resolve(fileName(batchId, extra)));
    }
    if (fsync) {
      LocalCheckpointStorage.fsyncDirectory(dir);
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
        throw new IllegalArgumentException("Invalid value " + bytes + " for maxFileBytes: (expected: >= 1)");
      }
      this.maxFileBytes = bytes;
      return this;
    }

    /** Whether to fsync files before publishing them (default true; turning it off risks loss on power failure). */
    public Builder fsync(boolean enabled) {
      this.fsync = enabled;
      return this;
    }

    public RollingFileSink build() {
      return new RollingFileSink(this);
    }
  }
}
