package io.tributary.connector.file.internal.source;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tributary.connector.file.BadFileException;
import io.tributary.connector.file.FileAccessDeniedException;
import io.tributary.connector.file.FileChangedException;
import io.tributary.connector.file.FileSource.ListingStats;
import io.tributary.connector.file.FileSourceOptions;
import io.tributary.connector.file.FileSourceOptions.AgeBy;
import io.tributary.connector.file.FileSourceOptions.CleanSource;
import io.tributary.connector.file.FileSourceOptions.Format;
import io.tributary.connector.file.FileSourceOptions.OnBadFile;
import io.tributary.connector.file.FileSourceOptions.OnChange;
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
import java.io.InputStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
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

  /** identity content: files are known by the first fingerprintBytes of their content. */
  private final boolean contentIdentity;

  private final int fingerprintBytes;
  private final Map<String, FileSystem> fileSystems = new LinkedHashMap<>();
  private final Map<String, DirectoryScanner> scanners = new LinkedHashMap<>();
  private final Map<String, StabilityGuard> guards = new LinkedHashMap<>();
  private final Map<String, StabilityGuard> replanGuards = new LinkedHashMap<>();

  /**
   * Per partition: whether a text file's trailing line without a terminator is held back until the
   * file is known complete (files may be written in place: stable-for and the change watch on).
   */
  private final Map<String, Boolean> partialTails = new LinkedHashMap<>();

  private final Map<String, ChangeWatch> changeWatches = new LinkedHashMap<>();
  private final Map<String, TooOldFiles> tooOld = new LinkedHashMap<>();
  private final Clock clock;
  private final OnChange onChange;
  private final boolean ageByDiscovery;
  private final MeterRegistry registry;
  private final Tags tags;
  private final long reconcileIntervalMillis;
  private final Map<String, Long> lastReconcile = new LinkedHashMap<>();
  private final Counter late;
  private final Counter reconciliations;
  private final List<HdfsInotifyWatch> watches = new ArrayList<>();
  private final Counter admitted;
  private final Counter quarantined;
  private final Counter ignoredOld;
  private final Counter cleaned;
  private final Counter futureDatedCounter;
  private final Counter replanned;
  private final long watchChangesForMillis;
  private final Timer listing;
  private volatile ListingStats lastListing = new ListingStats(0, 0, 0, 0, 0, 0, false, 0);
  private boolean closed;

  public FileMonitor(
      Config config,
      String pipeline,
      String source,
      CheckpointStorage state,
      MeterRegistry registry,
      Clock clock)
      throws IOException {
    this.pipeline = pipeline;
    this.clock = clock;
    this.registry = registry;
    this.tags = Tags.of("pipeline", pipeline, "source", source);
    this.onChange = config.get(FileSourceOptions.ON_CHANGE);
    this.watchChangesForMillis = config.get(FileSourceOptions.WATCH_CHANGES_FOR).toMillis();
    this.ageByDiscovery = config.get(FileSourceOptions.AGE_BY) == AgeBy.DISCOVERY_TIME;
    this.reconcileIntervalMillis = config.get(FileSourceOptions.RECONCILE_INTERVAL).toMillis();
    this.source = source;
    this.onBadFile = config.get(FileSourceOptions.ON_BAD_FILE);
    this.cleanSource = config.get(FileSourceOptions.CLEAN_SOURCE);
    this.includeExisting = config.get(FileSourceOptions.INCLUDE_EXISTING);
    this.maxFilesPerBatch = config.get(FileSourceOptions.MAX_FILES_PER_BATCH);
    this.splitSize = config.get(FileSourceOptions.SPLIT_SIZE);
    this.format = config.get(FileSourceOptions.FORMAT);
    this.recordLength = config.get(FileSourceOptions.RECORD_LENGTH);
    this.contentIdentity =
        config.get(FileSourceOptions.IDENTITY) == FileSourceOptions.Identity.CONTENT;
    this.fingerprintBytes = config.get(FileSourceOptions.FINGERPRINT_BYTES).intValue();
    this.reader =
        new FileReader(
            config.get(FileSourceOptions.FORMAT),
            config.get(FileSourceOptions.MAX_LINE_LENGTH).intValue(),
            config.get(FileSourceOptions.RECORD_LENGTH).intValue(),
            config.get(FileSourceOptions.MAX_FILE_SIZE).intValue(),
            config.get(FileSourceOptions.ON_BAD_FILE) == OnBadFile.SKIP);
    Map<String, String> hadoopSettings = new LinkedHashMap<>();
    for (String entry : config.get(FileSourceOptions.HADOOP_PROPERTIES)) {
      int eq = entry.indexOf('=');
      hadoopSettings.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
    }
    hadoopSettings.putAll(
        config.get(HadoopFileSystems.HADOOP)); // hadoop.* wins over the older list form
    Configuration conf = HadoopFileSystems.configuration(hadoopSettings);
    if (!hadoopSettings.containsKey("fs.file.impl")) {
      // The raw local file system: the checksummed one looks for a ".<name>.crc" side file on every
      // open, which the source never writes, and fails on names such as 2026-11-25T10:00.csv
      // (a colon in the side file's relative name).
      conf.set("fs.file.impl", org.apache.hadoop.fs.RawLocalFileSystem.class.getName());
      conf.setBoolean("fs.file.impl.disable.cache", true);
    }
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
        io.tributary.connector.file.internal.hadoop.EndpointCheck.check(
            fs, p, conf, "files source path", "paths");
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
        long stableFor = stableForMillis(config, fs.getUri().getScheme());
        guards.put(id, new StabilityGuard(fs, stableFor, orderedNames, clock));
        replanGuards.put(id, new StabilityGuard(fs, stableFor, false, clock));
        changeWatches.put(
            id,
            new ChangeWatch(
                fs,
                config.get(FileSourceOptions.WATCH_CHANGES_FOR).toMillis(),
                onChange == OnChange.READ_APPENDED ? stableFor : -1,
                stableFor,
                clock));
        partialTails.put(
            id,
            config.get(FileSourceOptions.FORMAT) == Format.TEXT
                && config.get(FileSourceOptions.CLEAN_SOURCE) == CleanSource.KEEP
                && config.get(FileSourceOptions.WATCH_CHANGES_FOR).toMillis() > 0
                && stableFor > 0);
        TooOldFiles old = new TooOldFiles(id, "file".equals(fs.getUri().getScheme()));
        tooOld.put(id, old);
        DirectoryScanner scanner =
            new DirectoryScanner(
                    fs, fs.makeQualified(p), fileGlob, recursive, ordered, orderedNames, watch)
                .onTooOld(old::ignored)
                .onNotRegular(this::notRegular)
                .onIgnoredEntry(this::ignoredEntry)
                .followLinks(config.get(FileSourceOptions.FOLLOW_LINKS))
                .contentIdentity(contentIdentity)
                .onDirectoryDenied((dir, ex) -> directoryDenied(id, dir, ex));
        if (ageByDiscovery) {
          scanner.ageByDiscovery(clock);
        }
        scanners.put(id, scanner);
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
              config.get(FileSourceOptions.STATE_COMPACTION_INTERVAL),
              clock.millis());
    } catch (RuntimeException e) {
      closeFileSystems();
      throw e;
    }
    if (ageByDiscovery) {
      // Times in the state are those of the last snapshot or delta: a file still listed renews its
      // time at the next cycle, so none may leave the state before this process has listed once.
      synchronized (index) {
        for (String id : ids) {
          PartitionState st = index.partition(id);
          st.seen.replaceAll((path, t) -> Math.max(t, st.maxMtime));
        }
      }
    }
    synchronized (index) {
      long now = clock.millis();
      for (String id : ids) {
        PartitionState st = index.partition(id);
        st.forgotten = tooOld.get(id)::forget;
        for (FileEntry pending : st.tailPending.values()) {
          changeWatches.get(id).admitted(pending); // its held-back last line is still to come
        }
        long was = st.maxMtime;
        if (st.clampLoaded(now)) {
          LOG.warn(
              "event=horizon_clamped pipeline={} source={} partition={} newest_mtime={} now={}"
                  + " reason=\"the state holds modification times in the future (a future-dated"
                  + " file read by an earlier version, or a clock corrected since); the horizon is"
                  + " measured from now instead\"",
              pipeline,
              source,
              id,
              java.time.Instant.ofEpochMilli(was),
              java.time.Instant.ofEpochMilli(now));
        }
      }
    }
    LOG.info(
        "event=files_source_opened pipeline={} source={} paths={} hadoop={}",
        pipeline,
        source,
        ids.size(),
        Secrets.describe(hadoopSettings));
    admitted =
        Counter.builder("tributary.files.admitted")
            .description(
                "Files admitted, once per file: its byte ranges (split-size) and appended bytes"
                    + " (read-appended) do not count again")
            .tags(tags)
            .register(registry);
    quarantined = Counter.builder("tributary.files.quarantined").tags(tags).register(registry);
    ignoredOld =
        Counter.builder("tributary.files.ignored")
            .description("Files ignored, counted once per file (reason too-old: max-file-age)")
            .tags(tags)
            .tag("reason", "too-old")
            .register(registry);
    cleaned = Counter.builder("tributary.files.cleaned").tags(tags).register(registry);
    replanned =
        Counter.builder("tributary.files.replanned")
            .description(
                "Compressed files whose read found them still being written: admitted again with"
                    + " their new length once stable")
            .tags(tags)
            .register(registry);
    futureDatedCounter =
        Counter.builder("tributary.files.future-dated")
            .description(
                "Files whose modification time was more than a minute after the source's clock"
                    + " (read; the horizon takes the clock's time for them), once per file")
            .tags(tags)
            .register(registry);
    late =
        Counter.builder("tributary.files.late")
            .description(
                "Files the fast listing (ordered-file-names, ordered-partitions) skipped, found and"
                    + " admitted by a reconciliation listing")
            .tags(tags)
            .register(registry);
    reconciliations =
        Counter.builder("tributary.files.reconciliations")
            .description("Reconciliation listings (everything listed, no start-after, no pruning)")
            .tags(tags)
            .register(registry);
    listing = Timer.builder("tributary.files.listing").tags(tags).register(registry);
    // Gauges read a snapshot published after each cycle, commit and quarantine decision, never
    // the index or the guards: a scrape (and /health, served by the same admin threads) must not
    // wait for a listing of 200,000 files, which holds the index's lock for its whole length.
    publishGauges();
    Gauge.builder("tributary.files.quarantine.size", this, m -> m.gauges.quarantined())
        .tags(tags)
        .register(registry);
    Gauge.builder("tributary.files.remembered", this, m -> m.gauges.remembered())
        .tags(tags)
        .register(registry);
    Gauge.builder("tributary.files.unstable", this, m -> m.gauges.unstable())
        .description("New files waiting until their length and modification time are stable")
        .tags(tags)
        .register(registry);
    Gauge.builder("tributary.files.held", this, m -> m.gauges.held()).tags(tags).register(registry);
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

  /** What the gauges show: published by the batch thread, read by any thread without a lock. */
  private record GaugeSnapshot(long remembered, long held, long unstable, long quarantined) {}

  private volatile GaugeSnapshot gauges = new GaugeSnapshot(0, 0, 0, 0);

  /** Publishes the gauges' values; called where they change, never by a scrape. */
  private void publishGauges() {
    synchronized (index) {
      long unstable = 0;
      for (StabilityGuard g : guards.values()) {
        unstable += g.waiting();
      }
      gauges =
          new GaugeSnapshot(
              index.rememberedFiles(), index.heldEntries(), unstable, index.quarantineSize());
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
    long filesAdmittedNow = 0;
    long lateNow = 0;
    boolean reconciledNow = false;
    List<PartitionInfo> out = new ArrayList<>();
    synchronized (index) {
      Map<String, List<FileEntry>> newEntries = new LinkedHashMap<>();
      List<PartitionState> initialized = new ArrayList<>();
      for (Map.Entry<String, DirectoryScanner> e : scanners.entrySet()) {
        PartitionState st = index.partition(e.getKey());
        st.clockMillis = clock.millis();
        long threshold = index.threshold(st);
        index.trim(
            st); // directories (keeps pruning current) and, as the horizon moves, remembered paths
        List<FileEntry> added = new ArrayList<>(changes(e.getKey(), st));
        added.addAll(replans(e.getKey(), st));
        tooOld.get(e.getKey()).cycleStarts();
        Long lastRec = lastReconcile.get(e.getKey());
        long nowMillis = clock.millis();
        if (reconcileIntervalMillis > 0
            && (lastRec == null || nowMillis - lastRec >= reconcileIntervalMillis)) {
          e.getValue().reconcileNext(); // at every start, then every reconcile-interval
        }
        DirectoryScanner.Result r = e.getValue().scan(st, threshold);
        if (e.getValue().reconciled()) {
          lastReconcile.put(e.getKey(), nowMillis);
          reconciliations.increment();
          reconciledNow = true;
        } else if (lastRec == null) {
          lastReconcile.put(e.getKey(), nowMillis);
        }
        tooOld.get(e.getKey()).cycleEnds();
        files += r.filesListed();
        dirs += r.directoriesListed();
        pruned += r.directoriesPruned();
        found += r.candidates().size();

        if (!st.initialized && !includeExisting) {
          for (DirectoryScanner.Candidate c : r.candidates()) {
            futureDated(st, c.status());
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
          long allowance = maxFilesPerBatch - st.outstanding() + added.size();
          long discovered = ageByDiscovery ? e.getValue().cycleMillis() : 0;
          List<DirectoryScanner.Candidate> stable = guards.get(e.getKey()).stable(r.candidates());
          long lateFound = r.candidates().stream().filter(DirectoryScanner.Candidate::late).count();
          long lateAdmitted = 0;
          for (DirectoryScanner.Candidate c : stable) {
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
            if (contentIdentity && !newContent(fileSystems.get(e.getKey()), st, c)) {
              continue;
            }
            futureDated(st, c.status());
            for (long[] range : ranges) {
              FileEntry f =
                  new FileEntry(
                      st.nextSeq,
                      c.path(),
                      c.root(),
                      len,
                      mtime,
                      range[0],
                      range[1],
                      false,
                      discovered,
                      partialTails.get(e.getKey()) && !FileReader.isCompressed(c.path()));
              st.admit(f);
              added.add(f);
              changeWatches.get(e.getKey()).admitted(f);
            }
            if (c.late()) {
              lateAdmitted++;
              LOG.info(
                  "event=file_late pipeline={} source={} partition={} path={} reason=\"skipped by"
                      + " the fast listing (a name before the last one seen, or an older partition);"
                      + " found by reconciliation\"",
                  pipeline,
                  source,
                  st.id,
                  c.path());
            }
          }
          lateNow += lateAdmitted;
          if (lateFound > lateAdmitted) {
            // late files still waiting (stability, max-files-per-batch): the fast listing would
            // not look at them again, so the next cycle reconciles too
            e.getValue().reconcileNext();
          }
        }
        if (!st.initialized) {
          initialized.add(st);
        }
        if (!added.isEmpty()) {
          newEntries.put(st.id, added);
          admittedNow += added.size();
          for (FileEntry f : added) {
            if (f.start() == 0 && !f.appended()) {
              filesAdmittedNow++; // a file split into byte ranges is one file
            }
          }
        }
      }
      index.recordCycle(newEntries, initialized);
      for (String id : scanners.keySet()) {
        PartitionState st = index.partition(id);
        out.add(PartitionInfo.open(id, st.committed, st.nextSeq));
      }
      publishGauges();
    }
    admitted.increment(filesAdmittedNow);
    late.increment(lateNow);
    long nanos = System.nanoTime() - start;
    listing.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    lastListing =
        new ListingStats(files, dirs, pruned, found, admittedNow, nanos, reconciledNow, lateNow);
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

  /**
   * identity content: whether a stable candidate holds content not read before, to be admitted (its
   * fingerprint is then recorded with the path). Content read before under another name (a file
   * renamed or compressed after it was read) is remembered under the new path, counted and logged
   * once; a path read before whose first bytes are unchanged (it grew or was touched) is left to
   * on-change.
   */
  private boolean newContent(FileSystem fs, PartitionState st, DirectoryScanner.Candidate c)
      throws IOException {
    String path = c.path();
    FileStatus s = c.status();
    byte[] head;
    try {
      head = head(fs, path);
    } catch (java.io.FileNotFoundException gone) {
      return false; // moved away since it was listed: looked at again where it is now
    } catch (IOException unreadable) {
      // unreadable, or a damaged compressed file: admitted without a fingerprint, so the read
      // reports it as bad input (on-bad-file) as without identity content
      return true;
    }
    String fp = fingerprint(head, head.length);
    long time = ageByDiscovery ? scanners.get(st.id).cycleMillis() : s.getModificationTime();
    PartitionState.Content readHere = st.content.get(path);
    if (readHere != null && sameStart(head, readHere.fingerprint())) {
      // the content read under this path, grown or touched since: on-change's case. Its longer
      // fingerprint is known too, so the file renamed later is still the content read.
      PartitionState.Content now =
          new PartitionState.Content(fp, path, s.getLen(), s.getModificationTime(), time);
      st.content.put(path, now);
      st.fingerprints.putIfAbsent(fp, now);
      return false;
    }
    PartitionState.Content same = st.fingerprints.get(fp);
    if (same != null) {
      st.see(path, c.root(), s.getModificationTime());
      st.content.put(
          path, new PartitionState.Content(fp, path, s.getLen(), s.getModificationTime(), time));
      if (sameContentSeen.size() > 100_000) {
        sameContentSeen.clear();
      }
      if (sameContentSeen.add(path + " " + fp)) {
        Counter.builder("tributary.files.ignored")
            .description("Files ignored, counted once per file (reason too-old: max-file-age)")
            .tags(tags)
            .tag("reason", "same-content")
            .register(registry)
            .increment();
        LOG.info(
            "event=file_ignored reason=same-content pipeline={} source={} partition={} path={}"
                + " read_as={} fingerprint={} hint=\"identity is content: its first {} bytes"
                + " (decompressed) are those of a file already read, renamed or compressed since;"
                + " set identity: path to read every path\"",
            pipeline,
            source,
            st.id,
            path,
            same.path(),
            fp,
            fingerprintBytes);
      }
      return false;
    }
    if (readHere != null) {
      LOG.info(
          "event=file_replaced pipeline={} source={} partition={} path={} reason=\"other first"
              + " bytes than the file read under this name: a new file, read\"",
          pipeline,
          source,
          st.id,
          path);
      changeWatches.get(st.id).forget(path);
    }
    st.read(new PartitionState.Content(fp, path, s.getLen(), s.getModificationTime(), time));
    return true;
  }

  /** identity content: whether a file read under {@code path} now has other first bytes. */
  private boolean replaced(FileSystem fs, PartitionState st, String path) {
    PartitionState.Content read = st.content.get(path);
    if (read == null) {
      return false;
    }
    try {
      return !sameStart(head(fs, path), read.fingerprint());
    } catch (IOException e) {
      return false; // gone or unreadable: on-change as without identity content
    }
  }

  /**
   * Whether {@code head} starts with the bytes a fingerprint was taken of (a file read while
   * shorter than fingerprint-bytes keeps its identity as it grows).
   */
  private static boolean sameStart(byte[] head, String fingerprint) {
    int n = Integer.parseInt(fingerprint.substring(0, fingerprint.indexOf(':')));
    return head.length >= n && fingerprint(head, n).equals(fingerprint);
  }

  /** The first fingerprint-bytes of the file's decompressed content (fewer if it is shorter). */
  private byte[] head(FileSystem fs, String path) throws IOException {
    try (InputStream in = FileReader.decompress(path, fs.open(new Path(path)))) {
      return in.readNBytes(fingerprintBytes);
    }
  }

  /** Paths (with their fingerprint) counted as same-content by this process, each once. */
  private final java.util.Set<String> sameContentSeen = new java.util.HashSet<>();

  /**
   * {@code <n>:<hash>}: the SHA-256 (first 128 bits, hex) of the first {@code n} bytes of {@code
   * head}.
   */
  private static String fingerprint(byte[] head, int n) {
    java.security.MessageDigest sha;
    try {
      sha = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    sha.update(head, 0, n);
    return n + ":" + java.util.HexFormat.of().formatHex(sha.digest(), 0, 16);
  }

  /**
   * Detection after admission: the changes seen since the last cycle, handled by on-change. Returns
   * the entries admitted for appended bytes (read-appended), already given their offsets.
   */
  private List<FileEntry> changes(String id, PartitionState st) throws IOException {
    ChangeWatch w = changeWatches.get(id);
    if (w.size() == 0) {
      return List.of();
    }
    List<FileEntry> out = new ArrayList<>();
    for (ChangeWatch.Change ch : w.check()) {
      FileEntry was = ch.admitted();
      FileStatus now = ch.now();
      if (ch.kind() == ChangeWatch.Kind.COMPLETE) {
        FileSystem fs = fileSystems.get(id);
        long lineStart = reader.lineStartBefore(fs, was.path(), was.length());
        if (lineStart >= was.length()) {
          // ends with a line terminator: nothing was held back
          st.tailPending.remove(was.path());
          w.replace(was.withPartialTail(false));
          continue;
        }
        FileEntry tail =
            new FileEntry(
                st.nextSeq,
                was.path(),
                was.root(),
                was.length(),
                was.modificationTime(),
                lineStart,
                was.length(),
                true,
                was.discovered(),
                false);
        st.admit(tail);
        out.add(tail);
        w.replace(tail);
        LOG.debug(
            "event=file_last_line_admitted pipeline={} source={} partition={} offset={} path={}"
                + " reason=\"no line terminator at the end; unchanged for stable-for since\"",
            pipeline,
            source,
            id,
            tail.seq(),
            was.path());
        continue;
      }
      if (contentIdentity && replaced(fileSystems.get(id), st, was.path())) {
        // other first bytes: not a change to this file but another file under its name, which
        // the listing reads as new (event=file_replaced)
        w.forget(was.path());
        continue;
      }
      boolean append = onChange == OnChange.READ_APPENDED && ch.kind() == ChangeWatch.Kind.GREW;
      String action = append ? "read-appended" : onChange == OnChange.FAIL ? "fail" : "warn";
      Counter.builder("tributary.files.changed")
          .description("Files whose length or modification time changed after they were admitted")
          .tags(tags)
          .tag("change", ch.kind().name().toLowerCase(java.util.Locale.ROOT))
          .tag("action", action)
          .register(registry)
          .increment();
      LOG.warn(
          "event=file_changed_after_admission pipeline={} source={} partition={} offset={} path={}"
              + " change={} admitted_length={} admitted_mtime={} length={} mtime={} action={}",
          pipeline,
          source,
          id,
          was.seq(),
          was.path(),
          ch.kind().name().toLowerCase(java.util.Locale.ROOT),
          was.length(),
          was.modificationTime(),
          now.getLen(),
          now.getModificationTime(),
          action);
      if (onChange == OnChange.FAIL) {
        throw new FileChangedException(
            was.path(),
            "File "
                + was.path()
                + " (offset "
                + was.seq()
                + " of partition "
                + id
                + ") changed after it was admitted and read: "
                + was.length()
                + " bytes modified at "
                + was.modificationTime()
                + " then, "
                + now.getLen()
                + " bytes modified at "
                + now.getModificationTime()
                + " now; what changed is not read (write files elsewhere and rename them into"
                + " place, raise stable-for for slow writers, or set on-change: read-appended for"
                + " files that grow, or warn)");
      }
      if (!append) {
        w.forget(was.path()); // counted and logged once per file
        st.tailPending.remove(was.path()); // a held-back last line is part of what changed
        continue;
      }
      // appended bytes start where the previous range's held-back partial line starts
      long from =
          was.partialTail()
              ? reader.lineStartBefore(fileSystems.get(id), was.path(), was.length())
              : was.length();
      FileEntry f =
          new FileEntry(
              st.nextSeq,
              was.path(),
              was.root(),
              now.getLen(),
              now.getModificationTime(),
              from,
              now.getLen(),
              true,
              was.discovered(),
              was.partialTail());
      st.admit(f);
      out.add(f);
      w.admitted(f);
    }
    return out;
  }

  /** Future-dated files counted and logged (once per path; starts over past 100,000). */
  private final java.util.Set<String> futureSeen = new java.util.HashSet<>();

  /**
   * A file whose modification time is more than a minute after the source's clock: it is read as
   * any other, but the horizon takes the clock's time for it (never its own), so it cannot make
   * later files look too old. Counted ({@code tributary.files.future-dated}) and logged once.
   */
  private void futureDated(PartitionState st, FileStatus s) {
    if (!st.futureDated(s.getModificationTime())) {
      return;
    }
    String path = s.getPath().toString();
    if (futureSeen.size() > 100_000) {
      futureSeen.clear();
    }
    if (!futureSeen.add(path)) {
      return;
    }
    futureDatedCounter.increment();
    LOG.warn(
        "event=file_future_dated pipeline={} source={} partition={} path={} mtime={} now={}"
            + " action=\"read; the horizon (max-file-age) takes the clock's time for it\""
            + " hint=\"the writer's clock, or a tool that sets times (touch -d, rsync -t from a"
            + " skewed host), dated it in the future\"",
        pipeline,
        source,
        st.id,
        path,
        java.time.Instant.ofEpochMilli(s.getModificationTime()),
        java.time.Instant.ofEpochMilli(st.clockMillis));
  }

  /** Directories skipped under on-bad-file: skip because they cannot be listed (once per dir). */
  private final java.util.Set<String> deniedDirs = new java.util.HashSet<>();

  /**
   * A directory that cannot be listed is bad input: under skip it is counted and logged once, and
   * listed again at every cycle (its files are found once it is readable); under fail the cycle
   * fails with a {@link FileAccessDeniedException} naming the directory.
   */
  private void directoryDenied(String partition, Path dir, IOException e) {
    if (onBadFile == OnBadFile.FAIL) {
      LOG.error(
          "event=directory_unreadable pipeline={} source={} partition={} path={} action=fail",
          pipeline,
          source,
          partition,
          dir);
      throw new FileAccessDeniedException(
          dir.toString(),
          "Permission denied to list directory "
              + dir
              + " (monitored path "
              + partition
              + "): "
              + e
              + " (grant the pipeline's user read and execute permission on it, or set on-bad-file:"
              + " skip to skip it until it becomes readable)",
          e);
    }
    if (!deniedDirs.add(dir.toString())) {
      return;
    }
    Counter.builder("tributary.files.ignored")
        .description("Files ignored, counted once per file (reason too-old: max-file-age)")
        .tags(tags)
        .tag("reason", "directory-access-denied")
        .register(registry)
        .increment();
    LOG.error(
        "event=directory_skipped pipeline={} source={} partition={} path={} reason=access-denied"
            + " error=\"{}\" action=\"skipped; listed again at every cycle\"",
        pipeline,
        source,
        partition,
        dir,
        e.toString());
  }

  /** Local entries skipped for what they are, counted and logged once per reason and path. */
  private final java.util.Set<String> ignoredEntries = new java.util.HashSet<>();

  private void ignoredEntry(String reason, String path) {
    if (ignoredEntries.size() > 100_000) {
      ignoredEntries.clear();
    }
    if (!ignoredEntries.add(reason + " " + path)) {
      return;
    }
    Counter.builder("tributary.files.ignored")
        .description("Files ignored, counted once per file (reason too-old: max-file-age)")
        .tags(tags)
        .tag("reason", reason)
        .register(registry)
        .increment();
    String hint =
        switch (reason) {
          case "symlink" ->
              "symbolic links are not followed; set follow-links: true to read their"
                  + " targets (each file once, under its own path)";
          case "link-loop" ->
              "the link leads back to a directory being walked (ln -s .. up); it is"
                  + " not descended";
          case "dangling-link" -> "the link's target does not exist";
          case "directory-vanished" ->
              "the directory was deleted or moved between its parent's listing and its own (not a"
                  + " failure); it is listed again if it is there at the next cycle";
          default ->
              "the name holds bytes that the gateway's file name charset (sun.jnu.encoding,"
                  + " from the locale) cannot decode, so it cannot be opened by name; rename it to UTF-8"
                  + " (convmv -f latin1 -t utf-8) or run the gateway under a UTF-8 locale";
        };
    LOG.warn(
        "event=file_ignored reason={} pipeline={} source={} path={} hint=\"{}\"",
        reason,
        pipeline,
        source,
        path,
        hint);
  }

  /** Entries skipped because they are not regular files, counted and logged once per path. */
  private final java.util.Set<String> notRegularSeen = new java.util.HashSet<>();

  private void notRegular(FileStatus s) {
    String path = s.getPath().toString();
    if (notRegularSeen.size() > 100_000) {
      notRegularSeen.clear();
    }
    if (!notRegularSeen.add(path)) {
      return;
    }
    Counter.builder("tributary.files.ignored")
        .description("Files ignored, counted once per file (reason too-old: max-file-age)")
        .tags(tags)
        .tag("reason", "not-regular")
        .register(registry)
        .increment();
    LOG.warn(
        "event=file_ignored reason=not-regular pipeline={} source={} path={} hint=\"a FIFO, socket or"
            + " device is never opened (reading a FIFO would block); move it out of the monitored"
            + " directory or exclude it with file-pattern\"",
        pipeline,
        source,
        path);
  }

  /**
   * Files ignored for their age, counted and logged once per file: those that arrived with an old
   * modification time (rsync -t, cp -p, tar x), not those that have been there all along. On the
   * local file system that is a file whose status changed (ctime) inside the horizon; elsewhere (no
   * ctime) an old file first listed after this process's first cycle and never remembered before (a
   * file read earlier that aged out is not "ignored"). Old files already there at the first cycle
   * are one summary line. Remembers the paths it judged (in memory, at most 1,000,000 per
   * partition; then it starts over).
   */
  private final class TooOldFiles {
    private static final int MAX = 1_000_000;
    private final String partition;
    private final boolean local;
    private final java.util.Set<String> judged = new java.util.HashSet<>();
    private boolean first = true;
    private long baseline;

    TooOldFiles(String partition, boolean local) {
      this.partition = partition;
      this.local = local;
    }

    void cycleStarts() {
      baseline = 0;
      if (judged.size() > MAX) {
        judged.clear();
      }
    }

    void ignored(FileStatus s, long threshold) {
      String path = s.getPath().toString();
      if (!judged.add(path)) {
        return;
      }
      boolean arrived = local ? changedSince(s, threshold) : !first;
      if (!arrived) {
        baseline += first ? 1 : 0;
        return;
      }
      ignoredOld.increment();
      LOG.warn(
          "event=file_ignored reason=too-old pipeline={} source={} partition={} path={} mtime={}"
              + " horizon={} hint=\"its modification time is older than the newest seen minus"
              + " max-file-age; writers that keep old times (rsync -t, cp -p, tar x) need age-by:"
              + " discovery-time or a larger max-file-age\"",
          pipeline,
          source,
          partition,
          path,
          java.time.Instant.ofEpochMilli(s.getModificationTime()),
          java.time.Instant.ofEpochMilli(threshold));
    }

    /** A path that aged out of the remembered set: seen (and read) before, not "ignored". */
    void forget(String path) {
      if (judged.size() <= MAX) {
        judged.add(path);
      }
    }

    void cycleEnds() {
      if (first && baseline > 0) {
        LOG.info(
            "event=files_ignored_old_present pipeline={} source={} partition={} files={}"
                + " reason=\"older than the horizon (max-file-age) when this process started\"",
            pipeline,
            source,
            partition,
            baseline);
      }
      first = false;
    }

    private boolean changedSince(FileStatus s, long threshold) {
      try {
        Object ctime =
            java.nio.file.Files.getAttribute(
                java.nio.file.Path.of(s.getPath().toUri()), "unix:ctime");
        return ctime instanceof java.nio.file.attribute.FileTime t && t.toMillis() >= threshold;
      } catch (IOException | RuntimeException e) {
        return true; // unknown: report it rather than stay silent
      }
    }
  }

  /**
   * The completeness guard's duration: as set, else the default where in-place writes are visible
   * and 0 on object stores, whose objects appear whole.
   */
  static long stableForMillis(Config config, String scheme) {
    if (!config.isSet(FileSourceOptions.STABLE_FOR) && HadoopFileSystems.isObjectStore(scheme)) {
      return 0;
    }
    return config.get(FileSourceOptions.STABLE_FOR).toMillis();
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
      private CloseableIterator<Record> current = CloseableIterator.of(List.of());

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && next < range.untilOffset()) {
          current.close();
          current = readOne(fs, partition, next++);
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
      public void close() {
        current.close();
      }
    };
  }

  /**
   * The records of one offset: whole or none (bad input is decided before the first record is
   * handed out); a large file streams from a second read once a first read checked all of it.
   */
  private CloseableIterator<Record> readOne(FileSystem fs, String partition, long seq) {
    CloseableIterator<Record> none = CloseableIterator.of(List.of());
    if (index.replanned(partition, seq)) {
      return none; // the file was still being written: a later offset reads it whole
    }
    if (index.quarantined(partition, seq).isPresent()) {
      return none; // decided before (possibly by the attempt a replay repeats): same decision
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
      return reader.open(fs, e, source, partition);
    } catch (BadFileException ex) {
      if (stillBeingWritten(fs, e, ex)) {
        try {
          index.addReplan(partition, e, clock.millis());
        } catch (IOException io) {
          throw new DataUnavailableException(
              "Cannot record the re-planning of "
                  + e.path()
                  + " in the checkpoint: "
                  + io
                  + " (the batch fails and is replayed on restart)",
              io);
        }
        replanned.increment();
        LOG.warn(
            "event=file_replanned pipeline={} source={} partition={} offset={} path={}"
                + " listed_length={} reason=\"a compressed file that was still being written (it"
                + " ended early and has grown since): offset {} yields nothing, and the file is"
                + " admitted again with its new length once stable\"",
            pipeline,
            source,
            partition,
            seq,
            e.path(),
            e.length(),
            seq);
        return none;
      }
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
      publishGauges();
      LOG.error(
          "event=file_quarantined pipeline={} source={} partition={} offset={} path={} reason={} error=\"{}\"",
          pipeline,
          source,
          partition,
          seq,
          e.path(),
          ex.reason(),
          ex.getMessage());
      return none;
    }
  }

  /**
   * Whether a compressed file that failed as truncated may still be being written: it is longer
   * now, or has another modification time, than when it was listed, or it was modified less than
   * {@code watch-changes-for} ago. One that has been as listed for that long and still ends early
   * is damaged, and stays bad input.
   */
  private boolean stillBeingWritten(FileSystem fs, FileEntry e, BadFileException ex) {
    if (!(ex instanceof io.tributary.connector.file.CorruptFileException)
        || !FileReader.isCompressed(e.path())
        || e.appended()
        || e.start() != 0) {
      return false;
    }
    try {
      FileStatus now = fs.getFileStatus(new Path(e.path()));
      return now.getLen() > e.length()
          || now.getModificationTime() != e.modificationTime()
          || clock.millis() - now.getModificationTime() < watchChangesForMillis;
    } catch (IOException gone) {
      return false;
    }
  }

  /**
   * Compressed files re-planned by a read: looked at (one status call each), and admitted with
   * their new length once the partition's completeness guard says they are stable.
   */
  private List<FileEntry> replans(String id, PartitionState st) throws IOException {
    if (st.replanPending.isEmpty()) {
      return List.of();
    }
    FileSystem fs = fileSystems.get(id);
    List<DirectoryScanner.Candidate> cands = new ArrayList<>();
    for (FileIndex.ReplanDto r : List.copyOf(st.replanPending.values())) {
      try {
        FileStatus now = fs.getFileStatus(new Path(r.path()));
        if (now.getLen() == r.length()
            && now.getModificationTime() == r.mtime()
            && clock.millis() - r.at() < watchChangesForMillis) {
          continue; // not written to since: wait for the writer, or declare it damaged after
        }
        cands.add(new DirectoryScanner.Candidate(now, r.root(), false));
      } catch (java.io.FileNotFoundException gone) {
        st.replanPending.remove(r.path());
        LOG.warn(
            "event=file_replan_vanished pipeline={} source={} partition={} path={}"
                + " reason=\"deleted or moved before it could be read again\"",
            pipeline,
            source,
            id,
            r.path());
      }
    }
    List<FileEntry> out = new ArrayList<>();
    for (DirectoryScanner.Candidate c : replanGuards.get(id).stable(cands)) {
      FileEntry f =
          new FileEntry(
              st.nextSeq,
              c.path(),
              c.root(),
              c.status().getLen(),
              c.status().getModificationTime());
      st.admit(f);
      out.add(f);
      changeWatches.get(id).admitted(f);
    }
    return out;
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
      publishGauges();
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
    String root = e.root().endsWith("/") ? e.root() : e.root() + "/";
    if (!e.path().startsWith(root)) {
      // follow-links: a file outside the monitored path, read through a link; it belongs to
      // someone else's tree, so it is neither deleted nor moved
      LOG.warn(
          "event=file_not_cleaned pipeline={} source={} path={} root={} reason=\"outside the"
              + " monitored path (reached through a symbolic link); clean-source applies only to"
              + " files inside it\"",
          pipeline,
          source,
          e.path(),
          e.root());
      return;
    }
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
      Path target = new Path(archiveDir, new Path(null, null, rel)); // a name is a path, not a URI
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

  /** Makes the next cycle of every partition a reconciliation listing (ordered modes only). */
  public void reconcileAtNextCycle() {
    synchronized (index) {
      for (DirectoryScanner sc : scanners.values()) {
        sc.reconcileNext();
      }
    }
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
