package io.tributary.connector.file;

import io.tributary.connector.file.FileSourceOptions.CleanSource;
import io.tributary.connector.file.FileSourceOptions.Format;
import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.internal.source.FileMonitor;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.fs.Path;

/**
 * New-file monitoring on any Hadoop-compatible file system (local, HDFS, S3 through s3a), as a
 * replayable direct source: Spark's {@code textFileStream} / {@code binaryRecordsStream} semantics
 * without re-listing everything.
 *
 * <p>Offsets: one partition per configured path; each complete new file gets the next sequence
 * number of its partition, and an offset range {@code [from, until)} is a list of files (with
 * {@code split-size}, a large uncompressed file takes several consecutive offsets, one per byte
 * range). The mapping sequence number → (path, length, modification time) is written to the
 * source's state storage ({@code sources/<name>/index/} of the checkpoint) <em>before</em> {@link
 * #partitions()} reports an end offset covering it, so {@code offsets/N} identifies exactly the
 * files of batch N and a replay reads the same bytes. Every record of a file carries the file's
 * offset in its {@link io.tributary.core.api.SourcePosition}, the file's modification time as
 * timestamp and its path in the {@code file} header. Record limits of the pipeline ({@code
 * max-records-per-partition}) count files for this source.
 *
 * <p>Lifecycle: construct from validated options, {@link #open} once, then per batch {@link
 * #partitions()}, {@link #read}, {@link #onBatchCommitted}; {@link #close()} is safe twice. See
 * {@code connector-file/README.md} for the completion rule, the horizon, partition pruning and the
 * bad-input policy.
 *
 * <p>Thread safety: {@link #partitions()} and {@link #onBatchCommitted} are called from the batch
 * thread; {@link #read} may run concurrently for different ranges.
 */
public final class FileSource implements DirectSource, io.tributary.core.api.SupportsQuarantine {
  /**
   * What the last listing cycle did (for monitoring and benchmarks).
   *
   * @param filesListed file entries returned by the file system's listings
   * @param directoriesListed directories whose contents were listed
   * @param directoriesPruned subdirectories skipped by partition pruning
   * @param newFiles complete files found that were not seen before (admitted now or waiting)
   * @param admitted files that got an offset in this cycle
   * @param durationNanos wall-clock time of the cycle, state write included
   * @param reconciliation whether the cycle was a reconciliation listing (everything listed, no
   *     start-after, no pruning)
   * @param late files admitted by this cycle that the fast listing had skipped (out of order, late
   *     partition)
   */
  public record ListingStats(
      long filesListed,
      long directoriesListed,
      long directoriesPruned,
      long newFiles,
      long admitted,
      long durationNanos,
      boolean reconciliation,
      long late) {}

  private final Config config;
  private final Clock clock;
  private volatile FileMonitor monitor;

  /**
   * @param config options parsed with {@link FileSourceOptions#SPEC}
   * @throws ConfigException if options contradict each other (every such problem at once)
   */
  public FileSource(Config config) {
    this(config, Clock.systemUTC());
  }

  /**
   * @param config options parsed with {@link FileSourceOptions#SPEC}
   * @param clock the wall clock of the time-based rules (stable-for, watch-changes-for,
   *     reconcile-interval, age-by discovery-time); tests pass a controllable one
   * @throws ConfigException if options contradict each other (every such problem at once)
   */
  public FileSource(Config config, Clock clock) {
    this.config = Objects.requireNonNull(config, "config");
    this.clock = Objects.requireNonNull(clock, "clock");
    List<String> problems = new ArrayList<>();
    if (config.get(FileSourceOptions.FORMAT) == Format.FIXED_LENGTH
        && config.get(FileSourceOptions.RECORD_LENGTH) <= 0) {
      problems.add(
          "Invalid value "
              + config.get(FileSourceOptions.RECORD_LENGTH)
              + " for record-length: format fixed-length"
              + " needs the record size (expected: a size > 0, e.g. 128)");
    }
    if (config.get(FileSourceOptions.ORDERED_FILE_NAMES)
        && config.get(FileSourceOptions.RECURSIVE)) {
      problems.add(
          "Invalid value true for ordered-file-names: it cannot be combined with recursive (expected: false, or use"
              + " ordered-partitions for partitioned layouts)");
    }
    if (config.get(FileSourceOptions.AGE_BY) == FileSourceOptions.AgeBy.DISCOVERY_TIME) {
      for (var fast :
          List.of(
              FileSourceOptions.ORDERED_PARTITIONS,
              FileSourceOptions.ORDERED_FILE_NAMES,
              FileSourceOptions.HDFS_INOTIFY)) {
        if (config.get(fast)) {
          problems.add(
              "Invalid value discovery-time for age-by: it cannot be combined with "
                  + fast.name()
                  + ", which does not list every file each cycle, and a file no longer listed would"
                  + " be forgotten and read again (expected: age-by: modification-time, or "
                  + fast.name()
                  + ": false)");
        }
      }
    }
    if (config.get(FileSourceOptions.HDFS_INOTIFY)) {
      for (String p : config.get(FileSourceOptions.PATHS)) {
        String scheme = new Path(p).toUri().getScheme();
        if (scheme != null && !scheme.equals("hdfs")) {
          problems.add(
              "Invalid value true for hdfs-inotify: path "
                  + p
                  + " is on "
                  + scheme
                  + ":, and only HDFS has an inotify"
                  + " event stream (expected: hdfs:// paths only, or hdfs-inotify: false)");
        }
      }
    }
    if (config.get(FileSourceOptions.CLEAN_SOURCE) == CleanSource.ARCHIVE) {
      String archive =
          config.isSet(FileSourceOptions.ARCHIVE_DIR)
              ? config.get(FileSourceOptions.ARCHIVE_DIR)
              : null;
      if (archive == null || archive.isBlank()) {
        problems.add(
            "Missing value for archive-dir: clean-source archive moves read files there (expected: a directory on the"
                + " same file system, outside the monitored paths)");
      } else {
        for (String p : config.get(FileSourceOptions.PATHS)) {
          String base = staticPrefix(p);
          if (strip(archive).startsWith(strip(base) + "/") || strip(archive).equals(strip(base))) {
            problems.add(
                "Invalid value "
                    + archive
                    + " for archive-dir: it is inside the monitored path "
                    + p
                    + " (expected: a directory outside every monitored path, or archived files are read again)");
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }

  /** Parses {@code raw} with {@link FileSourceOptions#SPEC} and builds the source. */
  public static FileSource of(Map<String, ?> raw) {
    return new FileSource(FileSourceOptions.SPEC.parse(raw));
  }

  @Override
  public void open(SourceContext context) throws Exception {
    monitor =
        new FileMonitor(
            config,
            context.pipelineId(),
            context.sourceName(),
            context.stateStorage(),
            context.meterRegistry(),
            clock);
  }

  @Override
  public List<PartitionInfo> partitions() throws Exception {
    try {
      return opened().partitions();
    } catch (java.io.IOException e) {
      if (HadoopFileSystems.isTransient(e)) {
        throw new io.tributary.core.api.RetriableException(
            "Listing the files of "
                + config.get(FileSourceOptions.PATHS)
                + " failed with a transient error: "
                + e
                + " (the object store or file system is throttling or unreachable; the listing is retried)",
            e);
      }
      throw e;
    }
  }

  @Override
  public CloseableIterator<Record> read(OffsetRange range) {
    return opened().read(range);
  }

  @Override
  public void onBatchCommitted(long batchId, List<OffsetRange> ranges) {
    opened().committed(ranges);
  }

  /** Files skipped under {@code on-bad-file: skip} that are still inside the horizon. */
  public List<QuarantinedFile> quarantinedFiles() {
    return opened().quarantine();
  }

  /**
   * {@link #quarantinedFiles()} for the gateway's status, oldest decision first; empty before
   * {@code open}.
   */
  @Override
  public List<io.tributary.core.api.QuarantinedItem> quarantined() {
    FileMonitor m = monitor;
    if (m == null) {
      return List.of();
    }
    return m.quarantine().stream()
        .sorted(java.util.Comparator.comparingLong(QuarantinedFile::quarantinedAt))
        .map(
            q ->
                new io.tributary.core.api.QuarantinedItem(
                    q.partition(),
                    q.path(),
                    q.reason() == null ? "unreadable" : q.reason(),
                    q.message(),
                    q.quarantinedAt()))
        .toList();
  }

  /**
   * Makes the next listing cycle a reconciliation listing (everything listed, as at a start), for
   * operators and benchmarks; with {@code ordered-file-names} or {@code ordered-partitions} only.
   */
  public void reconcileAtNextCycle() {
    opened().reconcileAtNextCycle();
  }

  /** What the last listing cycle did. */
  public ListingStats lastListing() {
    return opened().lastListing();
  }

  /**
   * Paths remembered inside the horizon (the state's size; bounded by the horizon, not by history).
   */
  public long rememberedFiles() {
    return opened().rememberedFiles();
  }

  /**
   * Admitted files held in memory until their batch is committed (bounded by max-files-per-batch
   * per partition).
   */
  public long heldFiles() {
    return opened().heldEntries();
  }

  @Override
  public void close() {
    FileMonitor m = monitor;
    if (m != null) {
      m.close();
    }
  }

  private FileMonitor opened() {
    FileMonitor m = monitor;
    if (m == null) {
      throw new IllegalStateException("FileSource used before open(context)");
    }
    return m;
  }

  private static String staticPrefix(String path) {
    int glob = path.length();
    for (char c : new char[] {'*', '?', '[', '{'}) {
      int i = path.indexOf(c);
      if (i >= 0) {
        glob = Math.min(glob, i);
      }
    }
    String s = path.substring(0, glob);
    int slash = s.lastIndexOf('/');
    return glob < path.length() && slash > 0 ? s.substring(0, slash) : s;
  }

  private static String strip(String p) {
    String s = p.replaceFirst("^file:(//)?", "");
    while (s.endsWith("/") && s.length() > 1) {
      s = s.substring(0, s.length() - 1);
    }
    return s;
  }
}
