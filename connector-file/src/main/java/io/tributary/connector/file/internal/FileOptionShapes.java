package io.tributary.connector.file.internal;

import io.tributary.core.api.ConfigOption;
import java.util.List;

/**
 * The option shapes the {@code files} and {@code files-tail} sources share (name, type, default and
 * validation), each source giving its own description: one declaration of each rule, so the two
 * sources cannot drift apart on what a valid value is.
 *
 * <p>Thread safety: stateless.
 */
public final class FileOptionShapes {
  private FileOptionShapes() {}

  /** {@code paths}: required, at least one; {@code expected} says what an entry is. */
  public static ConfigOption<List<String>> paths(String expected, String description) {
    return ConfigOption.stringList("paths")
        .required()
        .validate(
            v ->
                v.isEmpty()
                    ? "must name at least one directory (expected: " + expected + ")"
                    : null)
        .description(description);
  }

  /** {@code file-pattern}: a glob on the file name, {@code *} by default. */
  public static ConfigOption<String> filePattern(String description) {
    return ConfigOption.string("file-pattern")
        .defaultValue("*")
        .validate(ConfigOption.nonBlank())
        .description(description);
  }

  /** {@code max-line-length}: a size, 1 MiB by default, that fits a Java array. */
  public static ConfigOption<Long> maxLineLength(String description) {
    return ConfigOption.size("max-line-length")
        .defaultValue(1024L * 1024)
        .validate(ConfigOption.between(1, Integer.MAX_VALUE - 16))
        .description(description);
  }

  /** {@code fingerprint-bytes}: a size between 16 bytes and 1 MiB. */
  public static ConfigOption<Long> fingerprintBytes(long defaultValue, String description) {
    return ConfigOption.size("fingerprint-bytes")
        .defaultValue(defaultValue)
        .validate(ConfigOption.between(16, 1024 * 1024))
        .description(description);
  }
}
