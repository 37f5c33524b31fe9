package io.tributary.connector.file.sink;

import io.micrometer.core.instrument.Counter;
import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.core.api.IdempotentSink;
import io.tributary.core.api.Record;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.SinkContext;
import java.io.BufferedOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.ArrayList;
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
 * Writes each batch as newline-delimited files on any Hadoop file system (local, HDFS, S3 through s3a), exactly-once by
 * batch-id naming and atomic publish. Same naming and content as core's {@code RollingFileSink}.
 *
 * <p>Batch N becomes {@code <prefix>-<N as 20 digits>-<part as 5 digits><suffix>}, rolling to a new part when a file
 * reaches {@code maxFileBytes}. How a part becomes visible depends on the {@link PublishMode}:
 *
 * <ul>
 *   <li>{@code RENAME} (HDFS, local, and the default for every file system that is not an object store): the part is
 *       written to the hidden {@code .<name>.tmp}, {@code hsync}ed when {@code fsync} is on, then renamed over the final
 *       name (HDFS {@code rename} with overwrite, POSIX rename locally), which is atomic.
 *   <li>{@code DIRECT} (s3a and other object stores): the part is written to its final name; S3A's output stream makes
 *       the object visible only when it is closed (a single PUT, or a completed multipart upload), so a crash mid-write
 *       leaves nothing visible. A rename on S3 would be a copy, not atomic, so none is done.
 * </ul>
 *
 * <p>Why idempotent and not transactional: the parts of one batch cannot be published together in one atomic step on
 * these file systems, and nothing here can record "batch N committed" atomically with the data. Instead a replayed batch
 * (same id, same records) produces the same names and the same bytes and replaces the earlier files whole, so the
 * result after a replay equals the result of one write. While a multi-part batch is being published, a reader may see
 * some of its parts before the others; every part is whole. Readers must ignore names starting with {@code .}. Empty
 * batches write nothing.
 *
 * <p>Thread safety: used by the pipeline's batch thread only. {@link #close()} is safe to call twice.
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

  /** A sink publishing under {@code dir}, a Hadoop URI such as {@code hdfs://nn:8020/out} or {@code s3a://b/out}. */
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
    fs = HadoopFileSystems.open(dirUri, HadoopFileSystems.configuration(hadoopSettings));
    dir = fs.makeQualified(new Path(dirUri));
    mode = HadoopFileSystems.effectiveMode(requestedMode, fs.getUri().getScheme());
    try {
      fs.mkdirs(dir);
      if (mode == PublishMode.RENAME) {
        // Temp files of a batch interrupted by a crash: that batch is replayed, so they are garbage.
        for (FileStatus st : fs.listStatus(dir, p -> isTemp(p.getName()))) {
          fs.delete(st.getPath(), false);
        }
      }
    } catch (IOException e) {
      fs.close();
      throw new FileSinkException(where() + ": cannot prepare the output directory: " + e
          + " (check that it is reachable and writable)", e);
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
        context.pipelineId(), sinkName, HadoopFileSystems.describe(dirUri), mode,
        Secrets.describe(hadoopSettings));
  }

  private boolean isTemp(String name) {
    return name.startsWith("." + prefix + "-") && name.endsWith(".tmp");
  }

  private String where() {
    return "Sink " + sinkName + " at " + HadoopFileSystems.describe(dirUri);
  }

  @Override
  public void write(long batchId, List<Record> records) throws IOException {
    if (fs == null) {
      throw new IllegalStateException(where() + " is not open");
    }
    if (records.isEmpty()) {
      return;
    }
    Map<Path, Path> pending = new LinkedHashMap<>();
    List<Long> sizes = new ArrayList<>();
    int part = 0;
    int i = 0;
    try {
      while (i < records.size()) {
        String name = fileName(batchId, part++);
        Path target = new Path(dir, name);
        Path written = mode == PublishMode.RENAME ? new Path(dir, "." + name + ".tmp") : target;
        long bytes = 0;
        FSDataOutputStream out = fs.create(written, true);
        boolean complete = false;
        try {
          OutputStream buffered = new BufferedOutputStream(out, 1 << 16);
          while (i < records.size() && (bytes == 0 || bytes < maxFileBytes)) {
            byte[] v = records.get(i++).value();
            buffered.write(v);
            buffered.write('\n');
            bytes += v.length + 1;
          }
          buffered.flush();
          if (mode == PublishMode.RENAME && sync) {
            out.hsync();
          }
          complete = true;
        } finally {
          if (complete) {
            out.close(); // DIRECT: the object becomes visible here, whole
          } else {
            abandon(out);
          }
        }
        pending.put(written, target);
        sizes.add(bytes);
      }
      if (mode == PublishMode.RENAME) {
        for (Map.Entry<Path, Path> e : pending.entrySet()) {
          HadoopFileSystems.renameOverwrite(fs, e.getKey(), e.getValue());
        }
      }
      // A replay cannot have fewer parts (same records, same roll size) unless max-file-size changed between runs.
      for (int extra = part; fs.exists(new Path(dir, fileName(batchId, extra))); extra++) {
        fs.delete(new Path(dir, fileName(batchId, extra)), false);
      }
      if (mode == PublishMode.RENAME && sync) {
        HadoopFileSystems.syncDirectory(fs, dir);
      }
    } catch (FileNotFoundException e) {
      throw new FileSinkException(where() + ": batch " + batchId + " lost a file while publishing: " + e
          + " (is another writer using the same directory and prefix?)", e);
    } catch (IOException e) {
      throw new FileSinkException(where() + ": cannot publish batch " + batchId + ": " + e
          + " (the batch is replayed on restart with the same file names)", e);
    }
    filesPublished.increment(pending.size());
    bytesPublished.increment(sizes.stream().mapToLong(Long::longValue).sum());
    LOG.debug("event=batch_published sink={} batch={} files={} records={}", sinkName, batchId, pending.size(),
        records.size());
  }

  /**
   * Discards a part that failed mid-write. Closing an S3A stream would publish the partial object, so DIRECT mode
   * aborts the upload instead; a RENAME temp file is harmless and removed on the next open or overwritten by the replay.
   */
  private void abandon(FSDataOutputStream out) {
    try {
      if (mode == PublishMode.DIRECT && out.hasCapability(StreamCapabilities.ABORTABLE_STREAM)) {
        out.abort();
      } else if (mode == PublishMode.RENAME) {
        out.close();
      } else {
        // No way to abort: leave the stream unclosed, so the object store never completes the upload.
        LOG.warn("event=upload_not_abortable sink={} stream={}", sinkName, out.getClass().getName());
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
        throw new IllegalArgumentException("Invalid value " + p + " for prefix: (expected: a non-empty name not"
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
        throw new IllegalArgumentException("Invalid value " + bytes + " for maxFileBytes: (expected: >= 1)");
      }
      this.maxFileBytes = bytes;
      return this;
    }

    /** Whether to force each temp file to disk (HDFS {@code hsync}) before renaming it (default true; RENAME mode). */
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
