package io.tributary.connector.file;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;

/**
 * The {@code files-tail} source type: a {@link TailSource} following growing local files by byte
 * offset. Found through {@link java.util.ServiceLoader}.
 *
 * <p>Thread safety: stateless.
 */
public final class TailSourceFactory implements SourceFactory {
  @Override
  public String type() {
    return "files-tail";
  }

  @Override
  public String description() {
    return "Follows growing local files (logs) by byte offset, through rotation by rename and copytruncate"
        + " (complete lines only, exactly-once)";
  }

  @Override
  public ConfigSpec options() {
    return TailSourceOptions.SPEC;
  }

  @Override
  public Source create(String name, Config config) {
    return new TailSource(config);
  }
}
