package io.tributary.bench;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.file.FileSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.SourceContext;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * Per listing cycle, the time and memory the {@code files} source needs to find 100 new files among
 * 1,000 / 10,000 / 100,000 old ones, next to a Spark-style full re-listing (list everything
 * recursively each cycle, filter against a set of every path seen) measured in the same run, on the
 * same directories and the same new files.
 *
 * <p>Layouts: {@code flat} (every file in one directory; the source with default options), {@code
 * flat-ordered} (the same directory with {@code ordered-file-names: true}) and {@code partitioned}
 * ({@code date=YYYY-MM-DD/hour=HH/}, 100 files per hour, {@code recursive} + {@code
 * ordered-partitions}; the new files land in a newer hour). Old files carry the modification time
 * of their hour, days before the new ones; {@code max-file-age} is 1 day.
 *
 * <p>On HDFS (a MiniDFSCluster in this JVM), flat directories: {@code hdfs-flat}, {@code
 * hdfs-ordered} and {@code hdfs-inotify}; see {@link #runHdfs}.
 *
 * <p>Memory: bytes allocated by the listing thread during the cycle ({@code
 * com.sun.management.ThreadMXBean}), and what stays retained: the source's remembered-set size
 * (gauge {@code tributary.files.remembered}) against the size of the re-lister's seen set.
 *
 * <p>Usage: {@code bench/files-bench.sh [counts=1000,10000,100000] [cycles=10]
 * [dir=bench/target/files-bench]}. The old files are created once per layout and count and reused
 * by later runs.
 */
public final class FileListingBench {
  private static final int NEW_PER_CYCLE = 100;
  private static final int WARMUP_CYCLES = 3;
  private static final int FILES_PER_HOUR = 100;
  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT);

  private final com.sun.management.ThreadMXBean threads =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private final FileSystem fs;
  private final int cycles;
  private MiniDFSCluster hdfsCluster;
  private long batchId;

  private FileListingBench(int cycles) throws IOException {
    this.fs = FileSystem.getLocal(new Configuration()).getRawFileSystem();
    this.cycles = cycles;
  }

  /** Median figures of the measured cycles of one case. */
  record Figures(double millis, double allocatedMb, long listed, long retained, long found) {}

  public static void main(String[] args) throws Exception {
    int[] counts =
        Arrays.stream((args.length > 0 ? args[0] : "1000,10000,100000").split(","))
            .mapToInt(s -> Integer.parseInt(s.strip()))
            .toArray();
    int cycles = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    Path base = Path.of(args.length > 2 ? args[2] : "bench/target/files-bench").toAbsolutePath();
    FileListingBench bench = new FileListingBench(cycles);
    List<String> rows = new ArrayList<>();
    List<String> layouts =
        List.of((args.length > 3 ? args[3] : "flat,flat-ordered,partitioned").split(","));
    for (String layout : layouts) {
      for (int n : counts) {
        Figures[] f = bench.run(base, layout, n);
        rows.add(
            String.format(
                Locale.ROOT,
                "| %s | %,d | %.2f | %.2f | %.1fx | %.2f | %.2f | %.1fx | %,d | %,d | %,d | %,d | %s | %s |",
                layout,
                n,
                f[0].millis,
                f[1].millis,
                f[1].millis / f[0].millis,
                f[0].allocatedMb,
                f[1].allocatedMb,
                f[1].allocatedMb / f[0].allocatedMb,
                f[0].listed,
                f[1].listed,
                f[0].retained,
                f[1].retained,
                f[2] == null ? "-" : String.format(Locale.ROOT, "%.2f", f[2].millis),
                f[2] == null ? "-" : String.format(Locale.ROOT, "%,d", f[2].listed)));
        System.out.printf(
            "done: layout=%s old=%d files-source=%s re-list=%s reconciliation=%s%n",
            layout, n, f[0], f[1], f[2]);
      }
    }
    System.out.printf(
        "%nMedian per listing cycle finding %d new files (%d cycles after %d warm-up)%n%n",
        NEW_PER_CYCLE, cycles, WARMUP_CYCLES);
    System.out.println(
        "| layout | old files | files source ms | re-list ms | time ratio | files source MB alloc"
            + " | re-list MB alloc | alloc ratio | files source entries listed | re-list entries listed"
            + " | files source remembered | re-list seen set | reconciliation ms | reconciliation entries"
            + " listed |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    rows.forEach(System.out::println);
  }

  private Figures[] run(Path base, String layout, int oldFiles) throws Exception {
    if (layout.startsWith("hdfs-")) {
      return runHdfs(base, layout, oldFiles);
    }
    String dataLayout = layout.startsWith("flat") ? "flat" : layout;
    Path dir = base.resolve(dataLayout + "-" + oldFiles);
    createOldFiles(dir, dataLayout.equals("partitioned"), oldFiles);
    Path work = base.resolve("work");
    deleteRecursively(work);
    Path checkpoint = Files.createDirectories(work.resolve("checkpoint"));
    Path staging = Files.createDirectories(work.resolve("staging"));
    // New files go below the monitored directory, in their own newer partition or directly in the
    // flat directory.
    Path newDir = dataLayout.equals("partitioned") ? dir.resolve("date=2026-11-25/hour=10") : dir;
    List<Path> created = new ArrayList<>();
    Map<String, Object> options = new HashMap<>();
    options.put("paths", List.of(dir.toUri().toString()));
    options.put("max-file-age", "1d");
    // the listing's cost only: files are renamed in (no completeness guard needed), and detection
    // after admission (one status per file admitted in the last watch-changes-for) is off
    options.put("stable-for", "0s");
    options.put("watch-changes-for", "0s");
    options.put("max-files-per-batch", 10_000);
    if (layout.equals("partitioned")) {
      options.put("recursive", true);
      options.put("ordered-partitions", true);
    } else if (layout.equals("flat-ordered")) {
      options.put("ordered-file-names", true);
    }
    try {
      return measure(
          layout + "/" + oldFiles,
          options,
          checkpoint,
          c -> addNewFiles(staging, newDir, c, created),
          seen -> relist(fs, new org.apache.hadoop.fs.Path(dir.toUri()), seen));
    } finally {
      for (Path p : created) {
        Files.deleteIfExists(p);
      }
      if (dataLayout.equals("partitioned")) {
        deleteRecursively(dir.resolve("date=2026-11-25"));
      }
    }
  }

  /**
   * The HDFS layouts, on a MiniDFSCluster in this JVM (one name node, one data node, under {@code
   * base/hdfs}): one flat directory of {@code oldFiles} old files (empty: a listing's cost does not
   * depend on sizes, and empty files need no block), the new ones renamed in from a staging
   * directory. {@code hdfs-flat}: default options (a NameNode listing of the whole directory per
   * cycle); {@code hdfs-ordered}: {@code ordered-file-names} (the listing starts after the last
   * name); {@code hdfs-inotify}: {@code hdfs-inotify} (no listing after the first cycle). The
   * re-lister lists the directory through the same NameNode.
   */
  private Figures[] runHdfs(Path base, String layout, int oldFiles) throws Exception {
    FileSystem dfs = hdfs(base);
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path("/bench/flat-" + oldFiles);
    createOldFiles(dfs, dir, oldFiles);
    org.apache.hadoop.fs.Path staging = new org.apache.hadoop.fs.Path("/bench/staging");
    dfs.mkdirs(staging);
    Path work = base.resolve("work");
    deleteRecursively(work);
    Path checkpoint = Files.createDirectories(work.resolve("checkpoint"));
    Map<String, Object> options = new HashMap<>();
    options.put("paths", List.of(dfs.makeQualified(dir).toString()));
    options.put("max-file-age", "1d");
    // the listing's cost only: files are renamed in (no completeness guard needed), and detection
    // after admission (one status per file admitted in the last watch-changes-for) is off
    options.put("stable-for", "0s");
    options.put("watch-changes-for", "0s");
    options.put("max-files-per-batch", 10_000);
    switch (layout) {
      case "hdfs-flat" -> {}
      case "hdfs-ordered" -> options.put("ordered-file-names", true);
      case "hdfs-inotify" -> options.put("hdfs-inotify", true);
      default ->
          throw new IllegalArgumentException(
              "Unknown layout "
                  + layout
                  + " (expected: hdfs-flat, hdfs-ordered,"
                  + " hdfs-inotify)");
    }
    // Each inotify poll makes the NameNode read its in-progress edit segment from the start up to
    // the stream's
    // position, so that cost grows with the NameNode's activity since its last edit-log roll (here:
    // creating the old
    // files). An HA NameNode rolls every dfs.ha.log-roll.period (2 min by default); a case starts
    // on a fresh segment
    // unless -Dbench.hdfs.roll=false.
    if (Boolean.parseBoolean(System.getProperty("bench.hdfs.roll", "true"))) {
      ((org.apache.hadoop.hdfs.DistributedFileSystem) dfs).rollEdits();
    }
    List<org.apache.hadoop.fs.Path> created = new ArrayList<>();
    try {
      return measure(
          layout + "/" + oldFiles,
          options,
          checkpoint,
          c -> {
            for (int i = 0; i < NEW_PER_CYCLE; i++) {
              String name =
                  String.format("zz-new-%03d-%03d.txt", c, i); // sorts after the old names
              org.apache.hadoop.fs.Path t = new org.apache.hadoop.fs.Path(staging, name);
              dfs.create(t).close();
              org.apache.hadoop.fs.Path f = new org.apache.hadoop.fs.Path(dir, name);
              if (!dfs.rename(t, f)) {
                throw new IOException("rename " + t + " -> " + f + " failed");
              }
              created.add(f);
            }
          },
          seen -> relist(dfs, dfs.makeQualified(dir), seen));
    } finally {
      for (org.apache.hadoop.fs.Path f : created) {
        dfs.delete(f, false);
      }
    }
  }

  private FileSystem hdfs(Path base) throws IOException {
    if (hdfsCluster == null) {
      Path dir = base.resolve("hdfs");
      deleteRecursively(dir);
      Configuration conf = new Configuration();
      conf.set("hdfs.minidfs.basedir", dir.toString());
      conf.set("dfs.namenode.rpc-address", "127.0.0.1:0");
      conf.set("dfs.namenode.http-address", "127.0.0.1:0");
      conf.set("dfs.datanode.address", "127.0.0.1:0");
      conf.set("dfs.datanode.http.address", "127.0.0.1:0");
      conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
      hdfsCluster = new MiniDFSCluster.Builder(conf, dir.toFile()).numDataNodes(1).build();
      hdfsCluster.waitActive();
      Runtime.getRuntime()
          .addShutdownHook(new Thread(() -> hdfsCluster.shutdown(true), "bench-hdfs-stop"));
    }
    return hdfsCluster.getFileSystem();
  }

  private static void createOldFiles(FileSystem dfs, org.apache.hadoop.fs.Path dir, int n)
      throws IOException {
    if (dfs.exists(new org.apache.hadoop.fs.Path(dir, "_complete"))) {
      return;
    }
    dfs.delete(dir, true);
    dfs.mkdirs(dir);
    System.out.printf("creating %,d old files in hdfs %s ...%n", n, dir);
    long start =
        LocalDateTime.of(2026, 11, 24, 0, 0).toInstant(ZoneOffset.UTC).toEpochMilli()
            - 48 * 3_600_000L;
    for (int i = 0; i < n; i++) {
      org.apache.hadoop.fs.Path f =
          new org.apache.hadoop.fs.Path(dir, String.format("old-%07d.txt", i));
      dfs.create(f).close();
      dfs.setTimes(f, start - (long) (n - i) / FILES_PER_HOUR * 3_600_000L, -1);
    }
    dfs.create(new org.apache.hadoop.fs.Path(dir, "_complete")).close();
  }

  /** One step of a case that may fail with an I/O error. */
  private interface Step<T> {
    T apply(Set<String> seen) throws IOException;
  }

  /** Adds the new files of one cycle. */
  private interface NewFiles {
    void add(int cycle) throws IOException;
  }

  /**
   * The measured cycles of one case: the source with {@code options} and the re-lister each find
   * the same 100 new files per cycle; returns their medians (source first).
   */
  private Figures[] measure(
      String label,
      Map<String, Object> options,
      Path checkpoint,
      NewFiles addNew,
      Step<double[]> relister)
      throws Exception {
    MeterRegistry registry = new SimpleMeterRegistry();
    FileSource source = FileSource.of(options);
    CheckpointStorage state = new LocalCheckpointStorage(checkpoint.resolve("sources/files"));
    source.open(context(registry, state));
    Map<String, Long> positions = new HashMap<>();
    Set<String> seen = new HashSet<>();
    List<double[]> fsFig = new ArrayList<>();
    List<double[]> relistFig = new ArrayList<>();
    List<double[]> reconcileFig = new ArrayList<>();
    try {
      // The first cycle of each: the source remembers what is there; the re-lister fills its seen
      // set.
      cycle(source, positions);
      relister.apply(seen);
      for (int c = 0; c < WARMUP_CYCLES + cycles; c++) {
        addNew.add(c);
        double[] a;
        double[] b;
        if (c % 2 == 0) { // alternate who lists first (the second finds warmer caches)
          a = cycle(source, positions);
          b = relister.apply(seen);
        } else {
          b = relister.apply(seen);
          a = cycle(source, positions);
        }
        if (a[4] != NEW_PER_CYCLE || b[4] != NEW_PER_CYCLE) {
          throw new IllegalStateException(
              "cycle "
                  + c
                  + " of "
                  + label
                  + ": expected "
                  + NEW_PER_CYCLE
                  + " new files, the files source found "
                  + (long) a[4]
                  + " and the re-lister "
                  + (long) b[4]);
        }
        a[3] = source.rememberedFiles();
        b[3] = seen.size();
        if (c >= WARMUP_CYCLES) {
          fsFig.add(a);
          relistFig.add(b);
        }
      }
      // The fast listing modes: the same cycles as reconciliation listings (everything listed, no
      // start-after, no pruning), as they run at every start and every reconcile-interval.
      if (Boolean.TRUE.equals(options.get("ordered-file-names"))
          || Boolean.TRUE.equals(options.get("ordered-partitions"))) {
        for (int c = 0; c < WARMUP_CYCLES + cycles; c++) {
          addNew.add(WARMUP_CYCLES + cycles + c);
          source.reconcileAtNextCycle();
          double[] a = cycle(source, positions);
          if (a[4] != NEW_PER_CYCLE || !source.lastListing().reconciliation()) {
            throw new IllegalStateException(
                "reconciliation cycle " + c + " of " + label + ": found " + (long) a[4]);
          }
          a[3] = source.rememberedFiles();
          if (c >= WARMUP_CYCLES) {
            reconcileFig.add(a);
          }
        }
      }
    } finally {
      source.close();
    }
    return new Figures[] {
      median(fsFig), median(relistFig), reconcileFig.isEmpty() ? null : median(reconcileFig)
    };
  }

  /** One listing cycle of the source, then commits what it admitted (as a batch would). */
  private double[] cycle(FileSource source, Map<String, Long> positions) throws Exception {
    long tid = Thread.currentThread().getId();
    long alloc0 = threads.getThreadAllocatedBytes(tid);
    long t0 = System.nanoTime();
    List<PartitionInfo> parts = source.partitions();
    long nanos = System.nanoTime() - t0;
    long alloc = threads.getThreadAllocatedBytes(tid) - alloc0;
    List<OffsetRange> ranges = new ArrayList<>();
    for (PartitionInfo p : parts) {
      long from = positions.getOrDefault(p.id(), p.initialPosition().toLong());
      ranges.add(new OffsetRange(p.id(), from, p.endPosition().toLong()));
      positions.put(p.id(), p.endPosition().toLong());
    }
    source.onBatchCommitted(batchId++, ranges);
    FileSource.ListingStats st = source.lastListing();
    return new double[] {
      nanos / 1e6, alloc / 1e6, st.filesListed() + st.directoriesListed(), 0, st.newFiles()
    };
  }

  /** Spark-style: list everything below {@code dir} again and keep every path ever seen. */
  private double[] relist(FileSystem fs, org.apache.hadoop.fs.Path dir, Set<String> seen)
      throws IOException {
    long tid = Thread.currentThread().getId();
    long alloc0 = threads.getThreadAllocatedBytes(tid);
    long t0 = System.nanoTime();
    long[] listed = new long[1];
    List<FileStatus> found = new ArrayList<>();
    relistInto(fs, dir, seen, found, listed);
    long nanos = System.nanoTime() - t0;
    long alloc = threads.getThreadAllocatedBytes(tid) - alloc0;
    return new double[] {nanos / 1e6, alloc / 1e6, listed[0], 0, found.size()};
  }

  private static void relistInto(
      FileSystem fs,
      org.apache.hadoop.fs.Path dir,
      Set<String> seen,
      List<FileStatus> found,
      long[] listed)
      throws IOException {
    RemoteIterator<FileStatus> it = fs.listStatusIterator(dir);
    while (it.hasNext()) {
      FileStatus s = it.next();
      listed[0]++;
      if (s.isDirectory()) {
        relistInto(fs, s.getPath(), seen, found, listed);
      } else if (seen.add(s.getPath().toString())) {
        found.add(s);
      }
    }
  }

  private static void addNewFiles(Path staging, Path target, int cycle, List<Path> created)
      throws IOException {
    Files.createDirectories(target);
    for (int i = 0; i < NEW_PER_CYCLE; i++) {
      String name = String.format("zz-new-%03d-%03d.txt", cycle, i); // sorts after the old names
      Path t = staging.resolve(name);
      Files.writeString(t, "new line\n");
      created.add(Files.move(t, target.resolve(name), StandardCopyOption.ATOMIC_MOVE));
    }
  }

  private static void createOldFiles(Path dir, boolean partitioned, int n) throws IOException {
    Path marker = dir.resolve("_complete");
    if (Files.exists(marker)) {
      return;
    }
    deleteRecursively(dir);
    Files.createDirectories(dir);
    System.out.printf("creating %,d old files in %s ...%n", n, dir);
    LocalDateTime start =
        LocalDateTime.of(2026, 11, 24, 0, 0)
            .minusHours((n + FILES_PER_HOUR - 1) / FILES_PER_HOUR + 48);
    byte[] content = "old line\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    for (int i = 0; i < n; i++) {
      LocalDateTime hour = start.plusHours(i / FILES_PER_HOUR);
      Path d =
          partitioned
              ? dir.resolve("date=" + hour.format(DAY))
                  .resolve(String.format("hour=%02d", hour.getHour()))
              : dir;
      if (i % FILES_PER_HOUR == 0) {
        Files.createDirectories(d);
      }
      Path f = Files.write(d.resolve(String.format("old-%07d.txt", i)), content);
      Files.setLastModifiedTime(f, FileTime.from(hour.toInstant(ZoneOffset.UTC)));
    }
    Files.writeString(marker, Instant.now().toString()); // '_' names are ignored by the source
  }

  private static SourceContext context(MeterRegistry registry, CheckpointStorage state) {
    return new SourceContext() {
      @Override
      public String pipelineId() {
        return "bench";
      }

      @Override
      public String sourceName() {
        return "files";
      }

      @Override
      public MeterRegistry meterRegistry() {
        return registry;
      }

      @Override
      public CheckpointStorage stateStorage() {
        return state;
      }
    };
  }

  private static Figures median(List<double[]> rows) {
    double[] m = new double[5];
    for (int k = 0; k < 5; k++) {
      final int col = k;
      double[] v = rows.stream().mapToDouble(r -> r[col]).sorted().toArray();
      m[k] = v[v.length / 2];
    }
    return new Figures(m[0], m[1], (long) m[2], (long) m[3], (long) m[4]);
  }

  private static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }
}
