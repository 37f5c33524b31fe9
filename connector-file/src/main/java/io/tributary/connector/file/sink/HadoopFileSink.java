package io.tributary.connector.file.sink;

import io.micrometer.core.instrument.Counter;
import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.IdempotentSink;
import io.tributary.core.api.Record;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import java.io.BufferedOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each batch as newline-delimited files on any Hadoop file system (local, HDFS, S3 through
 * s3a), exactly-once by batch-id naming and atomic publish. Same naming and content as core's
 * {@code RollingFileSink}.
 *
 * <p>Batch N becomes {@code <prefix>-<N as 20 digits>-<part as 5 digits><suffix>}, rolling to a new
 * part when a file reaches {@code maxFileBytes}. Parts are written as the batch's chunks arrive
 * ({@link #begin}), so memory stays flat whatever the batch size. How a part becomes visible
 * depends on the {@link PublishMode}:
 *
 * <ul>
 *   <li>{@code RENAME} (HDFS, local, and the default for every file system that is not an object
 *       store): the part is written to the hidden {@code .<name>.tmp}, {@code hsync}ed when {@code
 *       fsync} is on, then, when the batch commits, renamed over the final name (HDFS {@code
 *       rename} with overwrite, POSIX rename locally), which is atomic. A batch abandoned before
 *       its commit deletes its temp files.
 *   <li>{@code DIRECT} (s3a and other object stores): the part is written to its final name; S3A's
 *       output stream makes the object visible only when it is closed (a single PUT, or a completed
 *       multipart upload), so a crash mid-write leaves nothing visible. A rename on S3 would be a
 *       copy, not atomic, so none is done.
 * </ul>
 *
 * <p>Why idempotent and not transactional: the parts of one batch cannot be published together in
 * one atomic step on these file systems, and nothing here can record "batch N committed" atomically
 * with the data. Instead a replayed batch (same id, same records) produces the same names and the
 * same bytes and replaces the earlier files whole, so the result after a replay equals the result
 * of one write. While a multi-part batch is being published, a reader may see some of its parts
 * before the others; every part is whole. Readers must ignore names starting with {@code .}. Empty
 * batches write nothing.
 *
 * <p>Thread safety: used by the pipeline's batch thread only. {@link #close()} is safe to call
 * twice.
 */
public final class HadoopFileSink implements IdempotentSink {
  private static final Logger LOG = LoggerFactory.getLogger(HadoopFileSink.class);

  private final URI dirUri;
  private final String prefix;
  private final String suffix;
  private final long maxFileBytes;
  private final boolean sync;
  private final PublishMode requestedMode;
  private final Map<String, String> hadoopSettings;

  private FileSystem fs;
  private Path dir;
  private PublishMode mode;
  private Counter filesPublished;
  private Counter bytesPublished;
  private String sinkName = "files";

  private HadoopFileSink(Builder b) {
    this.dirUri = b.dir;
    this.prefix = b.prefix;
    this.suffix = b.suffix;
    this.maxFileBytes = b.maxFileBytes;
    this.sync = b.sync;
    this.requestedMode = b.mode;
    this.hadoopSettings = Map.copyOf(b.hadoop);
  }

  /**
   * A sink publishing under {@code dir}, a Hadoop URI such as {@code hdfs://nn:8020/out} or {@code
   * s3a://b/out}.
   */
  public static Builder builder(URI dir) {
    return new Builder(dir);
  }

  /** The name of part {@code part} of batch {@code batchId}. */
  public String fileName(long batchId, int part) {
    return String.format("%s-%020d-%05d%s", prefix, batchId, part, suffix);
  }

  /** The publish mode in effect (known after {@link #open}). */
  public PublishMode publishMode() {
    return mode != null ? mode : HadoopFileSystems.effectiveMode(requestedMode, dirUri.getScheme());
  }

  @Override
  public void open(SinkContext context) throws IOException {
    sinkName = context.sinkName();
    org.apache.hadoop.conf.Configuration conf = HadoopFileSystems.configuration(hadoopSettings);
    fs = HadoopFileSystems.open(dirUri, conf);
    try {
      io.tributary.connector.file.internal.hadoop.EndpointCheck.check(
          fs, new Path(dirUri), conf, "files sink " + sinkName + " directory", "path");
    } catch (RuntimeException e) {
      fs.close();
      throw e;
    }
    dir = fs.makeQualified(new Path(dirUri));
    mode = HadoopFileSystems.effectiveMode(requestedMode, fs.getUri().getScheme());
    try {
      fs.mkdirs(dir);
      if (mode == PublishMode.RENAME) {
        // Temp files of a batch interrupted by a crash: that batch is replayed, so they are
        // garbage.
        for (FileStatus st : fs.listStatus(dir, p -> isTemp(p.getName()))) {
          fs.delete(st.getPath(), false);
        }
      }
    } catch (IOException e) {
      fs.close();
      throw new FileSinkException(
          where()
              + ": cannot prepare the output directory: "
              + e
              + " (check that it is reachable and writable)",
          e);
    }
    filesPublished =
        Counter.builder("tributary.sink.files.published")
            .tags("pipeline", context.pipelineId(), "sink", sinkName)
            .register(context.meterRegistry());
    bytesPublished =
        Counter.builder("tributary.sink.bytes.published")
            .tags("pipeline", context.pipelineId(), "sink", sinkName)
            .register(context.meterRegistry());
    LOG.info(
        "event=file_sink_opened pipeline={} sink={} dir={} publish={} hadoop={}",
        context.pipelineId(),
        sinkName,
        HadoopFileSystems.describe(dirUri),
        mode,
        Secrets.describe(hadoopSettings));
  }

  private boolean isTemp(String name) {
    return name.startsWith("." + prefix + "-") && name.endsWith(".tmp");
  }

  private String where() {
    return "Sink " + sinkName + " at " + HadoopFileSystems.describe(dirUri);
  }

  /**
   * Writes the batch as one chunk, as {@link Sink#writeAll} does (narrowed to {@link IOException}).
   */
  @Override
  public void write(long batchId, List<Record> records) throws IOException {
    try (Writer w = newWriter(batchId)) {
      if (!records.isEmpty()) {
        w.write(records);
      }
      w.commit();
    }
  }

  /**
   * Starts batch {@code batch.batchId()}: each chunk is appended to the batch's current part
   * (rolling at {@code maxFileBytes}; a RENAME temp file or a DIRECT upload), and {@link
   * BatchWriter#commit()} publishes the parts. Closing the writer without commit deletes its RENAME
   * temp files and aborts an upload in progress.
   */
  @Override
  public BatchWriter begin(SinkBatch batch) {
    return newWriter(batch.batchId());
  }

  private Writer newWriter(long batchId) {
    if (fs == null) {
      throw new IllegalStateException(where() + " is not open");
    }
    return new Writer(batchId);
  }

  private FileSinkException publishFailed(long batchId, IOException e) {
    if (e instanceof FileNotFoundException) {
      return new FileSinkException(
          where()
              + ": batch "
              + batchId
              + " lost a file while publishing: "
              + e
              + " (is another writer using the same directory and prefix?)",
          e);
    }
    return new FileSinkException(
        where()
            + ": cannot publish batch "
            + batchId
            + ": "
            + e
            + " (the batch is replayed on restart with the same file names)",
        e);
  }

  /**
   * The writer of one batch: parts are written as chunks arrive, so only the output buffer is held
   * in memory, whatever the batch size. In DIRECT mode a part is published when it is full (its
   * stream closed); a batch abandoned after that leaves those whole parts visible, and its replay
   * replaces them with the same bytes.
   *
   * <p>Thread safety: used by the batch thread only.
   */
  private final class Writer implements BatchWriter {
    private final long batchId;

    /** Where each finished part was written, to its final name, in part order. */
    private final Map<Path, Path> pending = new LinkedHashMap<>();

    private int parts;
    private long bytesWritten;
    private long records;
    private Path currentWritten;
    private Path currentTarget;
    private FSDataOutputStream current;
    private OutputStream buffered;
    private long partBytes;
    private boolean committed;
    private boolean closed;

    private Writer(long batchId) {
      this.batchId = batchId;
    }

    @Override
    public void write(List<Record> chunk) throws IOException {
      checkOpen();
      try {
        for (Record r : chunk) {
          // A part takes records until it reaches maxFileBytes; a record never spans two parts.
          if (current != null && partBytes >= maxFileBytes) {
            finishPart();
          }
          if (current == null) {
            startPart();
          }
          byte[] v = r.value();
          buffered.write(v);
          buffered.write('\n');
          partBytes += v.length + 1;
          records++;
        }
      } catch (IOException e) {
        throw publishFailed(batchId, e);
      }
    }

    private void checkOpen() {
      if (committed || closed) {
        throw new IllegalStateException(
            where() + ": batch " + batchId + " was already committed or abandoned");
      }
    }

    private void startPart() throws IOException {
      String name = fileName(batchId, parts++);
      currentTarget = new Path(dir, name);
      currentWritten =
          mode == PublishMode.RENAME ? new Path(dir, "." + name + ".tmp") : currentTarget;
      current = fs.create(currentWritten, true);
      buffered = new BufferedOutputStream(current, 1 << 16);
      partBytes = 0;
    }

    private void finishPart() throws IOException {
      FSDataOutputStream out = current;
      boolean complete = false;
      try {
        buffered.flush();
        if (mode == PublishMode.RENAME && sync) {
          out.hsync();
        }
        complete = true;
      } finally {
        current = null;
        buffered = null;
        if (complete) {
          out.close(); // DIRECT: the object becomes visible here, whole
        } else {
          abandon(out);
        }
      }
      pending.put(currentWritten, currentTarget);
      bytesWritten += partBytes;
    }

    @Override
    public void commit() throws IOException {
      checkOpen();
      try {
        if (current != null) {
          finishPart();
        }
        if (pending.isEmpty()) {
          committed = true;
          return; // an empty batch writes nothing
        }
        if (mode == PublishMode.RENAME) {
          for (Map.Entry<Path, Path> e : pending.entrySet()) {
            HadoopFileSystems.renameOverwrite(fs, e.getKey(), e.getValue());
          }
        }
        // A replay cannot have fewer parts (same records, same roll size) unless max-file-size
        // changed between runs.
        for (int extra = pending.size();
            fs.exists(new Path(dir, fileName(batchId, extra)));
            extra++) {
          fs.delete(new Path(dir, fileName(batchId, extra)), false);
        }
        if (mode == PublishMode.RENAME && sync) {
          HadoopFileSystems.syncDirectory(fs, dir);
        }
      } catch (IOException e) {
        throw publishFailed(batchId, e);
      }
      committed = true;
      filesPublished.increment(pending.size());
      bytesPublished.increment(bytesWritten);
      LOG.debug(
          "event=batch_published sink={} batch={} files={} records={}",
          sinkName,
          batchId,
          pending.size(),
          records);
    }

    /**
     * Releases the part in progress; without {@link #commit()}, removes the batch's RENAME temp
     * files, so nothing of it becomes visible but whole DIRECT parts.
     */
    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      if (current != null) {
        FSDataOutputStream out = current;
        current = null;
        buffered = null;
        abandon(out);
      }
      if (committed || mode != PublishMode.RENAME || fs == null) {
        return;
      }
      for (int k = 0; k < parts; k++) {
        Path temp = new Path(dir, "." + fileName(batchId, k) + ".tmp");
        try {
          fs.delete(temp, false); // false for those a failed commit renamed already
        } catch (IOException | RuntimeException e) {
          // Harmless: removed on the next open, or overwritten by the replay.
          LOG.warn(
              "event=temp_delete_failed sink={} batch={} file={} error=\"{}\"",
              sinkName,
              batchId,
              temp.getName(),
              e.toString());
        }
      }
    }
  }

  /**
   * Discards a part that failed mid-write. Closing an S3A stream would publish the partial object,
   * so DIRECT mode aborts the upload instead; a RENAME temp file is closed here and deleted by the
   * writer's {@code close()}.
   */
  private void abandon(FSDataOutputStream out) {
    try {
      if (mode == PublishMode.DIRECT && out.hasCapability(StreamCapabilities.ABORTABLE_STREAM)) {
        out.abort();
      } else if (mode == PublishMode.RENAME) {
        out.close();
      } else {
        // No way to abort: leave the stream unclosed, so the object store never completes the
        // upload.
        LOG.warn(
            "event=upload_not_abortable sink={} stream={}", sinkName, out.getClass().getName());
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("event=abandon_failed sink={} error=\"{}\"", sinkName, e.toString());
    }
  }

  @Override
  public void close() throws IOException {
    FileSystem f = fs;
    fs = null;
    if (f != null) {
      f.close();
    }
  }

  /**
   * Settings of a {@link HadoopFileSink}.
   *
   * <p>Thread safety: not thread-safe; build on one thread.
   */
  public static final class Builder {
    private final URI dir;
    private String prefix = "part";
    private String suffix = ".txt";
    private long maxFileBytes = 128L * 1024 * 1024;
    private boolean sync = true;
    private PublishMode mode = PublishMode.AUTO;
    private final Map<String, String> hadoop = new LinkedHashMap<>();

    private Builder(URI dir) {
      this.dir = Objects.requireNonNull(dir, "dir");
    }

    public Builder prefix(String p) {
      if (p.isEmpty() || p.startsWith(".") || p.contains("/")) {
        throw new IllegalArgumentException(
            "Invalid value "
                + p
                + " for prefix: (expected: a non-empty name not"
                + " starting with '.' and without '/')");
      }
      this.prefix = p;
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
     * Whether to force each temp file to disk (HDFS {@code hsync}) before renaming it (default
     * true; RENAME mode).
     */
    public Builder fsync(boolean enabled) {
      this.sync = enabled;
      return this;
    }

    public Builder publishMode(PublishMode m) {
      this.mode = Objects.requireNonNull(m);
      return this;
    }

    /** Hadoop settings without the {@code hadoop.} prefix, e.g. {@code fs.s3a.endpoint}. */
    public Builder hadoop(Map<String, String> settings) {
      this.hadoop.putAll(settings);
      return this;
    }

    public HadoopFileSink build() {
      return new HadoopFileSink(this);
    }
  }
}
