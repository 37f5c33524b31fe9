package io.tributary.sdk.example;

import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.time.Duration;

/**
 * The keys of the {@code spool-directory} source, each declared once.
 *
 * <p>Thread safety: constants only.
 */
public final class SpoolDirectoryOptions {
  public static final ConfigOption<String> DIRECTORY =
      ConfigOption.string("directory")
          .validate(ConfigOption.nonBlank())
          .required()
          .description("The spool directory to read; producers rename finished files into it");

  public static final ConfigOption<Integer> MAX_CHUNK_LINES =
      ConfigOption.integer("max-chunk-lines")
          .defaultValue(1000)
          .validate(ConfigOption.between(1, 1_000_000))
          .description("Most lines stored in one reliable store");

  public static final ConfigOption<Long> MAX_CHUNK_BYTES =
      ConfigOption.size("max-chunk-size")
          .defaultValue(1024L * 1024)
          .validate(ConfigOption.between(1, 256L * 1024 * 1024))
          .description("About the most bytes stored in one reliable store");

  public static final ConfigOption<Duration> SCAN_INTERVAL =
      ConfigOption.duration("scan-interval")
          .defaultValue(Duration.ofMillis(500))
          .validate(ConfigOption.positive())
          .description("How often to look for new files while idle");

  public static final ConfigSpec SPEC =
      ConfigSpec.of(DIRECTORY, MAX_CHUNK_LINES, MAX_CHUNK_BYTES, SCAN_INTERVAL);

  private SpoolDirectoryOptions() {}
}
