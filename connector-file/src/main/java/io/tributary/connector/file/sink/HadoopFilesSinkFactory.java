package io.tributary.connector.file.sink;

import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * Sink type {@code hadoop-files}: newline-delimited files on any Hadoop file system (local, {@code
 * hdfs://}, {@code s3a://}), exactly-once by batch-id naming and atomic publish ({@link
 * HadoopFileSink}). The keys and file names match core's {@code files} sink; {@code path} takes a
 * URI and {@code hadoop.*} keys pass Hadoop settings.
 *
 * <pre>
 * sinks:
 *   - type: hadoop-files
 *     path: s3a://my-bucket/out/clicks
 *     hadoop: { fs.s3a.endpoint: http://127.0.0.1:9000, fs.s3a.path.style.access: true }
 * </pre>
 *
 * <p>Thread safety: stateless.
 */
public final class HadoopFilesSinkFactory implements SinkFactory {
  public static final ConfigOption<String> PATH =
      ConfigOption.string("path")
          .required()
          .validate(HadoopFilesSinkFactory::checkUri)
          .description(
              "Directory the files are published in: a Hadoop URI (hdfs://host:8020/dir, s3a://bucket/dir,"
                  + " file:/dir) or a local path. Created if missing.");
  public static final ConfigOption<String> PREFIX =
      ConfigOption.string("prefix")
          .defaultValue("part")
          .validate(
              p ->
                  p.isEmpty() || p.startsWith(".") || p.contains("/")
                      ? "not a plain file name prefix (expected: non-empty, no '/', not starting with '.')"
                      : null)
          .description("File name prefix.");
  public static final ConfigOption<String> SUFFIX =
      ConfigOption.string("suffix").defaultValue(".txt").description("File name suffix.");
  public static final ConfigOption<Long> MAX_FILE_SIZE =
      ConfigOption.size("max-file-size")
          .defaultValue(128L * 1024 * 1024)
          .validate(ConfigOption.atLeast(1))
          .description("A batch's output rolls to a new part file at this size.");
  public static final ConfigOption<Boolean> FSYNC =
      ConfigOption.bool("fsync")
          .defaultValue(true)
          .description(
              "Force each temp file to disk before the rename publishes it (HDFS hsync, local fsync; rename"
                  + " mode). Off risks losing published files when data nodes or the machine lose power.");
  public static final ConfigOption<PublishMode> PUBLISH =
      ConfigOption.enumValue("publish", PublishMode.class)
          .defaultValue(PublishMode.AUTO)
          .description(
              "How a file becomes visible: rename (temp file + atomic rename; HDFS, local), direct (write the"
                  + " final name; object stores whose objects appear whole on close, e.g. s3a), auto (direct on object"
                  + " stores, rename elsewhere).");
  public static final ConfigSpec SPEC =
      ConfigSpec.of(PATH, PREFIX, SUFFIX, MAX_FILE_SIZE, FSYNC, PUBLISH, HadoopFileSystems.HADOOP);

  @Override
  public String type() {
    return "hadoop-files";
  }

  @Override
  public String description() {
    return "Rolling newline-delimited files on local, HDFS or S3 (s3a), exactly-once by batch-id naming and atomic"
        + " publish.";
  }

  @Override
  public Guarantee guarantee() {
    return Guarantee.EXACTLY_ONCE_IDEMPOTENT;
  }

  @Override
  public ConfigSpec options() {
    return SPEC;
  }

  @Override
  public Sink create(String name, Config config) {
    return HadoopFileSink.builder(toUri(config.get(PATH)))
        .prefix(config.get(PREFIX))
        .suffix(config.get(SUFFIX))
        .maxFileBytes(config.get(MAX_FILE_SIZE))
        .fsync(config.get(FSYNC))
        .publishMode(config.get(PUBLISH))
        .hadoop(config.get(HadoopFileSystems.HADOOP))
        .build();
  }

  /** A Hadoop URI, or a local path made absolute. */
  static URI toUri(String path) {
    if (path.matches("^[A-Za-z][A-Za-z0-9+.-]+:.*")) {
      return URI.create(path);
    }
    return Path.of(path).toAbsolutePath().normalize().toUri();
  }

  private static String checkUri(String path) {
    if (path.isBlank()) {
      return "must not be blank (expected: a directory URI or path)";
    }
    if (path.matches("^[A-Za-z][A-Za-z0-9+.-]+:.*")) {
      try {
        URI u = new URI(path);
        if (u.getPath() == null || u.getPath().isEmpty()) {
          return "no directory in the URI (expected: e.g. s3a://bucket/dir or hdfs://host:8020/dir)";
        }
      } catch (URISyntaxException e) {
        return "not a URI: " + e.getReason() + " (expected: e.g. hdfs://host:8020/dir)";
      }
    }
    return null;
  }
}
