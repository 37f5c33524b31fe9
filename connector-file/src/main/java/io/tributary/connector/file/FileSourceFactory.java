package io.tributary.connector.file;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;

/**
 * The {@code files} source type: a {@link FileSource} monitoring directories for new files. Found
 * through {@link java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class FileSourceFactory implements SourceFactory {
  @Override
  public String type() {
    return "files";
  }

  @Override
  public String description() {
    return "Reads new files appearing in directories on local, HDFS or S3 file systems (files of a batch in the"
        + " checkpoint, exactly-once)";
  }

  @Override
  public ConfigSpec options() {
    return FileSourceOptions.SPEC;
  }

  @Override
  public Source create(String name, Config config) {
    return new FileSource(config);
  }
}
