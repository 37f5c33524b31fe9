package io.tributary.connector.file.internal.source;

import com.github.luben.zstd.ZstdInputStream;
import io.tributary.connector.file.BadFileException;
import io.tributary.connector.file.CorruptFileException;
import io.tributary.connector.file.FileAccessDeniedException;
import io.tributary.connector.file.FileSourceOptions.Format;
import io.tributary.connector.file.FileVanishedException;
import io.tributary.connector.file.RecordTooLongException;
import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.SourcePosition;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.security.AccessControlException;

/**
 * Turns one admitted file into records: exactly its listed length of bytes, decompressed by
 * extension ({@code .gz}, {@code .bz2}, {@code .zst}; pure Java except zstd, whose JNI library
 * ships inside zstd-jni for common platforms), then split by the format. Every failure becomes a
 * specific {@link BadFileException}.
 *
 * <p>A file's records are returned whole or not at all, so {@code on-bad-file: skip} never leaves
 * half a file in a batch; a file too large to hold is checked whole before it is streamed ({@link
 * #open}).
 *
 * <p>Thread safety: immutable; {@link #read} may be called concurrently for different files.
 */
public final class FileReader {
  /** Header carrying the file's full path on every record. */
  public static final String FILE_HEADER = "file";

  private static final int BUFFER = 1 << 16;

  private final Format format;
  private final boolean skip;
  private final int maxLineLength;
  private final int recordLength;
  private final int maxFileSize;

  public FileReader(Format format, int maxLineLength, int recordLength, int maxFileSize) {
    this(format, maxLineLength, recordLength, maxFileSize, false);
  }

  /**
   * @param skip whether on-bad-file is skip: messages then say the file is quarantined instead of
   *     suggesting the option already in force
   */
  public FileReader(
      Format format, int maxLineLength, int recordLength, int maxFileSize, boolean skip) {
    this.skip = skip;
    this.format = format;
    this.maxLineLength = maxLineLength;
    this.recordLength = recordLength;
    this.maxFileSize = maxFileSize;
  }

  /**
   * Records a file may yield before they are no longer held in memory: the value bytes plus {@link
   * #RECORD_OVERHEAD} per record. A file that yields more is read twice: a first pass checks all of
   * it (decompression, lengths, line lengths) and keeps nothing, then the records are streamed.
   */
  public static final long BUFFER_LIMIT = 4L * 1024 * 1024;

  /** What a record costs in the heap besides its value (objects, headers map, position). */
  static final long RECORD_OVERHEAD = 96;

  /**
   * The records of one admitted file, whole or not at all: any {@link BadFileException} is thrown
   * by this call, before a record is handed out. A file whose records fit in {@link #BUFFER_LIMIT}
   * is read once and returned from memory; a larger one is checked to its end first (nothing kept)
   * and then streamed from a second read, so memory does not grow with the file. A failure of the
   * second read (the file changed after the first, an I/O error) is a {@link RetriableException}:
   * the batch is retried, and the file's first pass then decides (bad input, or read again).
   */
  public CloseableIterator<Record> open(FileSystem fs, FileEntry e, String source, String partition)
      throws BadFileException {
    SourcePosition pos = new SourcePosition(source, partition, e.seq());
    Map<String, byte[]> headers = Map.of(FILE_HEADER, e.path().getBytes(StandardCharsets.UTF_8));
    List<Record> held = new ArrayList<>();
    try (Parser p = parser(fs, e, pos, headers)) {
      long bytes = 0;
      Record r;
      while ((r = p.next()) != null) {
        held.add(r);
        bytes += r.value().length + RECORD_OVERHEAD;
        if (bytes > BUFFER_LIMIT) {
          held = null;
          while (p.next() != null) {
            // first pass: every record checked, none kept
          }
          break;
        }
      }
    } catch (BadFileException ex) {
      throw ex;
    } catch (IOException ex) {
      throw classify(e, ex, "read");
    }
    if (held != null) {
      return CloseableIterator.of(held);
    }
    return streamed(fs, e, pos, headers);
  }

  /** Reads the whole file into a list (small files and tests). */
  public List<Record> read(FileSystem fs, FileEntry e, String source, String partition)
      throws BadFileException {
    List<Record> out = new ArrayList<>();
    try (CloseableIterator<Record> it = open(fs, e, source, partition)) {
      it.forEachRemaining(out::add);
    }
    return out;
  }

  /** The second read of a file that passed its first: records pulled one by one. */
  private CloseableIterator<Record> streamed(
      FileSystem fs, FileEntry e, SourcePosition pos, Map<String, byte[]> headers) {
    Parser p;
    try {
      p = parser(fs, e, pos, headers);
    } catch (IOException ex) {
      throw changed(e, ex);
    }
    return new CloseableIterator<>() {
      private Record next;
      private boolean done;

      @Override
      public boolean hasNext() {
        if (next == null && !done) {
          try {
            next = p.next();
          } catch (IOException | RuntimeException ex) {
            close();
            throw changed(e, ex);
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
          throw new java.util.NoSuchElementException();
        }
        Record r = next;
        next = null;
        return r;
      }

      @Override
      public void close() {
        if (!done) {
          done = true;
          try {
            p.close();
          } catch (IOException ignored) {
            // read-only stream: nothing to lose
          }
        }
      }
    };
  }

  /** A failure of the streamed (second) read of a file that passed its first read whole. */
  private RuntimeException changed(FileEntry e, Exception ex) {
    if (ex instanceof RetriableException r) {
      return r;
    }
    Exception cause = ex;
    if (ex instanceof IOException io) {
      try {
        cause = classify(e, io, "read");
      } catch (RetriableException r) {
        return r;
      }
    }
    return new RetriableException(
        "Reading "
            + e.path()
            + " (offset "
            + e.seq()
            + ") failed after its records had started to stream, although a first read of the whole"
            + " file had succeeded: "
            + cause
            + " (the file changed or vanished while it was read; the batch is retried, and then"
            + " the file is read again or handled as bad input)",
        cause);
  }

  /** Pulls the records of one file; {@code null} at its end. */
  private interface Parser extends java.io.Closeable {
    Record next() throws IOException;
  }

  private Parser parser(FileSystem fs, FileEntry e, SourcePosition pos, Map<String, byte[]> headers)
      throws IOException {
    long ts = e.modificationTime();
    InputStream raw;
    try {
      FSDataInputStream data = fs.open(new Path(e.path()), BUFFER);
      raw = data;
      if (e.start() > 0) {
        try {
          data.seek(e.start());
        } catch (IOException ex) {
          data.close();
          throw ex;
        }
      }
    } catch (IOException ex) {
      throw classify(e, ex, "open");
    }
    long toRead =
        e.isSplit() && format == Format.FIXED_LENGTH ? e.end() - e.start() : e.length() - e.start();
    InputStream in;
    try {
      in = decompress(e.path(), new ExactLengthInputStream(raw, toRead, e.path()));
    } catch (IOException ex) {
      raw.close();
      throw ex;
    }
    return switch (format) {
      case TEXT -> new LineParser(in, e, ts, headers, pos);
      case WHOLE_FILE ->
          new Parser() {
            private boolean done;

            @Override
            public Record next() throws IOException {
              if (done) {
                return null;
              }
              done = true;
              byte[] all = in.readNBytes(maxFileSize + 1);
              if (all.length > maxFileSize) {
                throw new RecordTooLongException(
                    e.path(),
                    "File "
                        + e.path()
                        + " is larger than max-file-size "
                        + maxFileSize
                        + " bytes after decompression"
                        + " (raise max-file-size, or use format text/fixed-length)",
                    null);
              }
              return new Record(null, all, ts, headers, pos);
            }

            @Override
            public void close() throws IOException {
              in.close();
            }
          };
      case FIXED_LENGTH ->
          new Parser() {
            @Override
            public Record next() throws IOException {
              byte[] rec = in.readNBytes(recordLength);
              if (rec.length == 0) {
                return null;
              }
              if (rec.length < recordLength) {
                throw new CorruptFileException(
                    e.path(),
                    "File "
                        + e.path()
                        + " ends with a partial record of "
                        + rec.length
                        + " bytes (record-length "
                        + recordLength
                        + "): its size is not a multiple of the record length",
                    null);
              }
              return new Record(null, rec, ts, headers, pos);
            }

            @Override
            public void close() throws IOException {
              in.close();
            }
          };
    };
  }

  /**
   * Lines of the entry, one per {@link #next()}. For a split {@code [start, end)}: a split that
   * does not start at 0 skips everything up to and including the first line end at or after {@code
   * start} (that line belongs to the previous split), and a split reads every line that starts at
   * or before {@code end}, finishing the last one past {@code end}. Each line is thus read by
   * exactly one split, as Hadoop's LineRecordReader does. At most max-line-length + 1 bytes of a
   * line are held.
   */
  private final class LineParser implements Parser {
    private final InputStream in;
    private final FileEntry e;
    private final long ts;
    private final Map<String, byte[]> headers;
    private final SourcePosition pos;
    private final byte[] chunk = new byte[BUFFER];
    private int n;
    private int i;
    private byte[] line = new byte[Math.min(8192, maxLineLength + 1)];
    private int len;
    private long lineNo = 1;
    private long offset; // file position of the next byte
    private long lineStart;
    private boolean skipping; // appended bytes start at a line start
    private final long stopAfter; // no line starting after this is ours
    private boolean done;

    LineParser(
        InputStream in, FileEntry e, long ts, Map<String, byte[]> headers, SourcePosition pos) {
      this.in = in;
      this.e = e;
      this.ts = ts;
      this.headers = headers;
      this.pos = pos;
      this.offset = e.start();
      this.lineStart = offset;
      this.skipping = e.start() > 0 && !e.appended();
      this.stopAfter = e.isSplit() ? e.end() : Long.MAX_VALUE;
    }

    @Override
    public Record next() throws IOException {
      if (done) {
        return null;
      }
      while (true) {
        if (i == n) {
          n = in.read(chunk);
          i = 0;
          if (n < 0) {
            n = 0;
            done = true;
            if (len > 0 && !skipping && lineStart <= stopAfter && !e.partialTail()) {
              // (with partialTail the line may still be being written: a later entry emits it)
              return new Record(null, lineValue(line, len, e, lineNo), ts, headers, pos);
            }
            return null;
          }
        }
        while (i < n) {
          byte b = chunk[i++];
          long at = offset++;
          if (skipping) {
            if (b == '\n') {
              skipping = false;
              lineStart = at + 1;
            }
            continue;
          }
          if (lineStart > stopAfter) {
            done = true;
            return null;
          }
          if (b == '\n') {
            Record r = new Record(null, lineValue(line, len, e, lineNo), ts, headers, pos);
            len = 0;
            lineNo++;
            lineStart = at + 1;
            return r;
          }
          if (len == line.length) {
            if (len > maxLineLength) {
              // maxLineLength + 1 bytes and more to come: too long even if the last one is a '\r'
              throw tooLong(e, lineNo);
            }
            line = Arrays.copyOf(line, (int) Math.min((long) maxLineLength + 1, line.length * 2L));
          }
          line[len++] = b;
        }
      }
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  private byte[] lineValue(byte[] line, int len, FileEntry e, long lineNo) {
    int end = len > 0 && line[len - 1] == '\r' ? len - 1 : len;
    if (end > maxLineLength) {
      throw tooLong(e, lineNo);
    }
    return Arrays.copyOf(line, end);
  }

  /** The advice ending a bad-file message, for the on-bad-file policy in force. */
  private String advice(String fix, String quarantineWhat) {
    return skip
        ? " (" + fix + "; on-bad-file is skip: the " + quarantineWhat + " is quarantined)"
        : " (" + fix + ", or set on-bad-file: skip to quarantine the " + quarantineWhat + ")";
  }

  private RecordTooLongException tooLong(FileEntry e, long lineNo) {
    return new RecordTooLongException(
        e.path(),
        (e.isSplit()
                ? "Line " + lineNo + " of byte range [" + e.start() + "," + e.end() + ") of "
                : "Line " + lineNo + " of ")
            + e.path()
            + " is longer than max-line-length "
            + maxLineLength
            + " bytes"
            + advice("raise max-line-length", e.isSplit() ? "byte range" : "file"),
        null);
  }

  /**
   * Where the line that holds byte {@code end - 1} starts: the offset after the last line
   * terminator before {@code end} (0 if none), looking back at most max-line-length + 1 bytes.
   */
  public long lineStartBefore(FileSystem fs, String path, long end) throws IOException {
    int window = (int) Math.min(end, (long) maxLineLength + 1);
    if (window <= 0) {
      return 0;
    }
    byte[] buf = new byte[window];
    try (FSDataInputStream in = fs.open(new Path(path), BUFFER)) {
      in.readFully(end - window, buf);
    }
    for (int i = window - 1; i >= 0; i--) {
      if (buf[i] == '\n') {
        return end - window + i + 1;
      }
    }
    return end - window;
  }

  /** Whether the file's name says it is compressed (compressed files are never split). */
  public static boolean isCompressed(String path) {
    String lower = path.toLowerCase(Locale.ROOT);
    return lower.endsWith(".gz")
        || lower.endsWith(".gzip")
        || lower.endsWith(".bz2")
        || lower.endsWith(".zst")
        || lower.endsWith(".zstd");
  }

  static InputStream decompress(String path, InputStream in) throws IOException {
    String lower = path.toLowerCase(Locale.ROOT);
    InputStream buffered = new BufferedInputStream(in, BUFFER);
    if (lower.endsWith(".gz") || lower.endsWith(".gzip")) {
      return new BufferedInputStream(new GZIPInputStream(buffered, BUFFER), BUFFER);
    }
    if (lower.endsWith(".bz2")) {
      return new BufferedInputStream(new BZip2CompressorInputStream(buffered, true), BUFFER);
    }
    if (lower.endsWith(".zst") || lower.endsWith(".zstd")) {
      return new BufferedInputStream(new ZstdInputStream(buffered), BUFFER);
    }
    return buffered;
  }

  private BadFileException classify(FileEntry e, IOException ex, String op) {
    if (ex instanceof ClosedByInterruptException
        || ex instanceof InterruptedIOException && !(ex instanceof SocketTimeoutException)
        || Thread.currentThread().isInterrupted()) {
      // The reading thread was interrupted (the pipeline is stopping): the file is not bad, and
      // reporting it as such
      // would quarantine a good file under on-bad-file: skip. The batch is replayed on restart.
      Thread.currentThread().interrupt();
      throw new RetriableException(
          "Reading "
              + e.path()
              + " (offset "
              + e.seq()
              + ") was interrupted during "
              + op
              + ": "
              + ex
              + " (the pipeline is stopping; the batch is replayed on restart)",
          ex);
    }
    String msg = String.valueOf(ex.getMessage());
    if (ex instanceof AccessControlException
        || ex instanceof AccessDeniedException
        || msg.contains("Permission denied")
        || msg.contains("Access Denied")) {
      return new FileAccessDeniedException(
          e.path(),
          "Permission denied to "
              + op
              + " "
              + e.path()
              + ": "
              + ex
              + advice("grant the pipeline's user read access", "file"),
          ex);
    }
    if (HadoopFileSystems.isTransient(ex)) {
      // An object store throttling or a connection reset says nothing about the file: quarantining
      // it under
      // on-bad-file: skip would drop good data. The runtime retries the read with the same range.
      throw new RetriableException(
          "Reading "
              + e.path()
              + " (offset "
              + e.seq()
              + ") failed during "
              + op
              + " with a transient error: "
              + ex
              + " (the object store or file system is throttling or unreachable; the read is retried)",
          ex);
    }
    if (ex instanceof FileNotFoundException) {
      return new FileVanishedException(
          e.path(),
          "File "
              + e.path()
              + " (offset "
              + e.seq()
              + ") was deleted or moved after it was listed: "
              + ex
              + advice("files must stay until their batch is committed", "file"),
          ex);
    }
    return new CorruptFileException(
        e.path(),
        "Cannot "
            + op
            + " "
            + e.path()
            + " (offset "
            + e.seq()
            + ", "
            + e.length()
            + " bytes listed): "
            + ex
            + advice("a truncated or damaged compressed file, or an I/O error", "file"),
        ex);
  }

  /**
   * Reads exactly {@code length} bytes: a replay reads what the first attempt read even if the file
   * grew, and a file that shrank is reported instead of silently yielding less.
   */
  private static final class ExactLengthInputStream extends FilterInputStream {
    private long remaining;
    private final String path;

    ExactLengthInputStream(InputStream in, long length, String path) {
      super(in);
      this.remaining = length;
      this.path = path;
    }

    @Override
    public int read() throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int b = super.read();
      if (b < 0) {
        throw shrunk();
      }
      remaining--;
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int n = super.read(b, off, (int) Math.min(len, remaining));
      if (n < 0) {
        throw shrunk();
      }
      remaining -= n;
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long s = super.skip(Math.min(n, remaining));
      remaining -= s;
      return s;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(super.available(), remaining);
    }

    private EOFException shrunk() {
      return new EOFException(
          path + " is shorter than when it was listed (" + remaining + " bytes missing)");
    }
  }
}
