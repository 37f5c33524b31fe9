package io.tributary.connector.file.internal.source;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listing cycle of one monitored path: expands its glob, lists the matched directories (and,
 * when recursive, their subdirectories), and returns the complete files not seen before and inside
 * the horizon, oldest first.
 *
 * <p>Completion rule: a file counts once it is visible under its final name. Names that tools use
 * while writing are ignored: starting with {@code .} or {@code _}, ending with {@code .tmp}, {@code
 * ._COPYING_} (hdfs dfs -put) or {@code .inprogress}. On object stores an object exists only once
 * its upload completed.
 *
 * <p>Cost: with {@code ordered-partitions} only directories that sort at or after the newest
 * partition seen, or that received a file inside the horizon, or that held files waiting for
 * admission, are listed; their older siblings appear as one directory entry each in their parent's
 * listing and are never opened. Nothing per old file is kept.
 *
 * <p>With an {@link HdfsInotifyWatch} (hdfs-inotify) only the first cycle, and a cycle after lost
 * events, lists; the others look at the paths the NameNode's events name and at the last cycle's
 * candidates (which admission may have held back), with the same completion rule, filters and
 * horizon, and without partition pruning.
 *
 * <p>Thread safety: not thread-safe; used by the batch thread under the {@link FileIndex} lock.
 */
final class DirectoryScanner {
  private static final Logger LOG = LoggerFactory.getLogger(DirectoryScanner.class);

  /** A file found and not seen before. */
  record Candidate(FileStatus status, String root, boolean late) {
    String path() {
      return status.getPath().toString();
    }
  }

  /** What a cycle found and what it cost. */
  record Result(
      List<Candidate> candidates,
      long filesListed,
      long directoriesListed,
      long directoriesPruned,
      long ignoredOld) {}

  private final FileSystem fs;
  private final Path pattern;
  private final PathMatcher nameFilter;
  private final boolean recursive;
  private final boolean ordered;
  private final boolean orderedNames;

  /** age-by discovery-time: the horizon measures when a file was first seen, not its mtime. */
  private boolean ageByDiscovery;

  private java.time.Clock clock = java.time.Clock.systemUTC();

  /** Told about every file ignored for its age (it decides what to count and log). */
  private java.util.function.BiConsumer<FileStatus, Long> onTooOld = (s, t) -> {};

  /** A directory that could not be listed for lack of permission. */
  interface DirectoryDenied {
    /** Skips the directory (counted, listed again next cycle) or throws to fail the cycle. */
    void denied(Path dir, IOException e);
  }

  private DirectoryDenied onDirectoryDenied =
      (dir, e) -> {
        throw new java.io.UncheckedIOException(e);
      };

  /**
   * Told about every entry skipped for what it is, with a reason ({@code symlink}, {@code
   * link-loop}, {@code dangling-link}, {@code unrepresentable-name}: local; {@code
   * directory-vanished}: any file system) and its path.
   */
  private java.util.function.BiConsumer<String, String> onIgnoredEntry = (r, p) -> {};

  /** follow-links: local symbolic links are followed (else skipped). */
  private boolean followLinks;

  /** follow-links: identities of the directories being walked (a link back to one is a loop). */
  private final java.util.ArrayDeque<Object> walkStack = new java.util.ArrayDeque<>();

  /** follow-links: directories walked and files found in this cycle, by identity. */
  private final Set<Object> visitedDirs = new java.util.HashSet<>();

  private final Set<Object> filesFound = new java.util.HashSet<>();

  /** follow-links: the real path of each monitored root, for mapping link targets below it. */
  private final java.util.Map<String, java.nio.file.Path> realRoots = new java.util.HashMap<>();

  /** Told about every file that is not a regular file (FIFO, socket, device), before any open. */
  private java.util.function.Consumer<FileStatus> onNotRegular = s -> {};

  /** The time of the current cycle (age-by discovery-time). */
  private long cycleMillis;

  /** Whether the next cycle is a reconciliation listing. */
  private boolean reconcileNext;

  /** Whether the current cycle is a reconciliation listing: no start-after, no pruning. */
  private boolean reconciling;

  /** In a reconciliation: walking a directory that the fast listing prunes. */
  private boolean lateScope;

  /** In a reconciliation: the entry at hand has a name the fast listing skips. */
  private boolean lateName;

  /** The local file system: listed by name (java.nio), statuses only for names that may be new. */
  private final boolean local;

  /**
   * Directories that held candidates not yet admitted in the last cycle (listed again even if
   * pruning says no).
   */
  private TreeSet<String> pendingDirs = new TreeSet<>();

  /**
   * With hdfs-inotify: the NameNode's event stream; {@code null} when directories are listed every
   * cycle.
   */
  private final HdfsInotifyWatch watch;

  /**
   * With hdfs-inotify: whether the next cycle must list every directory (first cycle, or events
   * were lost).
   */
  private boolean listNext = true;

  /**
   * With hdfs-inotify: whether the stream failed and must be reopened (then every directory is
   * listed).
   */
  private boolean restartNext;

  /**
   * With hdfs-inotify: candidates of the last cycle, looked at again (they may not all have been
   * admitted).
   */
  private Set<String> pendingPaths = new LinkedHashSet<>();

  /**
   * The pattern's path split into components (for matching event paths), and its part before the
   * first glob.
   */
  private final String[] patternParts;

  private final PathMatcher[] patternMatchers;
  private final String patternStaticPrefix;

  /**
   * Whether the current cycle works from events (no partition pruning: events say exactly what is
   * new).
   */
  private boolean eventCycle;

  DirectoryScanner(
      FileSystem fs,
      Path pattern,
      String fileGlob,
      boolean recursive,
      boolean ordered,
      boolean orderedNames) {
    this(fs, pattern, fileGlob, recursive, ordered, orderedNames, null);
  }

  /**
   * @param watch the HDFS inotify stream of {@code fs} (hdfs-inotify), or {@code null} to list
   *     directories each cycle
   */
  DirectoryScanner(
      FileSystem fs,
      Path pattern,
      String fileGlob,
      boolean recursive,
      boolean ordered,
      boolean orderedNames,
      HdfsInotifyWatch watch) {
    this.fs = fs;
    this.watch = watch;
    String p = pattern.toUri().getPath();
    this.patternParts = p.equals("/") ? new String[0] : p.substring(1).split("/");
    this.patternMatchers = new PathMatcher[patternParts.length];
    StringBuilder prefix = new StringBuilder("/");
    boolean literal = true;
    for (int i = 0; i < patternParts.length; i++) {
      patternMatchers[i] = FileSystems.getDefault().getPathMatcher("glob:" + patternParts[i]);
      if (literal && !hasGlob(patternParts[i])) {
        prefix.append(patternParts[i]).append('/');
      } else {
        literal = false;
      }
    }
    this.patternStaticPrefix = prefix.toString();
    this.pattern = pattern;
    this.nameFilter = FileSystems.getDefault().getPathMatcher("glob:" + fileGlob);
    this.recursive = recursive;
    this.ordered = ordered;
    this.orderedNames = orderedNames;
    this.local = "file".equals(fs.getUri().getScheme());
  }

  /**
   * Whether a file or directory name marks something still being written or not meant to be read.
   */
  static boolean isHiddenOrInProgress(String name) {
    return name.startsWith(".")
        || name.startsWith("_")
        || name.endsWith(".tmp")
        || name.endsWith("._COPYING_")
        || name.endsWith(".inprogress");
  }

  /** age-by discovery-time with the source's clock. */
  DirectoryScanner ageByDiscovery(java.time.Clock clock) {
    this.ageByDiscovery = true;
    this.clock = clock;
    return this;
  }

  /** What happens to a directory that cannot be listed for lack of permission. */
  DirectoryScanner onDirectoryDenied(DirectoryDenied handler) {
    this.onDirectoryDenied = handler;
    return this;
  }

  /** Where entries that are not regular files are reported (they are never opened). */
  DirectoryScanner onNotRegular(java.util.function.Consumer<FileStatus> sink) {
    this.onNotRegular = sink;
    return this;
  }

  /** Where local entries skipped for what they are (links, loops, undecodable names) go. */
  DirectoryScanner onIgnoredEntry(java.util.function.BiConsumer<String, String> sink) {
    this.onIgnoredEntry = sink;
    return this;
  }

  /** follow-links: follow local symbolic links, with loop detection by file identity. */
  DirectoryScanner followLinks(boolean follow) {
    this.followLinks = follow;
    return this;
  }

  /**
   * identity content: a remembered path that was read is looked at again (its status), and returned
   * as a candidate when its length or modification time differs from what was read: the caller
   * compares its fingerprint.
   */
  DirectoryScanner contentIdentity(boolean on) {
    this.contentIdentity = on;
    return this;
  }

  /** identity content: remembered paths read before are checked for replacement. */
  private boolean contentIdentity;

  /** Where files ignored for their age are reported (with the cycle's threshold). */
  DirectoryScanner onTooOld(java.util.function.BiConsumer<FileStatus, Long> sink) {
    this.onTooOld = sink;
    return this;
  }

  /** Makes the next cycle a reconciliation listing (ordered names and partitions only). */
  void reconcileNext() {
    if (orderedNames || ordered) {
      reconcileNext = true;
    }
  }

  /** Whether the last cycle was a reconciliation listing. */
  boolean reconciled() {
    return reconciling;
  }

  /**
   * With ordered file names: the last names seen per directory as they were when the previous cycle
   * started ({@code null} before the first cycle of this process).
   */
  private java.util.Map<String, String> marksAtLastCycleStart;

  /**
   * With ordered file names: the names this cycle skips, per directory (at or before the mark).
   * These are the marks of the cycle before the last, not the last cycle's own: a listing is not a
   * snapshot, and a name renamed in while it ran may be missing from it although a later name,
   * renamed in after it, is there (a hash-ordered local directory, or an HDFS/S3 listing already
   * past that name's page). Every name at or before a mark taken when the previous cycle started
   * was in the directory before that cycle's listing ended (names arrive in order), so the last
   * cycle's listing, or one before it, returned it; names between that mark and the newest one are
   * remembered, which costs a set lookup, not a status call.
   */
  private java.util.Map<String, String> cycleMarks = java.util.Map.of();

  Result scan(PartitionState st, long threshold) throws IOException {
    cycleMillis = clock.millis();
    if (orderedNames) {
      cycleMarks = marksAtLastCycleStart == null ? java.util.Map.of() : marksAtLastCycleStart;
      marksAtLastCycleStart = new java.util.HashMap<>(st.lastNames);
    }
    reconciling = reconcileNext && watch == null;
    reconcileNext = false;
    visitedDirs.clear();
    filesFound.clear();
    realRoots.clear();
    if (watch == null) {
      return list(st, threshold);
    }
    if (restartNext) {
      watch.restart();
      restartNext = false;
      listNext = true;
    }
    if (!listNext) {
      Set<String> changed;
      try {
        changed = watch.poll();
      } catch (IOException e) {
        restartNext =
            true; // the position in the stream is not trusted any more: restart and list next cycle
        throw e;
      }
      if (changed != null) {
        return fromEvents(st, threshold, changed);
      }
      LOG.warn(
          "event=files_inotify_events_lost path={} action=relist reason=\"the NameNode no longer has the edits after"
              + " the last event read (purged); every directory is listed once\"",
          pattern);
      watch.restart();
    }
    return relisted(st, threshold);
  }

  /**
   * A full listing with the stream open from before it on, so nothing changed after the listing is
   * missed.
   */
  private Result relisted(PartitionState st, long threshold) throws IOException {
    Result r = list(st, threshold);
    listNext = false;
    pendingPaths = new LinkedHashSet<>();
    for (Candidate cand : r.candidates()) {
      pendingPaths.add(cand.status().getPath().toUri().getPath());
    }
    return r;
  }

  /**
   * hdfs-inotify: looks only at the paths that events name (and at last cycle's candidates, which
   * may not all have been admitted): a file is considered as a listing would have; a directory
   * renamed into place is listed.
   */
  private Result fromEvents(PartitionState st, long threshold, Set<String> changed)
      throws IOException {
    Counters c = new Counters();
    List<Candidate> out = new ArrayList<>();
    TreeSet<String> nextPending = new TreeSet<>();
    Set<String> paths = new LinkedHashSet<>(pendingPaths);
    paths.addAll(changed);
    eventCycle = true;
    try {
      for (String p : paths) {
        if (!p.startsWith(patternStaticPrefix) && !patternStaticPrefix.startsWith(p + "/")) {
          continue; // elsewhere in the namespace
        }
        String[] parts = p.substring(1).split("/");
        int rootDepth = rootDepth(parts);
        if (rootDepth == ANCESTOR && isDirectory(new Path(p))) {
          // a directory above the monitored ones was renamed into place: what it holds came without
          // events
          LOG.info(
              "event=files_inotify_relist path={} reason=\"{} was renamed into place\"",
              pattern,
              p);
          eventCycle = false;
          return relisted(st, threshold);
        }
        if (rootDepth < 0) {
          continue;
        }
        Path path = fs.makeQualified(new Path(p));
        if (st.seen.containsKey(path.toString())
            && !(contentIdentity && st.content.containsKey(path.toString()))) {
          continue; // admitted in an earlier cycle (a candidate looked at again, or an event for a
          // file seen): no RPC
        }
        FileStatus s;
        try {
          s = fs.getFileStatus(path);
        } catch (FileNotFoundException gone) {
          continue; // renamed away or deleted since
        }
        Path root = s.getPath();
        for (int i = parts.length; i > rootDepth; i--) {
          root = root.getParent();
        }
        String rootId = root.toString();
        if (s.isFile() && rootDepth == parts.length) {
          // the pattern matches the file itself (e.g. /in/*.csv): its directory is the root, as in
          // a listing
          Path parent = s.getPath().getParent();
          consider(
              st,
              s,
              parent == null ? s.getPath().toString() : parent.toString(),
              threshold,
              out,
              nextPending,
              c);
          continue;
        }
        StringBuilder rel = new StringBuilder();
        for (int i = rootDepth; i < parts.length - 1; i++) {
          rel.append(rel.length() == 0 ? "" : "/").append(parts[i]);
        }
        int depth = parts.length - 1 - rootDepth;
        if (rootDepth == parts.length) {
          // a monitored directory itself was renamed into place (a glob such as /in/* matches it):
          // list it
          walk(st, s.getPath(), rootId, "", 0, threshold, out, nextPending, c);
        } else if (s.isDirectory()) {
          if (recursive) {
            String childRel =
                rel.length() == 0 ? parts[parts.length - 1] : rel + "/" + parts[parts.length - 1];
            walk(st, s.getPath(), rootId, childRel, depth + 1, threshold, out, nextPending, c);
          }
        } else if (s.isFile() && (recursive || depth == 0)) {
          consider(st, s, rootId, threshold, out, nextPending, c);
        }
      }
    } finally {
      eventCycle = false;
    }
    Set<String> nextPaths = new LinkedHashSet<>();
    for (Candidate cand : out) {
      nextPaths.add(cand.status().getPath().toUri().getPath());
    }
    pendingPaths = nextPaths;
    pendingDirs = nextPending;
    return sorted(out, c);
  }

  /**
   * The number of leading components of {@code parts} that form a monitored directory (or the
   * matched file itself, when that equals {@code parts.length}), or -1 if the path is not under the
   * pattern, or a directory or file name between the monitored directory and the file is hidden or
   * in progress; {@link #ANCESTOR} if it is a directory above the monitored directories (renamed
   * into place with them inside).
   */
  private int rootDepth(String[] parts) {
    int n = patternParts.length;
    if (parts.length < n) {
      for (int i = 0; i < parts.length; i++) {
        if (!matches(patternMatchers[i], parts[i])) {
          return -1;
        }
      }
      return ANCESTOR;
    }
    for (int i = 0; i < n; i++) {
      if (!matches(patternMatchers[i], parts[i])) {
        return -1;
      }
    }
    for (int i = n; i < parts.length; i++) {
      if (isHiddenOrInProgress(parts[i])) {
        return -1;
      }
    }
    return n;
  }

  private boolean isDirectory(Path p) throws IOException {
    try {
      return fs.getFileStatus(p).isDirectory();
    } catch (FileNotFoundException gone) {
      return false;
    }
  }

  private static boolean matches(PathMatcher m, String name) {
    try {
      return m.matches(java.nio.file.Path.of(name));
    } catch (InvalidPathException e) {
      return false;
    }
  }

  private static boolean hasGlob(String s) {
    for (char ch : new char[] {'*', '?', '[', '{', '\\'}) {
      if (s.indexOf(ch) >= 0) {
        return true;
      }
    }
    return false;
  }

  private static final int ANCESTOR = -2;

  /**
   * Lists every matched directory (the only way without hdfs-inotify, and its first cycle with it).
   */
  private Result list(PartitionState st, long threshold) throws IOException {
    Counters c = new Counters();
    List<Candidate> out = new ArrayList<>();
    TreeSet<String> nextPending = new TreeSet<>();
    FileStatus[] matches = fs.globStatus(pattern);
    if (matches != null) {
      for (FileStatus m : matches) {
        if (m.isDirectory()) {
          String root = m.getPath().toString();
          walk(st, m.getPath(), root, "", 0, threshold, out, nextPending, c);
        } else if (m.isFile()) {
          Path parent = m.getPath().getParent();
          consider(
              st,
              m,
              parent == null ? m.getPath().toString() : parent.toString(),
              threshold,
              out,
              nextPending,
              c);
        }
      }
    }
    pendingDirs = nextPending;
    return sorted(out, c);
  }

  private Result sorted(List<Candidate> out, Counters c) {
    if (orderedNames) {
      // names sort in arrival order: admitted in name order, so files held back by
      // max-files-per-batch all sort after those admitted, and the mark never passes them
      out.sort(Comparator.comparing(Candidate::path));
    } else {
      out.sort(
          Comparator.comparingLong((Candidate x) -> x.status().getModificationTime())
              .thenComparing(Candidate::path));
    }
    return new Result(out, c.files, c.dirs, c.pruned, c.old);
  }

  private void walk(
      PartitionState st,
      Path dir,
      String root,
      String rel,
      int depth,
      long threshold,
      List<Candidate> out,
      TreeSet<String> nextPending,
      Counters c)
      throws IOException {
    String after = orderedNames ? cycleMarks.get(dir.toString()) : null;
    if (local) {
      walkLocal(st, dir, root, rel, depth, threshold, out, nextPending, c, after);
      return;
    }
    try {
      walkRemote(st, dir, root, rel, depth, threshold, out, nextPending, c, after);
    } catch (org.apache.hadoop.security.AccessControlException
        | java.nio.file.AccessDeniedException e) {
      onDirectoryDenied.denied(
          dir, e); // this directory's own listing (subdirectories catch theirs)
    }
  }

  private void walkRemote(
      PartitionState st,
      Path dir,
      String root,
      String rel,
      int depth,
      long threshold,
      List<Candidate> out,
      TreeSet<String> nextPending,
      Counters c,
      String after)
      throws IOException {
    RemoteIterator<FileStatus> it;
    String listAfter = reconciling ? null : after;
    try {
      if (listAfter != null && fs instanceof DistributedFileSystem dfs) {
        it = HdfsListing.after(dfs, dir, listAfter);
      } else if (listAfter != null && fs instanceof S3AFileSystem s3a) {
        it = S3Listing.after(s3a, dir, listAfter);
      } else {
        it = fs.listStatusIterator(dir);
      }
    } catch (FileNotFoundException e) {
      vanished(dir, depth); // removed since its parent was listed
      return;
    }
    c.dirs++;
    String hw = st.highWater.get(root);
    while (true) {
      FileStatus s;
      try {
        if (!it.hasNext()) {
          break;
        }
        s = it.next();
      } catch (FileNotFoundException e) {
        vanished(dir, depth); // removed while its listing was read (a paged listing)
        return;
      }
      String name = s.getPath().getName();
      if (isHiddenOrInProgress(name)) {
        continue;
      }
      boolean older = after != null && name.compareTo(after) <= 0;
      if (older && !reconciling) {
        c.files++;
        continue; // ordered file names: seen before, or a late file under an older name (found by
        // the next reconciliation)
      }
      lateName = lateName(st, dir, name);
      try {
        entry(st, s, root, rel, depth, threshold, out, nextPending, c, hw);
      } finally {
        lateName = false;
      }
    }
  }

  /**
   * A subdirectory that vanished between its parent's listing and its own (a writer's temporary
   * directory, a partition cleaned up): bad input, never a failure; reported (counted and logged
   * once per path), and listed again if it is there at the next cycle. A monitored directory that
   * does not exist is not reported: it may not have been created yet.
   */
  private void vanished(Path dir, int depth) {
    if (depth > 0) {
      onIgnoredEntry.accept("directory-vanished", dir.toString());
    }
  }

  /**
   * In a reconciliation with ordered names: whether a name sorts at or before the greatest name
   * admitted in its directory, so that the fast listing would never look at it (a late file).
   */
  private boolean lateName(PartitionState st, Path dir, String name) {
    if (!reconciling || !orderedNames) {
      return false;
    }
    String last = st.lastNames.get(dir.toString());
    return last != null && name.compareTo(last) <= 0;
  }

  /** A listed entry that passed the name checks: descend into a directory, consider a file. */
  private void entry(
      PartitionState st,
      FileStatus s,
      String root,
      String rel,
      int depth,
      long threshold,
      List<Candidate> out,
      TreeSet<String> nextPending,
      Counters c,
      String hw)
      throws IOException {
    String name = s.getPath().getName();
    if (s.isDirectory()) {
      if (!recursive) {
        return;
      }
      String childRel = rel.isEmpty() ? name : rel + "/" + name;
      if (ordered
          && !eventCycle
          && hw != null
          && PartitionPaths.compare(childRel, PartitionPaths.prefix(hw, depth + 1)) < 0) {
        String full = s.getPath().toString();
        if (!holds(st.activeDirs.navigableKeySet(), full) && !holds(pendingDirs, full)) {
          if (!reconciling) {
            c.pruned++;
            return;
          }
          boolean outer = lateScope;
          lateScope = true; // an older partition: what it holds the fast listing does not look for
          try {
            walk(st, s.getPath(), root, childRel, depth + 1, threshold, out, nextPending, c);
          } finally {
            lateScope = outer;
          }
          return;
        }
      }
      walk(st, s.getPath(), root, childRel, depth + 1, threshold, out, nextPending, c);
    } else if (s.isFile()) {
      consider(st, s, root, threshold, out, nextPending, c);
    }
  }

  /**
   * The local file system: Hadoop's listing builds a qualified path and a {@link FileStatus} (a
   * stat call) for every entry, so the directory is read as names only ({@link DirectoryStream}),
   * and a status is asked for only where the name cannot decide: with ordered file names a name at
   * or before the last one seen is skipped, and a name already remembered is skipped in any case.
   * Paths stay Hadoop's qualified form (the status is Hadoop's own), so the paths in the checkpoint
   * are those of a Hadoop listing.
   */
  private void walkLocal(
      PartitionState st,
      Path dir,
      String root,
      String rel,
      int depth,
      long threshold,
      List<Candidate> out,
      TreeSet<String> nextPending,
      Counters c,
      String after)
      throws IOException {
    java.nio.file.Path nioDir;
    try {
      nioDir = java.nio.file.Path.of(dir.toUri());
    } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
      throw new IOException("Cannot list local directory " + dir + ": " + e.getMessage(), e);
    }
    String prefix = dir.toString().endsWith("/") ? dir.toString() : dir.toString() + "/";
    String hw = st.highWater.get(root);
    Object dirKey = null;
    if (followLinks) {
      try {
        dirKey = Files.readAttributes(nioDir, BasicFileAttributes.class).fileKey();
      } catch (NoSuchFileException | NotDirectoryException gone) {
        vanished(dir, depth);
        return;
      } catch (java.nio.file.AccessDeniedException e) {
        onDirectoryDenied.denied(dir, e);
        return;
      }
      if (dirKey != null && !visitedDirs.add(dirKey)) {
        return; // walked already in this cycle (reached under another path through a link)
      }
      walkStack.push(dirKey == null ? new Object() : dirKey);
    }
    try (DirectoryStream<java.nio.file.Path> stream = Files.newDirectoryStream(nioDir)) {
      c.dirs++;
      Iterable<java.nio.file.Path> names = stream;
      if (orderedNames) {
        // read in name order: only names after the mark are kept (the others cost a comparison)
        List<java.nio.file.Path> after1 = new ArrayList<>();
        for (java.nio.file.Path child : stream) {
          String name = child.getFileName().toString();
          if (!reconciling && after != null && name.compareTo(after) <= 0) {
            c.files++;
            continue;
          }
          after1.add(child);
        }
        after1.sort(Comparator.comparing(x -> x.getFileName().toString()));
        names = after1;
      }
      for (java.nio.file.Path child : names) {
        String name = child.getFileName().toString();
        if (isHiddenOrInProgress(name)) {
          continue;
        }
        if (!reconciling && after != null && name.compareTo(after) <= 0) {
          c.files++;
          continue; // ordered file names: seen before, or a late file under an older name (found
          // by the next reconciliation)
        }
        if (remembered(st, prefix + name) && !readBefore(st, prefix + name)) {
          c.files++;
          continue; // remembered: a file inside the horizon that was seen before (directories are
          // never remembered)
        }
        if (!recursive && !matchesName(name)) {
          c.files++;
          continue; // cannot be read, whatever it is (a directory is not read either without
          // recursive)
        }
        Path entryPath = new Path(dir, new Path(null, null, name));
        if (!nioDir.resolve(name).equals(child)) {
          // bytes that the JVM's file name charset (sun.jnu.encoding) cannot decode: no String
          // names this file, so no path could open it again
          onIgnoredEntry.accept("unrepresentable-name", child.toUri().toString());
          continue;
        }
        BasicFileAttributes attrs;
        try {
          attrs = Files.readAttributes(child, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException gone) {
          continue; // removed since the directory was read
        }
        if (attrs.isSymbolicLink()) {
          if (!followLinks) {
            onIgnoredEntry.accept("symlink", entryPath.toString());
            continue;
          }
          entryPath = followLink(child, root, entryPath);
          if (entryPath == null) {
            continue;
          }
        } else if (followLinks
            && attrs.isRegularFile()
            && attrs.fileKey() != null
            && !filesFound.add(attrs.fileKey())) {
          continue; // reached already in this cycle through a link
        }
        FileStatus s;
        try {
          s = fs.getFileStatus(entryPath);
        } catch (FileNotFoundException gone) {
          continue; // removed since the directory was read
        }
        lateName = lateName(st, dir, name);
        try {
          entry(st, s, root, rel, depth, threshold, out, nextPending, c, hw);
        } finally {
          lateName = false;
        }
      }
    } catch (NoSuchFileException | NotDirectoryException e) {
      vanished(dir, depth); // removed (or replaced) since its parent was listed
    } catch (java.nio.file.AccessDeniedException e) {
      onDirectoryDenied.denied(dir, e);
    } catch (DirectoryIteratorException e) {
      throw e.getCause();
    } finally {
      if (followLinks) {
        walkStack.pop();
      }
    }
  }

  /**
   * follow-links: the path to read or walk for a symbolic link, which is its target's own path
   * (below the monitored root's real path it is expressed under the root as configured), so a file
   * has one path however many links lead to it; {@code null} if the link dangles, leads back to a
   * directory being walked (a loop), or to a file or directory reached already in this cycle.
   */
  private Path followLink(java.nio.file.Path link, String root, Path linkPath) throws IOException {
    java.nio.file.Path real;
    BasicFileAttributes target;
    try {
      real = link.toRealPath();
      target = Files.readAttributes(real, BasicFileAttributes.class);
    } catch (NoSuchFileException | java.nio.file.FileSystemLoopException e) {
      onIgnoredEntry.accept("dangling-link", linkPath.toString());
      return null;
    }
    Object key = target.fileKey();
    if (target.isDirectory()) {
      if (key != null && walkStack.contains(key)) {
        onIgnoredEntry.accept("link-loop", linkPath.toString());
        return null;
      }
      if (key != null && visitedDirs.contains(key)) {
        return null; // walked already in this cycle under its own path
      }
    } else if (key != null && !filesFound.add(key)) {
      return null; // found already in this cycle under its own path
    }
    java.nio.file.Path realRoot = realRoots.get(root);
    if (realRoot == null) {
      realRoot = java.nio.file.Path.of(new Path(root).toUri()).toRealPath();
      realRoots.put(root, realRoot);
    }
    Path base;
    java.nio.file.Path rel;
    if (real.startsWith(realRoot)) {
      base = new Path(root);
      rel = realRoot.relativize(real);
    } else {
      base = fs.makeQualified(new Path("/"));
      rel = real.getRoot().relativize(real);
    }
    Path out = base;
    if (!rel.toString().isEmpty()) {
      for (java.nio.file.Path part : rel) {
        out = new Path(out, new Path(null, null, part.toString()));
      }
    }
    return out;
  }

  private void consider(
      PartitionState st,
      FileStatus s,
      String root,
      long threshold,
      List<Candidate> out,
      TreeSet<String> nextPending,
      Counters c) {
    c.files++;
    String name = s.getPath().getName();
    if (isHiddenOrInProgress(name) || !matchesName(name)) {
      return;
    }
    String path = s.getPath().toString();
    if (remembered(st, path)) {
      PartitionState.Content read = readBefore(st, path) ? st.content.get(path) : null;
      if (read == null || read.length() == s.getLen() && read.mtime() == s.getModificationTime()) {
        return; // the same path, unchanged since it was read
      }
      // identity content: changed since it was read; the caller compares its first bytes
    }
    if (!ageByDiscovery && s.getModificationTime() < threshold) {
      c.old++;
      onTooOld.accept(s, threshold);
      return;
    }
    if (local && !regular(s)) {
      onNotRegular.accept(s);
      return; // a FIFO would block the reading thread in open(); a device or socket is no file
    }
    out.add(new Candidate(s, root, reconciling && (lateScope || lateName)));
    Path parent = s.getPath().getParent();
    if (parent != null) {
      nextPending.add(parent.toString());
    }
  }

  /** identity content: whether the path was read (its content is known). */
  private boolean readBefore(PartitionState st, String path) {
    return contentIdentity && st.content.containsKey(path);
  }

  /**
   * Whether a path was seen inside the horizon. With age-by discovery-time a file still listed
   * stays remembered (its time is renewed), so it leaves the state only once it has been gone for
   * max-file-age, and is never taken for a new file.
   */
  private boolean remembered(PartitionState st, String path) {
    if (!ageByDiscovery) {
      return st.seen.containsKey(path);
    }
    Long t = st.seen.computeIfPresent(path, (k, v) -> Math.max(v, cycleMillis));
    if (t != null) {
      st.maxMtime = Math.max(st.maxMtime, cycleMillis);
      return true;
    }
    return false;
  }

  /**
   * Whether a local entry is a regular file (or a link to one): Hadoop's local status calls
   * anything that is not a directory a file, FIFOs included. Asked for new candidates only.
   */
  private static boolean regular(FileStatus s) {
    try {
      return java.nio.file.Files.readAttributes(
              java.nio.file.Path.of(s.getPath().toUri()),
              java.nio.file.attribute.BasicFileAttributes.class)
          .isRegularFile();
    } catch (IOException | RuntimeException e) {
      return true; // vanished or unreadable: the read reports it as bad input, as before
    }
  }

  /** The cycle's time (the discovery time of what it finds, with age-by discovery-time). */
  long cycleMillis() {
    return cycleMillis;
  }

  private boolean matchesName(String name) {
    try {
      return nameFilter.matches(java.nio.file.Path.of(name));
    } catch (InvalidPathException e) {
      return false;
    }
  }

  /** Whether {@code dir} or a directory below it is in {@code dirs}. */
  private static boolean holds(java.util.NavigableSet<String> dirs, String dir) {
    if (dirs.contains(dir)) {
      return true;
    }
    String below = dirs.ceiling(dir + "/");
    return below != null && below.startsWith(dir + "/");
  }

  private static final class Counters {
    long files;
    long dirs;
    long pruned;
    long old;
  }
}
