package io.tributary.connector.file;

import io.tributary.connector.file.internal.FileOptionShapes;
import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Every configuration key of the new-file monitoring source ({@code type: files} under {@code
 * source:}), declared once.
 *
 * <p>Offsets of this source count <em>files</em>, not lines: each complete file found gets the next
 * sequence number of its partition (one partition per entry of {@link #PATHS}). A batch's range
 * {@code [from, until)} is the files with those sequence numbers (a file split by {@link
 * #SPLIT_SIZE} takes one per byte range), so the pipeline's {@code max-records-per-partition} and
 * rate limits are file counts here.
 *
 * <p>Thread safety: immutable constants.
 */
public final class FileSourceOptions {
  private FileSourceOptions() {}

  /** How a file's bytes become records. */
  public enum Format {
    /**
     * One record per line (UTF-8, {@code \n} or {@code \r\n} line ends, the line end not included).
     */
    TEXT,
    /** One record per file holding the whole (decompressed) content. */
    WHOLE_FILE,
    /**
     * Records of exactly {@code record-length} bytes; a file whose length is not a multiple is bad
     * input.
     */
    FIXED_LENGTH
  }

  /** What happens to a file whose records cannot be read. */
  public enum OnBadFile {
    /**
     * Stop the pipeline with the specific error; the batch is replayed (and fails again) until
     * someone acts.
     */
    FAIL,
    /**
     * Produce none of the file's records, record it in the quarantine list (state storage +
     * metrics), go on.
     */
    SKIP
  }

  /** What happens to a file once the batch that read it is committed. */
  public enum CleanSource {
    /**
     * Leave it where it is (it is remembered, so it is not read again while it is inside the
     * horizon).
     */
    KEEP,
    /** Delete it. */
    DELETE,
    /** Move it into {@code archive-dir}, keeping its path relative to the monitored directory. */
    ARCHIVE
  }

  /** What happens when a file changes after it was admitted. */
  public enum OnChange {
    /**
     * Count it ({@code tributary.files.changed}) and log a WARN line with its path; read nothing
     * more.
     */
    WARN,
    /** Fail the pipeline with a {@code FileChangedException} naming the file. */
    FAIL,
    /**
     * A file that grew (same start, longer): admit the appended bytes as a new offset and read them
     * once they are stable; any other change (shorter, rewritten) is counted and logged as with
     * warn.
     */
    READ_APPENDED
  }

  /** Which time a file's age (the horizon, {@code max-file-age}) is measured by. */
  public enum AgeBy {
    /** The file's modification time (as listed). */
    MODIFICATION_TIME,
    /**
     * The time the source first saw the file, for writers that keep old modification times (rsync
     * -t, cp -p, tar x). Needs full listings: not with ordered-partitions, ordered-file-names or
     * hdfs-inotify.
     */
    DISCOVERY_TIME
  }

  /** What makes two files the same file, so that the second is not read again. */
  public enum Identity {
    /** The path: a file is read once per path inside the horizon (Spark's rule). */
    PATH,
    /**
     * The content: the first {@code fingerprint-bytes} of the (decompressed) content. A file whose
     * fingerprint was read before under another name (renamed, or compressed by log rotation) is
     * not read again; a file replaced under a remembered name by other content is read.
     */
    CONTENT
  }

  public static final ConfigOption<List<String>> PATHS =
      FileOptionShapes.paths(
          "a list of paths or URIs",
          "Directories to monitor, as paths or URIs (file:///in, hdfs://nn:8020/in, s3a://bucket/in). A path may"
              + " contain Hadoop glob characters (* ? [ab] {a,b}) matching several directories. Each entry is one"
              + " partition of the source. A single string is split at commas: give a list when a path holds a"
              + " comma (a {a,b} glob).");

  public static final ConfigOption<String> FILE_PATTERN =
      FileOptionShapes.filePattern(
          "Glob that a file name (not its directory) must match to be read, e.g. *.csv or *.{log,log.gz}.");

  public static final ConfigOption<Boolean> RECURSIVE =
      ConfigOption.bool("recursive")
          .defaultValue(false)
          .description(
              "Also read files in subdirectories, e.g. partitioned layouts such as date=2026-11-25/hour=10/.");

  public static final ConfigOption<Boolean> FOLLOW_LINKS =
      ConfigOption.bool("follow-links")
          .defaultValue(false)
          .description(
              "Local file system: follow symbolic links found inside the monitored directories. false"
                  + " (default): a link (to a file or a directory) is skipped, counted once as"
                  + " tributary.files.ignored{reason=symlink}. true: a link is read or descended as its"
                  + " target, under the target's own path; a link back to a directory being walked (ln -s"
                  + " .. up) is a loop, skipped and counted (reason=link-loop), and a file reached under"
                  + " two paths in one listing is read once. The monitored paths themselves may always"
                  + " be links.");

  public static final ConfigOption<Boolean> ORDERED_PARTITIONS =
      ConfigOption.bool("ordered-partitions")
          .defaultValue(false)
          .description(
              "With recursive: subdirectory names sort in time order (date=2026-11-25/hour=09 before hour=10), so a"
                  + " listing cycle descends only into the newest partitions (those sorting at or after the newest"
                  + " partition where a file was found) and those that received a file inside max-file-age. A"
                  + " partition created later that sorts before the newest one, or a file arriving late in an older"
                  + " one, is found by the next reconciliation listing (reconcile-interval, and every start) and"
                  + " counted as late.");

  public static final ConfigOption<Boolean> ORDERED_FILE_NAMES =
      ConfigOption.bool("ordered-file-names")
          .defaultValue(false)
          .description(
              "File names sort in arrival order within a directory (e.g. events-000123.log, 2026-11-25T10:00.csv):"
                  + " a listing cycle looks only at names after the last one seen (HDFS: the NameNode listing starts"
                  + " there; local file system: every name is read, but older ones cost no status; S3: ListObjectsV2"
                  + " starts after it; others: the full listing, older names filtered). A file arriving later under a smaller name is"
                  + " found by the next reconciliation listing (reconcile-interval, and every start) and counted as"
                  + " late. Not with recursive.");

  public static final ConfigOption<Boolean> HDFS_INOTIFY =
      ConfigOption.bool("hdfs-inotify")
          .defaultValue(false)
          .description(
              "HDFS only, needs HDFS superuser rights: find new files through the NameNode's inotify event stream (a"
                  + " file closed under its final name, or a file or directory renamed into place) instead of listing"
                  + " directories every cycle. Each start of the source lists once; after that a cycle costs the"
                  + " events since the last one, whatever the size of the directories. If the NameNode has purged the"
                  + " edits the stream needs, the source lists again (counter tributary.files.inotify.relists).");

  public static final ConfigOption<Boolean> INCLUDE_EXISTING =
      ConfigOption.bool("include-existing")
          .defaultValue(false)
          .description(
              "At the first start (no state in the checkpoint) also read files already present and younger than"
                  + " max-file-age; false reads only files that appear afterwards (Spark's newFilesOnly).");

  public static final ConfigOption<Duration> MAX_FILE_AGE =
      ConfigOption.duration("max-file-age")
          .defaultValue(Duration.ofDays(7))
          .validate(ConfigOption.positive())
          .description(
              "Horizon: a file whose modification time is older than the newest modification time seen minus this"
                  + " is ignored, and remembered files leave the state once older. Bounds the state and memory.");

  public static final ConfigOption<Integer> MAX_FILES_PER_BATCH =
      ConfigOption.integer("max-files-per-batch")
          .defaultValue(1000)
          .validate(ConfigOption.atLeast(1))
          .description(
              "Most files per partition that are admitted but not yet committed; a batch therefore reads at most"
                  + " this many files per partition. Files beyond wait for later batches (oldest first).");

  public static final ConfigOption<Format> FORMAT =
      ConfigOption.enumValue("format", Format.class)
          .defaultValue(Format.TEXT)
          .description(
              "text (one record per line), whole-file (one record per file) or fixed-length.");

  public static final ConfigOption<Long> MAX_LINE_LENGTH =
      FileOptionShapes.maxLineLength(
          "format text: longest line in bytes; a longer line makes the file bad input (on-bad-file).");

  public static final ConfigOption<Long> RECORD_LENGTH =
      ConfigOption.size("record-length")
          .defaultValue(0L)
          .validate(ConfigOption.between(0, Integer.MAX_VALUE - 16))
          .description("format fixed-length: bytes per record (required, > 0, for that format).");

  public static final ConfigOption<Long> MAX_FILE_SIZE =
      ConfigOption.size("max-file-size")
          .defaultValue(256L * 1024 * 1024)
          .validate(ConfigOption.between(1, Integer.MAX_VALUE - 16))
          .description(
              "format whole-file: largest (decompressed) file in bytes; a larger one is bad input.");

  public static final ConfigOption<Long> SPLIT_SIZE =
      ConfigOption.size("split-size")
          .defaultValue(0L)
          .validate(ConfigOption.atLeast(0))
          .description(
              "Formats text and fixed-length: an uncompressed file larger than this is admitted as several offsets,"
                  + " one per byte range of about this size (lines are never cut; fixed-length ranges are whole"
                  + " records), so a large file spreads over batches and ranges. 0 never splits.");

  public static final ConfigOption<OnBadFile> ON_BAD_FILE =
      ConfigOption.enumValue("on-bad-file", OnBadFile.class)
          .defaultValue(OnBadFile.FAIL)
          .description(
              "fail: stop the pipeline with the file's error. skip: produce none of the file's records and add it to"
                  + " the quarantine list (checkpoint state and the tributary.files.quarantined metrics).");

  public static final ConfigOption<CleanSource> CLEAN_SOURCE =
      ConfigOption.enumValue("clean-source", CleanSource.class)
          .defaultValue(CleanSource.KEEP)
          .description(
              "After the batch that read a file is committed: keep, delete or archive it (never before the commit;"
                  + " repeated safely after a crash).");

  public static final ConfigOption<String> ARCHIVE_DIR =
      ConfigOption.string("archive-dir")
          .description(
              "clean-source archive: directory (same file system) that receives read files, under their path"
                  + " relative to the monitored directory. Must not be inside a monitored path.");

  public static final ConfigOption<List<String>> HADOOP_PROPERTIES =
      ConfigOption.stringList("hadoop-properties")
          .defaultValue(List.of())
          .sensitiveEntries()
          .validate(FileSourceOptions::checkProperties)
          .description(
              "Older form of hadoop.*, kept for existing configurations: Hadoop settings as name=value entries, e.g."
                  + " fs.s3a.endpoint=http://127.0.0.1:9000. A key also given as hadoop.<name> takes that value."
                  + " Values of keys naming secrets are never logged.");

  /**
   * Hadoop settings as {@code hadoop.<name>: value} keys (or a nested {@code hadoop:} mapping), the
   * same option as the {@code hadoop-files} sink and the HDFS/S3 checkpoint storage take.
   */
  public static final ConfigOption<Map<String, String>> HADOOP = HadoopFileSystems.HADOOP;

  public static final ConfigOption<Integer> STATE_COMPACTION_INTERVAL =
      ConfigOption.integer("state-compaction-interval")
          .defaultValue(32)
          .validate(ConfigOption.between(1, 100_000))
          .description(
              "Listing cycles that found files between two compactions of the file index (a snapshot of the files"
                  + " inside the horizon replaces the per-cycle delta files).");

  public static final ConfigOption<Duration> STABLE_FOR =
      ConfigOption.duration("stable-for")
          .validate(FileSourceOptions::notNegative)
          .defaultValue(Duration.ofSeconds(2))
          .description(
              "Completeness guard for writers that write in place (cp, curl -o, split, rsync --inplace, an"
                  + " appender): a new file is admitted only once its length and modification time have not changed"
                  + " for this long (and, on HDFS, once it is closed). Compressed files wait the same way instead"
                  + " of failing as truncated. Default 2s on file systems where in-place writes are visible (local,"
                  + " HDFS); on S3 (s3a) an object appears whole, so the guard is off there unless set. 0s turns"
                  + " it off.");

  public static final ConfigOption<OnChange> ON_CHANGE =
      ConfigOption.enumValue("on-change", OnChange.class)
          .defaultValue(OnChange.WARN)
          .description(
              "A file whose length or modification time changes after it was admitted (checked for"
                  + " watch-changes-for after admission): warn (count tributary.files.changed and log the path),"
                  + " fail (stop the pipeline with FileChangedException), or read-appended (read the bytes appended"
                  + " since, once stable, as a new offset; other changes as warn).");

  public static final ConfigOption<Duration> WATCH_CHANGES_FOR =
      ConfigOption.duration("watch-changes-for")
          .validate(FileSourceOptions::notNegative)
          .defaultValue(Duration.ofMinutes(10))
          .description(
              "How long after its admission a file is checked for changes (one status call per such file and"
                  + " listing cycle), for on-change. 0s turns the check off.");

  public static final ConfigOption<AgeBy> AGE_BY =
      ConfigOption.enumValue("age-by", AgeBy.class)
          .defaultValue(AgeBy.MODIFICATION_TIME)
          .description(
              "What max-file-age measures: modification-time, or discovery-time (when the source first saw the"
                  + " file) for writers that keep old modification times (rsync -t, cp -p, tar x). discovery-time"
                  + " needs full listings: not with ordered-partitions, ordered-file-names or hdfs-inotify.");

  public static final ConfigOption<Duration> RECONCILE_INTERVAL =
      ConfigOption.duration("reconcile-interval")
          .validate(FileSourceOptions::notNegative)
          .defaultValue(Duration.ofMinutes(10))
          .description(
              "With ordered-file-names or ordered-partitions: every this often, and at every start, one listing"
                  + " cycle lists everything (no start-after, no pruning) and reads files the fast listing skipped"
                  + " (out of order or late), counted as tributary.files.late. 0s turns reconciliation off.");

  public static final ConfigOption<Identity> IDENTITY =
      ConfigOption.enumValue("identity", Identity.class)
          .defaultValue(Identity.PATH)
          .description(
              "What identifies a file already read. path: its path (read once per path inside max-file-age)."
                  + " content: the first fingerprint-bytes of its decompressed content, so a file renamed or"
                  + " compressed after it was read (logrotate rotate/compress) is not read again (counted as"
                  + " tributary.files.ignored{reason=same-content}), and a file replaced under a name already read"
                  + " by other first bytes is read as a new file. Costs one read of the first bytes per new file,"
                  + " and on the local file system one status per remembered file per listing.");

  public static final ConfigOption<Long> FINGERPRINT_BYTES =
      FileOptionShapes.fingerprintBytes(
          4096L,
          "identity content: how many first bytes of a file's decompressed content identify it. Two files"
              + " with the same first bytes are the same content: make them cover something unique (a"
              + " timestamp in the first line).");

  /** The keys of the {@code files} source. */
  public static final ConfigSpec SPEC =
      ConfigSpec.of(
          PATHS,
          FILE_PATTERN,
          RECURSIVE,
          FOLLOW_LINKS,
          ORDERED_PARTITIONS,
          ORDERED_FILE_NAMES,
          HDFS_INOTIFY,
          INCLUDE_EXISTING,
          MAX_FILE_AGE,
          MAX_FILES_PER_BATCH,
          FORMAT,
          MAX_LINE_LENGTH,
          RECORD_LENGTH,
          MAX_FILE_SIZE,
          SPLIT_SIZE,
          ON_BAD_FILE,
          STABLE_FOR,
          ON_CHANGE,
          WATCH_CHANGES_FOR,
          AGE_BY,
          RECONCILE_INTERVAL,
          IDENTITY,
          FINGERPRINT_BYTES,
          CLEAN_SOURCE,
          ARCHIVE_DIR,
          HADOOP,
          HADOOP_PROPERTIES,
          STATE_COMPACTION_INTERVAL);

  private static String notNegative(Duration d) {
    return d.isNegative()
        ? "must not be negative (expected: a duration >= 0 such as 2s, or 0s for off)"
        : null;
  }

  private static String checkProperties(List<String> entries) {
    for (int i = 0; i < entries.size(); i++) {
      int eq = entries.get(i).indexOf('=');
      if (eq <= 0) {
        // By position only: without '=' the entry's name cannot be told from a secret value.
        String what = "entry " + (i + 1) + (eq < 0 ? " (without '=')" : " (with an empty name)");
        return what
            + " is not name=value (expected: entries such as fs.s3a.endpoint=http://127.0.0.1:9000)";
      }
    }
    return null;
  }
}
