package io.tributary.connector.file.internal.source;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tributary.connector.file.BadFileException;
import io.tributary.connector.file.FileSource.ListingStats;
import io.tributary.connector.file.FileSourceOptions;
import io.tributary.connector.file.FileSourceOptions.CleanSource;
import io.tributary.connector.file.FileSourceOptions.Format;
import io.tributary.connector.file.FileSourceOptions.OnBadFile;
import io.tributary.connector.file.QuarantinedFile;
import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.Secrets;
import io.tributary.core.checkpoint.CheckpointStorage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file source's machinery behind {@link io.tributary.connector.file.FileSource}: one {@link
 * DirectoryScanner} and one Hadoop {@link FileSystem} per partition, the durable {@link FileIndex},
 * the {@link FileReader} and the cleaning of committed files.
 *
 * <p>Thread safety: {@link #partitions()} and {@link #committed} run on the batch thread; {@link
 * #read} may run concurrently for different ranges. Index access is synchronized on the index.
 */
public final class FileMonitor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FileMonitor.class);

  private final String pipeline;
  private final String source;
  private final FileIndex index;
  private final FileReader reader;
  private final OnBadFile onBadFile;
  private final CleanSource cleanSource;
  private final Path archiveDir;
  private final boolean includeExisting;
  private final int maxFilesPerBatch;
  private final long splitSize;
  private final Format format;
  private final long recordLength;
  private final Map<String, FileSystem> fileSystems = new LinkedHashMap<>();
  private final Map<String, DirectoryScanner> scanners = new LinkedHashMap<>();
  private final List<HdfsInotifyWatch> watches = new ArrayList<>();
  private final Counter admitted;
  private final Counter quarantined;
  private final Counter ignoredOld;
  private final Counter cleaned;
  private final Timer listing;
  private volatile ListingStats lastListing = new ListingStats(0, 0, 0, 0, 0, 0);
  private boolean closed;

  public FileMonitor(
      Config config,
      String pipeline,
      String source,
      CheckpointStorage state,
      MeterRegistry registry)
      throws IOException {
    this.pipeline = pipeline;
    this.source = source;
    this.onBadFile = config.get(FileSourceOptions.ON_BAD_FILE);
    this.cleanSource = config.get(FileSourceOptions.CLEAN_SOURCE);
    this.includeExisting = config.get(FileSourceOptions.INCLUDE_EXISTING);
    this.maxFilesPerBatch = config.get(FileSourceOptions.MAX_FILES_PER_BATCH);
    this.splitSize = config.get(FileSourceOptions.SPLIT_SIZE);
    this.format = config.get(FileSourceOptions.FORMAT);
    this.recordLength = config.get(FileSourceOptions.RECORD_LENGTH);
    this.reader =
        new FileReader(
            config.get(FileSourceOptions.FORMAT),
            config.get(FileSourceOptions.MAX_LINE_LENGTH).intValue(),
            config.get(FileSourceOptions.RECORD_LENGTH).intValue(),
            config.get(FileSourceOptions.MAX_FILE_SIZE).intValue());
    Map<String, String> hadoopSettings = new LinkedHashMap<>();
    for (String entry : config.get(FileSourceOptions.HADOOP_PROPERTIES)) {
      int eq = entry.indexOf('=');
      hadoopSettings.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
    }
    hadoopSettings.putAll(
        config.get(HadoopFileSystems.HADOOP)); // hadoop.* wins over the older list form
    Configuration conf = HadoopFileSystems.configuration(hadoopSettings);
    boolean recursive = config.get(FileSourceOptions.RECURSIVE);
    boolean ordered = config.get(FileSourceOptions.ORDERED_PARTITIONS);
    boolean orderedNames = config.get(FileSourceOptions.ORDERED_FILE_NAMES);
    String fileGlob = config.get(FileSourceOptions.FILE_PATTERN);
    boolean inotify = config.get(FileSourceOptions.HDFS_INOTIFY);
    List<String> ids = config.get(FileSourceOptions.PATHS);
    try {
      for (String id : ids) {
        Path p = new Path(id);
        FileSystem fs = FileSystem.newInstance(p.toUri(), conf);
        fileSystems.put(id, fs);
        HdfsInotifyWatch watch = null;
        if (inotify) {
          if (!(fs instanceof DistributedFileSystem dfs)) {
            throw new ConfigException(
                "Invalid value true for hdfs-inotify: path "
                    + id
                    + " is on "
                    + fs.getUri()
                    + ", not HDFS (expected:"
                    + " hdfs:// paths only, or hdfs-inotify: false)");
          }
          watch = HdfsInotifyWatch.open(dfs);
          watches.add(watch);
        }
        scanners.put(
            id,
            new DirectoryScanner(
                fs, fs.makeQualified(p), fileGlob, recursive, ordered, orderedNames, watch));
      }
      if (cleanSource == CleanSource.ARCHIVE) {
        Path a = new Path(config.get(FileSourceOptions.ARCHIVE_DIR));
        FileSystem afs = fileSystems.values().iterator().next();
        this.archiveDir = afs.makeQualified(a);
      } else {
        this.archiveDir = null;
      }
    } catch (IOException | RuntimeException e) {
      closeFileSystems();
      throw e;
    }
    try {
      this.index =
          FileIndex.load(
              state,
              ids,
              config.get(FileSourceOptions.MAX_FILE_AGE).toMillis(),
              config.get(FileSourceOptions.STATE_COMPACTION_INTERVAL));
    } catch (RuntimeException e) {
      closeFileSystems();
      throw e;
    }
    LOG.info(
        "event=files_source_opened pipeline={} source={} paths={} hadoop={}",
        pipeline,
        source,
        ids.size(),
        Secrets.describe(hadoopSettings));
    Tags tags = Tags.of("pipeline", pipeline, "source", source);
    admitted = Counter.builder("tributary.files.admitted").tags(tags).register(registry);
    quarantined = Counter.builder("tributary.files.quarantined").tags(tags).register(registry);
    ignoredOld = Counter.builder("tributary.files.ignored.old").tags(tags).register(registry);
    cleaned = Counter.builder("tributary.files.cleaned").tags(tags).register(registry);
    listing = Timer.builder("tributary.files.listing").tags(tags).register(registry);
    Gauge.builder("tributary.files.quarantine.size", index, FileIndex::quarantineSize)
        .tags(tags)
        .register(registry);
    Gauge.builder("tributary.files.remembered", index, FileIndex::rememberedFiles)
        .tags(tags)
        .register(registry);
    Gauge.builder("tributary.files.held", index, FileIndex::heldEntries)
        .tags(tags)
        .register(registry);
    if (!watches.isEmpty()) {
      FunctionCounter.builder(
              "tributary.files.inotify.events",
              watches,
              w -> w.stream().mapToLong(HdfsInotifyWatch::events).sum())
          .description("HDFS inotify events read from the NameNode (hdfs-inotify)")
          .tags(tags)
          .register(registry);
      FunctionCounter.builder(
              "tributary.files.inotify.relists",
              watches,
              w -> w.stream().mapToLong(HdfsInotifyWatch::relists).sum())
          .description("Full listings after the event stream lost events or failed (hdfs-inotify)")
          .tags(tags)
          .register(registry);
    }
  }

  /**
   * One listing cycle over every partition; durably admits new files before reporting their
   * offsets.
   */
  public List<PartitionInfo> partitions() throws IOException {
    long start = System.nanoTime();
    long files = 0;
    long dirs = 0;
    long pruned = 0;
    long found = 0;
    long admittedNow = 0;
    List<PartitionInfo> out = new ArrayList<>();
    synchronized (index) {
      Map<String, List<FileEntry>> newEntries = new LinkedHashMap<>();
      List<PartitionState> initialized = new ArrayList<>();
      for (Map.Entry<String, DirectoryScanner> e : scanners.entrySet()) {
        PartitionState st = index.partition(e.getKey());
        long threshold = index.threshold(st);
        index.trim(
            st); // directories (keeps pruning current) and, as the horizon moves, remembered paths
        DirectoryScanner.Result r = e.getValue().scan(st, threshold);
        files += r.filesListed();
        dirs += r.directoriesListed();
        pruned += r.directoriesPruned();
        found += r.candidates().size();
        ignoredOld.increment(r.ignoredOld());
        List<FileEntry> added = new ArrayList<>();
        if (!st.initialized && !includeExisting) {
          for (DirectoryScanner.Candidate c : r.candidates()) {
            st.see(c.path(), c.root(), c.status().getModificationTime());
          }
          LOG.info(
              "event=files_existing_ignored pipeline={} source={} partition={} files={} reason=\"include-existing is"
                  + " false\"",
              pipeline,
              source,
              st.id,
              r.candidates().size());
        } else {
          long allowance = maxFilesPerBatch - st.outstanding();
          for (DirectoryScanner.Candidate c : r.candidates()) {
            long len = c.status().getLen();
            long mtime = c.status().getModificationTime();
            List<long[]> ranges = splits(c.path(), len);
            // a file's splits are admitted together; a file with more splits than the allowance
            // left still goes
            // in when it is the first of the cycle, so that admission always progresses
            if (added.size() >= allowance
                || (!added.isEmpty() && added.size() + ranges.size() > allowance)) {
              break;
            }
            for (long[] range : ranges) {
              FileEntry f =
                  new FileEntry(st.nextSeq, c.path(), c.root(), len, mtime, range[0], range[1]);
              st.admit(f);
              added.add(f);
            }
          }
        }
        if (!st.initialized) {
          initialized.add(st);
        }
        if (!added.isEmpty()) {
          newEntries.put(st.id, added);
          admittedNow += added.size();
        }
      }
      index.recordCycle(newEntries, initialized);
      for (String id : scanners.keySet()) {
        PartitionState st = index.partition(id);
        out.add(PartitionInfo.open(id, st.committed, st.nextSeq));
      }
    }
    admitted.increment(admittedNow);
    long nanos = System.nanoTime() - start;
    listing.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    lastListing = new ListingStats(files, dirs, pruned, found, admittedNow, nanos);
    if (admittedNow > 0) {
      LOG.debug(
          "event=files_admitted pipeline={} source={} files={} listed={} dirs={} pruned_dirs={} listing_ms={}",
          pipeline,
          source,
          admittedNow,
          files,
          dirs,
          pruned,
          nanos / 1_000_000);
    }
    return out;
  }

  /** Byte ranges of a file: one (the whole file) unless splitting applies. */
  private List<long[]> splits(String path, long length) {
    if (splitSize <= 0
        || length <= splitSize
        || format == Format.WHOLE_FILE
        || FileReader.isCompressed(path)) {
      return List.<long[]>of(new long[] {0, length});
    }
    long step = splitSize;
    if (format == Format.FIXED_LENGTH) {
      step = Math.max(recordLength, splitSize / recordLength * recordLength);
    }
    List<long[]> out = new ArrayList<>();
    for (long s = 0; s < length; s += step) {
      out.add(new long[] {s, Math.min(length, s + step)});
    }
    return out;
  }

  /** The records of the files {@code [from, until)} of a partition, one file at a time. */
  public CloseableIterator<Record> read(OffsetRange range) {
    String partition = range.partition();
    FileSystem fs = fileSystems.get(partition);
    if (fs == null) {
      throw new DataUnavailableException(
          "Partition "
              + partition
              + " of file source "
              + source
              + " is not among the configured paths "
              + fileSystems.keySet()
              + " (a path was removed from the config while a batch reading it was pending;"
              + " add it back until that batch is committed)");
    }
    return new CloseableIterator<>() {
      private long next = range.fromOffset();
      private Iterator<Record> current = List.<Record>of().iterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && next < range.untilOffset()) {
          current = readOne(fs, partition, next++).iterator();
        }
        return current.hasNext();
      }

      @Override
      public Record next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }

      @Override
      public void close() {}
    };
  }

  private List<Record> readOne(FileSystem fs, String partition, long seq) {
    if (index.quarantined(partition, seq).isPresent()) {
      return List.of(); // decided before (possibly by the attempt a replay repeats): same decision
    }
    FileEntry e =
        index
            .entry(partition, seq)
            .orElseThrow(
                () ->
                    new DataUnavailableException(
                        "Offset "
                            + seq
                            + " of partition "
                            + partition
                            + " of file source "
                            + source
                            + " is not in the file index (state under sources/"
                            + source
                            + "/index of the checkpoint"
                            + " was lost or edited); restore the checkpoint or start with a new one"));
    try {
      return reader.read(fs, e, source, partition);
    } catch (BadFileException ex) {
      if (onBadFile == OnBadFile.FAIL) {
        LOG.error(
            "event=bad_file pipeline={} source={} partition={} offset={} path={} reason={} action=fail",
            pipeline,
            source,
            partition,
            seq,
            e.path(),
            ex.reason());
        throw ex;
      }
      QuarantinedFile q =
          new QuarantinedFile(
              partition,
              seq,
              e.path(),
              e.modificationTime(),
              ex.reason(),
              ex.getMessage(),
              System.currentTimeMillis());
      try {
        index.addQuarantine(q);
      } catch (IOException io) {
        throw new DataUnavailableException(
            "Cannot record quarantined file "
                + e.path()
                + " in the checkpoint: "
                + io
                + " (the batch fails and is"
                + " replayed on restart)",
            io);
      }
      quarantined.increment();
      LOG.error(
          "event=file_quarantined pipeline={} source={} partition={} offset={} path={} reason={} error=\"{}\"",
          pipeline,
          source,
          partition,
          seq,
          e.path(),
          ex.reason(),
          ex.getMessage());
      return List.of();
    }
  }

  /**
   * After a commit: forget committed files (they stay remembered by path) and keep, delete or
   * archive them.
   */
  public void committed(List<OffsetRange> ranges) {
    for (OffsetRange r : ranges) {
      FileSystem fs = fileSystems.get(r.partition());
      if (fs == null) {
        continue;
      }
      List<FileEntry> done;
      synchronized (index) {
        done = index.partition(r.partition()).takeCommitted(r.untilOffset());
      }
      if (cleanSource == CleanSource.KEEP) {
        continue;
      }
      for (FileEntry e : done) {
        if (!e.isLastSplit()) {
          continue; // a split file is cleaned with its last split, when all of it is committed
        }
        if (index.quarantined(r.partition(), e.seq()).isPresent()) {
          continue; // bad input stays where it is, for someone to look at
        }
        clean(fs, e);
      }
    }
  }

  private void clean(FileSystem fs, FileEntry e) {
    Path src = new Path(e.path());
    try {
      if (cleanSource == CleanSource.DELETE) {
        if (fs.delete(src, false)) {
          cleaned.increment();
        }
        return;
      }
      String rel =
          e.path().startsWith(e.root()) ? e.path().substring(e.root().length()) : src.getName();
      while (rel.startsWith("/")) {
        rel = rel.substring(1);
      }
      Path target = new Path(archiveDir, rel);
      if (!fs.exists(src)) {
        return; // archived already (a commit seen again after a restart) or removed by someone else
      }
      fs.mkdirs(target.getParent());
      if (fs.rename(src, target)) {
        cleaned.increment();
      } else {
        LOG.warn(
            "event=file_archive_failed pipeline={} source={} path={} target={} reason=\"rename returned false (target"
                + " exists?)\"",
            pipeline,
            source,
            e.path(),
            target);
      }
    } catch (IOException ex) {
      LOG.warn(
          "event=file_clean_failed pipeline={} source={} path={} action={} error=\"{}\"",
          pipeline,
          source,
          e.path(),
          cleanSource,
          ex.toString());
    }
  }

  public List<QuarantinedFile> quarantine() {
    return index.quarantine();
  }

  public ListingStats lastListing() {
    return lastListing;
  }

  public long rememberedFiles() {
    return index.rememberedFiles();
  }

  public long heldEntries() {
    return index.heldEntries();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeFileSystems();
  }

  private void closeFileSystems() {
    for (FileSystem fs : fileSystems.values()) {
      try {
        fs.close();
      } catch (IOException e) {
        LOG.warn(
            "event=file_system_close_failed pipeline={} source={} error=\"{}\"",
            pipeline,
            source,
            e.toString());
      }
    }
  }
}
