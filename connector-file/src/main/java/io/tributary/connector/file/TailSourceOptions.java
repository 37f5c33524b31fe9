package io.tributary.connector.file;

import io.tributary.connector.file.internal.FileOptionShapes;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.util.List;

/**
 * Every configuration key of the tail-mode source ({@code type: files-tail} under {@code source:}),
 * declared once.
 *
 * <p>Offsets of this source are <em>byte offsets</em> in a followed file: each file (identified by
 * its device/inode and a fingerprint of its first bytes) is one partition, and a batch's range
 * {@code [from, until)} always ends just after a line terminator.
 *
 * <p>Thread safety: immutable constants.
 */
public final class TailSourceOptions {
  private TailSourceOptions() {}

  /** Where a file found at the very first start (no state in the checkpoint) is read from. */
  public enum StartAt {
    /** Read every file from its first byte. */
    BEGINNING,
    /** Read only lines appended after the first start (files found later are read whole). */
    END
  }

  public static final ConfigOption<List<String>> PATHS =
      FileOptionShapes.paths(
          "a list of local directories",
          "Local directories whose files are followed (file:/dir or a plain path). The files of all of them"
              + " are partitions of the one source, one partition per followed file.");

  public static final ConfigOption<String> FILE_PATTERN =
      FileOptionShapes.filePattern(
          "Glob on the file name of the files to follow. It must also match the names rotated files get"
              + " (app.log* for app.log, app.log.1, ...): a file rotated out of the pattern is no longer"
              + " followed, and what was not read of it by then is counted and logged as unread.");

  public static final ConfigOption<String> EXCLUDE_PATTERN =
      ConfigOption.string("exclude-pattern")
          .defaultValue("*.{gz,bz2,zst,xz,zip}")
          .description(
              "Glob on the file name of files never followed, even if file-pattern matches: by default the"
                  + " compressed copies log rotation makes (logrotate compress). Empty for none.");

  public static final ConfigOption<StartAt> START_AT =
      ConfigOption.enumValue("start-at", StartAt.class)
          .defaultValue(StartAt.BEGINNING)
          .description(
              "First start only (no state in the checkpoint): read the files found then from the beginning, or"
                  + " from their end (the last complete line). Files that appear later are always read from"
                  + " their first byte.");

  public static final ConfigOption<Long> MAX_LINE_LENGTH =
      FileOptionShapes.maxLineLength(
          "Longest line in bytes: a line longer than this (no terminator within it) fails the pipeline"
              + " with RecordTooLongException naming the file and offset.");

  public static final ConfigOption<Long> FINGERPRINT_BYTES =
      FileOptionShapes.fingerprintBytes(
          1024L,
          "How many first bytes of a file identify it besides its device/inode (and instead of it where the"
              + " file system has none): a copy with the same first bytes is the same file (copytruncate"
              + " rotation), an inode whose first bytes changed is a new file (truncated, or inode reused).");

  /** The keys of the {@code files-tail} source. */
  public static final ConfigSpec SPEC =
      ConfigSpec.of(
          PATHS, FILE_PATTERN, EXCLUDE_PATTERN, START_AT, MAX_LINE_LENGTH, FINGERPRINT_BYTES);
}
