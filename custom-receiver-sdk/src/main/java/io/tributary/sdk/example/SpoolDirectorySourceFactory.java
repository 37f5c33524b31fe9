package io.tributary.sdk.example;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code spool-directory} source type: a {@link SpoolDirectoryReceiver}, announced to the gateway through {@link
 * java.util.ServiceLoader}.
 *
 * <p>This factory is listed in {@code META-INF/services/io.tributary.core.api.SourceFactory} of the SDK's
 * <em>test</em> resources only: the SDK jar is a library that every connector depends on, and a provider file in it
 * would add a {@code spool-directory} type to every gateway that has any connector on its classpath. A connector jar of
 * your own lists its factory in its <em>main</em> resources (see the SDK's README).
 *
 * <p>Thread safety: stateless.
 */
public final class SpoolDirectorySourceFactory implements SourceFactory {
  /** The type name used in pipeline configs. */
  public static final String TYPE = "spool-directory";

  public static final ConfigOption<String> DIRECTORY =
      ConfigOption.string("directory")
          .required()
          .validate(ConfigOption.nonBlank())
          .description(
              "Directory to read complete files from (names not starting with '.' and not ending in '.tmp');"
                  + " acknowledged files move to its .done/ subdirectory.");

  public static final ConfigOption<Integer> MAX_LINES_PER_BATCH =
      ConfigOption.integer("max-lines-per-batch")
          .defaultValue(1000)
          .validate(ConfigOption.between(1, 1_000_000))
          .description("Most lines stored in one reliable batch; bounds memory for big files.");

  public static final ConfigOption<Duration> POLL_TIMEOUT =
      ConfigOption.duration("poll-timeout")
          .defaultValue(Duration.ofSeconds(1))
          .validate(ConfigOption.positive())
          .description("Longest time one poll waits for a new file.");

  public static final ConfigOption<Duration> SCAN_INTERVAL =
      ConfigOption.duration("scan-interval")
          .defaultValue(Duration.ofMillis(250))
          .validate(ConfigOption.positive())
          .description("How often the directory is listed while no file is waiting.");

  /** Every key, in documentation order. */
  public static final ConfigSpec SPEC = ConfigSpec.of(DIRECTORY, MAX_LINES_PER_BATCH, POLL_TIMEOUT, SCAN_INTERVAL);

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Spool directory: UTF-8 line files dropped into a directory, moved to .done/ once stored";
  }

  @Override
  public ConfigSpec options() {
    return SPEC;
  }

  @Override
  public Source create(String name, Config config) {
    return new SpoolDirectoryReceiver(
        Path.of(config.get(DIRECTORY)),
        config.get(MAX_LINES_PER_BATCH),
        config.get(POLL_TIMEOUT),
        config.get(SCAN_INTERVAL));
  }
}
