package io.tributary.core.sinks;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;
import java.nio.file.Path;

/**
 * Sink type {@code files}: newline-delimited files on the local file system, exactly-once by
 * batch-id naming and atomic rename ({@link RollingFileSink}). Stateless.
 */
public final class FilesSinkFactory implements SinkFactory {
  public static final ConfigOption<String> PATH =
      ConfigOption.string("path")
          .required()
          .validate(ConfigOption.nonBlank())
          .description(
              "Directory the files are published in (created if missing; relative to the working directory).");
  public static final ConfigOption<String> PREFIX =
      ConfigOption.string("prefix").defaultValue("part").description("File name prefix.");
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
              "fsync each file before publishing it (off risks losing published files on power failure).");
  public static final ConfigSpec SPEC = ConfigSpec.of(PATH, PREFIX, SUFFIX, MAX_FILE_SIZE, FSYNC);

  @Override
  public String type() {
    return "files";
  }

  @Override
  public String description() {
    return "Rolling newline-delimited files, exactly-once by batch-id naming and atomic rename.";
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
    return RollingFileSink.builder(Path.of(config.get(PATH)))
        .prefix(config.get(PREFIX))
        .suffix(config.get(SUFFIX))
        .maxFileBytes(config.get(MAX_FILE_SIZE))
        .fsync(config.get(FSYNC))
        .build();
  }
}
