package io.tributary.connector.file.internal.hadoop;

import io.tributary.core.api.ConfigOption;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.AWSApiCallTimeoutException;
import org.apache.hadoop.fs.s3a.AWSNoResponseException;
import org.apache.hadoop.fs.s3a.AWSServiceThrottledException;
import org.apache.hadoop.fs.s3a.AWSStatus500Exception;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * Shared helpers for Hadoop file systems: a {@link Configuration} from {@code hadoop.*} options,
 * uncached {@link FileSystem} instances, atomic rename with overwrite. Settings are shown in logs
 * through {@link io.tributary.core.api.Secrets#describe}.
 *
 * <p>Thread safety: stateless; every method may be called from any thread.
 */
public final class HadoopFileSystems {
  /**
   * Pass-through Hadoop settings: {@code hadoop.fs.s3a.endpoint: http://...} sets {@code
   * fs.s3a.endpoint}. Declared once here and reused by every option spec of connector-file that
   * talks to a Hadoop file system.
   */
  public static final ConfigOption<Map<String, String>> HADOOP =
      ConfigOption.prefixed("hadoop.")
          .description(
              "Hadoop settings passed to the file system's Configuration without the 'hadoop.' prefix, e.g."
                  + " hadoop.fs.s3a.endpoint, hadoop.fs.s3a.path.style.access, hadoop.dfs.replication."
                  + " Values of keys naming secrets are never logged.");

  /** Schemes whose output streams publish an object whole on close and whose rename is a copy. */
  private static final Set<String> OBJECT_STORES =
      Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn", "obs");

  private HadoopFileSystems() {}

  /**
   * A Configuration with Hadoop's defaults (and any {@code core-site.xml} on the classpath), then
   * {@code settings}.
   *
   * <p>{@code fs.automatic.close} is false unless {@code settings} say otherwise: with Hadoop's
   * default, a JVM shutdown hook closes every FileSystem while the gateway's own shutdown hook
   * still lets the batch in flight finish, so a SIGTERM during an S3 listing failed the pipeline
   * ({@code RejectedExecutionException} from the closed S3 client) and the gateway exited non-zero
   * instead of stopping gracefully. Tributary closes the file systems it opens itself.
   */
  public static Configuration configuration(Map<String, String> settings) {
    Configuration conf = new Configuration();
    conf.setBoolean("fs.automatic.close", false);
    settings.forEach(conf::set);
    return conf;
  }

  /**
   * A new, uncached FileSystem for {@code uri}; the caller closes it (closing does not affect other
   * users, unlike {@code FileSystem.get}). On the local file system no {@code .crc} side files are
   * written.
   */
  public static FileSystem open(URI uri, Configuration conf) throws IOException {
    FileSystem fs = FileSystem.newInstance(uri, conf);
    if (fs instanceof LocalFileSystem) {
      fs.setWriteChecksum(false);
      fs.setVerifyChecksum(false);
    }
    return fs;
  }

  /**
   * The publish mode {@code requested} means for {@code scheme}: AUTO picks DIRECT on object
   * stores.
   */
  public static PublishMode effectiveMode(PublishMode requested, String scheme) {
    if (requested != PublishMode.AUTO) {
      return requested;
    }
    return isObjectStore(scheme) ? PublishMode.DIRECT : PublishMode.RENAME;
  }

  public static boolean isObjectStore(String scheme) {
    return scheme != null && OBJECT_STORES.contains(scheme.toLowerCase(Locale.ROOT));
  }

  /**
   * Whether {@code t}, or an error in its cause chain, is a transient failure of the file system or
   * object store, one that the same call may not hit a little later: S3 throttling (503 SlowDown,
   * 429), S3 5xx, no response or an API call timeout, a connection refused, reset or timed out, an
   * HDFS NameNode in standby or safe mode, Hadoop's own {@code RetriableException}. Never
   * transient: permission, authentication, quota, a missing file, corrupt data (a person has to act
   * or the data is bad).
   */
  public static boolean isTransient(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.nio.file.AccessDeniedException
          || c instanceof org.apache.hadoop.security.AccessControlException
          || c instanceof java.io.FileNotFoundException) {
        return false;
      }
      if (c instanceof AWSServiceThrottledException
          || c instanceof AWSStatus500Exception
          || c instanceof AWSNoResponseException
          || c instanceof AWSApiCallTimeoutException
          || c instanceof java.net.SocketTimeoutException
          || c instanceof java.net.ConnectException
          || c instanceof java.net.NoRouteToHostException
          || c instanceof org.apache.hadoop.ipc.RetriableException
          || c instanceof org.apache.hadoop.ipc.StandbyException) {
        return true;
      }
      if (c instanceof SdkServiceException se
          && (se.isThrottlingException() || se.statusCode() == 429 || se.statusCode() >= 500)) {
        return true;
      }
      String name = c.getClass().getSimpleName();
      String msg = String.valueOf(c.getMessage());
      if (name.equals("SafeModeException")
          || c instanceof java.net.SocketException
              && (msg.contains("Connection reset")
                  || msg.contains("Broken pipe")
                  || msg.contains("Connection refused"))
          || name.equals("ConnectionClosedException")
          || name.equals("NoHttpResponseException")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Renames {@code src} over {@code dst} atomically: POSIX rename on the local file system,
   * rename-with-overwrite (HDFS {@code rename2}) elsewhere.
   */
  public static void renameOverwrite(FileSystem fs, Path src, Path dst) throws IOException {
    if ("file".equals(fs.getUri().getScheme())) {
      java.nio.file.Path from = java.nio.file.Path.of(fs.makeQualified(src).toUri());
      java.nio.file.Path to = java.nio.file.Path.of(fs.makeQualified(dst).toUri());
      try {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException(
            "The file system of " + to.getParent() + " cannot rename atomically", e);
      }
      return;
    }
    FileUtil.rename(fs, src, dst, Options.Rename.OVERWRITE);
  }

  /**
   * Forces a local directory's entries to disk; nothing on other file systems (their rename is
   * durable).
   */
  public static void syncDirectory(FileSystem fs, Path dir) {
    if ("file".equals(fs.getUri().getScheme())) {
      LocalCheckpointStorage.fsyncDirectory(java.nio.file.Path.of(fs.makeQualified(dir).toUri()));
    }
  }

  /** {@code uri} without user information, query or fragment, for messages and logs. */
  public static String describe(URI uri) {
    try {
      return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), null, null)
          .toString();
    } catch (URISyntaxException e) {
      return uri.getScheme() + "://" + (uri.getHost() == null ? "" : uri.getHost()) + uri.getPath();
    }
  }
}
