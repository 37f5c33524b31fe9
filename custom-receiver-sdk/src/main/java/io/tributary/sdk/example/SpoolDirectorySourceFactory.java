package io.tributary.sdk.example;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;
import io.tributary.sdk.PollingReceiver;
import java.nio.file.Path;

/**
 * The {@code spool-directory} source type: a {@link SpoolDirectoryReceiver} built from validated
 * options.
 *
 * <p>Deliberately <b>not</b> listed in this module's {@code META-INF/services}: every connector
 * depends on the SDK, so a registration here would put the example on every gateway's classpath. To
 * ship it, list this class in {@code META-INF/services/io.tributary.core.api.SourceFactory} of your
 * own jar (the SDK's tests do so in their resources).
 *
 * <p>Thread safety: stateless.
 */
public final class SpoolDirectorySourceFactory implements SourceFactory {
  @Override
  public String type() {
    return "spool-directory";
  }

  @Override
  public String description() {
    return "UTF-8 line files renamed into a directory; each file is moved to .done/ once its lines are durable";
  }

  @Override
  public ConfigSpec options() {
    return SpoolDirectoryOptions.SPEC;
  }

  @Override
  public Source create(String name, Config config) {
    return new SpoolDirectoryReceiver(
        Path.of(config.get(SpoolDirectoryOptions.DIRECTORY)),
        config.get(SpoolDirectoryOptions.MAX_CHUNK_LINES),
        config.get(SpoolDirectoryOptions.MAX_CHUNK_BYTES),
        config.get(SpoolDirectoryOptions.SCAN_INTERVAL),
        PollingReceiver.Settings.defaults());
  }
}
