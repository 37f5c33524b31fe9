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

/**
 * Shared helpers for Hadoop file systems: a {@link Configuration} from {@code hadoop.*} options, uncached {@link
 * FileSystem} instances, atomic rename with overwrite. Settings are shown in
 * logs through {@link io.tributary.core.api.Secrets#describe}.
 *
 * <p>Thread safety: stateless; every method may be called from any thread.
 */
public final class HadoopFileSystems {
  /**
   * Pass-through Hadoop settings: {@code hadoop.fs.s3a.endpoint: http://...} sets {@code fs.s3a.endpoint}. Declared once
   * here and reused by every option spec of connector-file that talks to a Hadoop file system.
   */
  public static final ConfigOption<Map<String, String>> HADOOP =
      ConfigOption.prefixed("hadoop.")
          .description(
              "Hadoop settings passed to the file system's Configuration without the 'hadoop.' prefix, e.g."
                  + " hadoop.fs.s3a.endpoint, hadoop.fs.s3a.path.style.access, hadoop.dfs.replication."
                  + " Values of keys naming secrets are never logged.");

  /** Schemes whose output streams publish an object whole on close and whose rename is a copy. */
  private static final Set<String> OBJECT_STORES = Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn", "obs");

  private HadoopFileSystems() {}

  /**
   * A Configuration with Hadoop's defaults (and any {@code core-site.xml} on the classpath), then {@code settings}.
   */
  public static Configuration configuration(Map<String, String> settings) {
    Configuration conf = new Configuration();
    settings.forEach(conf::set);
    return conf;
  }

  /**
   * A new, uncached FileSystem for {@code uri}; the caller closes it (closing does not affect other users, unlike
   * {@code FileSystem.get}). On the local file system no {@code .crc} side files are written.
   */
  public static FileSystem open(URI uri, Configuration conf) throws IOException {
    FileSystem fs = FileSystem.newInstance(uri, conf);
    if (fs instanceof LocalFileSystem) {
      fs.setWriteChecksum(false);
      fs.setVerifyChecksum(false);
    }
    return fs;
  }

  /** The publish mode {@code requested} means for {@code scheme}: AUTO picks DIRECT on object stores. */
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
   * Renames {@code src} over {@code dst} atomically: POSIX rename on the local file system, rename-with-overwrite
   * (HDFS {@code rename2}) elsewhere.
   */
  public static void renameOverwrite(FileSystem fs, Path src, Path dst) throws IOException {
    if ("file".equals(fs.getUri().getScheme())) {
      java.nio.file.Path from = java.nio.file.Path.of(fs.makeQualified(src).toUri());
      java.nio.file.Path to = java.nio.file.Path.of(fs.makeQualified(dst).toUri());
      try {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("The file system of " + to.getParent() + " cannot rename atomically", e);
      }
      return;
    }
    FileUtil.rename(fs, src, dst, Options.Rename.OVERWRITE);
  }

  /** Forces a local directory's entries to disk; nothing on other file systems (their rename is durable). */
  public static void syncDirectory(FileSystem fs, Path dir) {
    if ("file".equals(fs.getUri().getScheme())) {
      LocalCheckpointStorage.fsyncDirectory(java.nio.file.Path.of(fs.makeQualified(dir).toUri()));
    }
  }

  /** {@code uri} without user information, query or fragment, for messages and logs. */
  public static String describe(URI uri) {
    try {
      return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), null, null).toString();
    } catch (URISyntaxException e) {
      return uri.getScheme() + "://" + (uri.getHost() == null ? "" : uri.getHost()) + uri.getPath();
    }
  }
}
