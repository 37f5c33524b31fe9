package io.tributary.connector.file.internal.source;

import com.github.luben.zstd.ZstdInputStream;
import io.tributary.connector.file.BadFileException;
import io.tributary.connector.file.CorruptFileException;
import io.tributary.connector.file.FileAccessDeniedException;
import io.tributary.connector.file.FileSourceOptions.Format;
import io.tributary.connector.file.FileVanishedException;
import io.tributary.connector.file.RecordTooLongException;
import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
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
 * half a file in a batch.
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

  /** Reads the whole file. */
  public List<Record> read(FileSystem fs, FileEntry e, String source, String partition)
      throws BadFileException {
    SourcePosition pos = new SourcePosition(source, partition, e.seq());
    Map<String, byte[]> headers = Map.of(FILE_HEADER, e.path().getBytes(StandardCharsets.UTF_8));
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
    try (InputStream in = decompress(e.path(), new ExactLengthInputStream(raw, toRead, e.path()))) {
      List<Record> out = new ArrayList<>();
      switch (format) {
        case TEXT -> readLines(in, e, out, ts, headers, pos);
        case WHOLE_FILE -> {
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
          out.add(new Record(null, all, ts, headers, pos));
        }
        case FIXED_LENGTH -> readFixed(in, e, out, ts, headers, pos);
        default -> throw new IllegalStateException("format " + format);
      }
      return out;
    } catch (BadFileException ex) {
      throw ex;
    } catch (IOException ex) {
      throw classify(e, ex, "read");
    }
  }

  /**
   * Lines of the entry. For a split {@code [start, end)}: a split that does not start at 0 skips
   * everything up to and including the first line end at or after {@code start} (that line belongs
   * to the previous split), and a split reads every line that starts at or before {@code end},
   * finishing the last one past {@code end}. Each line is thus read by exactly one split, as
   * Hadoop's LineRecordReader does.
   */
  private void readLines(
      InputStream in,
      FileEntry e,
      List<Record> out,
      long ts,
      Map<String, byte[]> headers,
      SourcePosition pos)
      throws IOException {
    byte[] chunk = new byte[BUFFER];
    byte[] line = new byte[Math.min(8192, maxLineLength + 1)];
    int len = 0;
    long lineNo = 1;
    long offset = e.start(); // file position of the next byte
    long lineStart = offset;
    boolean skipping = e.start() > 0 && !e.appended(); // appended bytes start at a line start
    long stopAfter = e.isSplit() ? e.end() : Long.MAX_VALUE; // no line starting after this is ours
    int n;
    outer:
    while ((n = in.read(chunk)) >= 0) {
      for (int i = 0; i < n; i++, offset++) {
        byte b = chunk[i];
        if (skipping) {
          if (b == '\n') {
            skipping = false;
            lineStart = offset + 1;
          }
          continue;
        }
        if (lineStart > stopAfter) {
          break outer;
        }
        if (b == '\n') {
          out.add(new Record(null, lineValue(line, len, e, lineNo), ts, headers, pos));
          len = 0;
          lineNo++;
          lineStart = offset + 1;
          continue;
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
    if (len > 0 && !skipping && lineStart <= stopAfter && !e.partialTail()) {
      // (with partialTail the line may still be being written: a later entry emits it)
      out.add(new Record(null, lineValue(line, len, e, lineNo), ts, headers, pos));
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

  private void readFixed(
      InputStream in,
      FileEntry e,
      List<Record> out,
      long ts,
      Map<String, byte[]> headers,
      SourcePosition pos)
      throws IOException {
    while (true) {
      byte[] rec = in.readNBytes(recordLength);
      if (rec.length == 0) {
        return;
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
      out.add(new Record(null, rec, ts, headers, pos));
    }
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
