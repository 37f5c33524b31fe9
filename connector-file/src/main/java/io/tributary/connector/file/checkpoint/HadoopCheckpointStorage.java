package io.tributary.connector.file.checkpoint;

import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.Secrets;
import io.tributary.core.checkpoint.CheckpointStorage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pipeline's checkpoint on a Hadoop file system: HDFS ({@code hdfs://}), S3 ({@code s3a://}), or
 * any other.
 *
 * <p>{@link #writeAtomically} keeps core's guarantee (the whole content or nothing, even if the
 * process dies):
 *
 * <ul>
 *   <li>{@code RENAME} (HDFS and other file systems with atomic rename): write {@code .<name>.tmp},
 *       {@code hsync} it (durable on every data node of the pipeline), then rename it over the
 *       target with overwrite (HDFS {@code rename2}, one name node operation).
 *   <li>{@code DIRECT} (s3a and other object stores): write the target itself; S3A uploads a small
 *       file as one PUT when the stream is closed, and S3 makes an object visible only whole. A
 *       failed write aborts the upload. S3 is strongly consistent (read-after-write,
 *       list-after-write), so a later {@link #read} or {@link #list} sees it.
 * </ul>
 *
 * <p>Names starting with {@code .} are hidden from {@link #list}. Paths may not contain {@code ..}.
 *
 * <p>Thread safety: safe for concurrent calls on different paths (Hadoop FileSystem instances are
 * thread-safe). The storage owns its FileSystem instance and closes it in {@link #close()}, which
 * is safe to call twice.
 */
public final class HadoopCheckpointStorage implements CheckpointStorage {
  private static final Logger LOG = LoggerFactory.getLogger(HadoopCheckpointStorage.class);

  private final URI location;
  private final FileSystem fs;
  private final Path root;
  private final PublishMode mode;

  /**
   * Connects to the file system at {@code location} (the checkpoint directory, created on first
   * write).
   *
   * @param hadoopSettings Hadoop settings without the {@code hadoop.} prefix, e.g. {@code
   *     fs.s3a.endpoint}
   * @throws IOException when the file system cannot be reached
   */
  public HadoopCheckpointStorage(
      URI location, Map<String, String> hadoopSettings, PublishMode publish) throws IOException {
    this.location = location;
    this.fs = HadoopFileSystems.open(location, HadoopFileSystems.configuration(hadoopSettings));
    try {
      this.root = fs.makeQualified(new Path(location));
    } catch (RuntimeException e) {
      fs.close();
      throw new IOException(
          "Invalid checkpoint location " + HadoopFileSystems.describe(location) + ": " + e, e);
    }
    this.mode = HadoopFileSystems.effectiveMode(publish, fs.getUri().getScheme());
    LOG.info(
        "event=checkpoint_storage_opened location={} publish={} hadoop={}",
        describe(),
        mode,
        Secrets.describe(hadoopSettings));
  }

  /** The publish mode in effect. */
  public PublishMode publishMode() {
    return mode;
  }

  private Path resolve(String path) {
    if (path.isEmpty() || path.startsWith("/")) {
      throw new IllegalArgumentException(
          "Invalid checkpoint path " + path + ": (expected: a relative path)");
    }
    for (String seg : path.split("/")) {
      if (seg.equals("..") || seg.equals(".")) {
        throw new IllegalArgumentException(
            "Checkpoint path escapes the checkpoint directory: " + path);
      }
    }
    return new Path(root, path);
  }

  @Override
  public Optional<byte[]> read(String path) throws IOException {
    Path p = resolve(path);
    try (FSDataInputStream in = fs.open(p)) {
      return Optional.of(in.readAllBytes());
    } catch (FileNotFoundException e) {
      return Optional.empty();
    }
  }

  @Override
  public void writeAtomically(String path, byte[] data) throws IOException {
    try {
      write(path, data);
    } catch (IOException e) {
      if (HadoopFileSystems.isTransient(e)) {
        // An overwrite of the same path with the same bytes is safe to repeat: the runtime retries
        // the write.
        throw new RetriableException(
            "Writing "
                + path
                + " to checkpoint "
                + describe()
                + " failed with a transient error: "
                + e
                + " (the object store or file system is throttling or unreachable; the write is retried)",
            e);
      }
      throw e;
    }
  }

  private void write(String path, byte[] data) throws IOException {
    Path target = resolve(path);
    Path written =
        mode == PublishMode.RENAME
            ? new Path(target.getParent(), "." + target.getName() + ".tmp")
            : target;
    FSDataOutputStream out = fs.create(written, true);
    boolean complete = false;
    try {
      out.write(data);
      if (mode == PublishMode.RENAME) {
        out.hsync();
      }
      complete = true;
    } finally {
      if (complete) {
        out.close(); // DIRECT: the single PUT happens here; the object appears whole
      } else if (mode == PublishMode.DIRECT
          && out.hasCapability(StreamCapabilities.ABORTABLE_STREAM)) {
        out.abort();
      } else if (mode == PublishMode.RENAME) {
        closeQuietly(out);
      }
    }
    if (mode == PublishMode.RENAME) {
      HadoopFileSystems.renameOverwrite(fs, written, target);
      HadoopFileSystems.syncDirectory(fs, target.getParent());
    }
  }

  private static void closeQuietly(FSDataOutputStream out) {
    try {
      out.close();
    } catch (IOException e) {
      LOG.debug("event=temp_close_failed error=\"{}\"", e.toString());
    }
  }

  @Override
  public List<String> list(String dir) throws IOException {
    FileStatus[] st;
    try {
      st = fs.listStatus(resolve(dir));
    } catch (FileNotFoundException e) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    for (FileStatus s : st) {
      String n = s.getPath().getName();
      if (!n.startsWith(".")) {
        names.add(n);
      }
    }
    names.sort(null);
    return names;
  }

  @Override
  public void delete(String path) throws IOException {
    fs.delete(resolve(path), false);
  }

  @Override
  public String describe() {
    return HadoopFileSystems.describe(location);
  }

  @Override
  public void close() throws IOException {
    fs.close(); // FileSystem.close is idempotent
  }
}
