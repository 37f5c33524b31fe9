package io.tributary.connector.file.internal.source;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.apache.hadoop.hdfs.DistributedFileSystem;

/**
 * One listing cycle of one monitored path: expands its glob, lists the matched directories (and, when recursive, their
 * subdirectories), and returns the complete files not seen before and inside the horizon, oldest first.
 *
 * <p>Completion rule: a file counts once it is visible under its final name. Names that tools use while writing are
 * ignored: starting with {@code .} or {@code _}, ending with {@code .tmp}, {@code ._COPYING_} (hdfs dfs -put) or
 * {@code .inprogress}. On object stores an object exists only once its upload completed.
 *
 * <p>Cost: with {@code ordered-partitions} only directories that sort at or after the newest partition seen, or that
 * received a file inside the horizon, or that held files waiting for admission, are listed; their older siblings
 * appear as one directory entry each in their parent's listing and are never opened. Nothing per old file is kept.
 *
 * <p>Thread safety: not thread-safe; used by the batch thread under the {@link FileIndex} lock.
 */
final class DirectoryScanner {
  /** A file found and not seen before. */
  record Candidate(FileStatus status, String root) {
    String path() {
      return status.getPath().toString();
    }
  }

  /** What a cycle found and what it cost. */
  record Result(List<Candidate> candidates, long filesListed, long directoriesListed, long directoriesPruned,
      long ignoredOld) {}

  private final FileSystem fs;
  private final Path pattern;
  private final PathMatcher nameFilter;
  private final boolean recursive;
  private final boolean ordered;
  private final boolean orderedNames;
  /** The local file system: listed by name (java.nio), statuses only for names that may be new. */
  private final boolean local;
  /** Directories that held candidates not yet admitted in the last cycle (listed again even if pruning says no). */
  private TreeSet<String> pendingDirs = new TreeSet<>();

  DirectoryScanner(
      FileSystem fs, Path pattern, String fileGlob, boolean recursive, boolean ordered, boolean orderedNames) {
    this.fs = fs;
    this.pattern = pattern;
    this.nameFilter = FileSystems.getDefault().getPathMatcher("glob:" + fileGlob);
    this.recursive = recursive;
    this.ordered = ordered;
    this.orderedNames = orderedNames;
    this.local = "file".equals(fs.getUri().getScheme());
  }

  /** Whether a file or directory name marks something still being written or not meant to be read. */
  static boolean isHiddenOrInProgress(String name) {
    return name.startsWith(".")
        || name.startsWith("_")
        || name.endsWith(".tmp")
        || name.endsWith("._COPYING_")
        || name.endsWith(".inprogress");
  }

  Result scan(PartitionState st, long threshold) throws IOException {
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
          consider(st, m, parent == null ? m.getPath().toString() : parent.toString(), threshold, out, nextPending, c);
        }
      }
    }
    pendingDirs = nextPending;
    out.sort(
        Comparator.comparingLong((Candidate x) -> x.status().getModificationTime()).thenComparing(Candidate::path));
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
    String after = orderedNames ? st.lastNames.get(dir.toString()) : null;
    if (local) {
      walkLocal(st, dir, root, rel, depth, threshold, out, nextPending, c, after);
      return;
    }
    RemoteIterator<FileStatus> it;
    try {
      if (after != null && fs instanceof DistributedFileSystem dfs) {
        it = HdfsListing.after(dfs, dir, after);
      } else if (after != null && fs instanceof S3AFileSystem s3a) {
        it = S3Listing.after(s3a, dir, after);
      } else {
        it = fs.listStatusIterator(dir);
      }
    } catch (FileNotFoundException e) {
      return; // removed since its parent was listed
    }
    c.dirs++;
    String hw = st.highWater.get(root);
    while (it.hasNext()) {
      FileStatus s = it.next();
      String name = s.getPath().getName();
      if (isHiddenOrInProgress(name)) {
        continue;
      }
      if (after != null && name.compareTo(after) <= 0) {
        c.files++;
        continue; // ordered file names: seen before, or a late file under an older name (documented)
      }
      entry(st, s, root, rel, depth, threshold, out, nextPending, c, hw);
    }
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
      if (ordered && hw != null && PartitionPaths.compare(childRel, PartitionPaths.prefix(hw, depth + 1)) < 0) {
        String full = s.getPath().toString();
        if (!holds(st.activeDirs.navigableKeySet(), full) && !holds(pendingDirs, full)) {
          c.pruned++;
          return;
        }
      }
      walk(st, s.getPath(), root, childRel, depth + 1, threshold, out, nextPending, c);
    } else if (s.isFile()) {
      consider(st, s, root, threshold, out, nextPending, c);
    }
  }

  /**
   * The local file system: Hadoop's listing builds a qualified path and a {@link FileStatus} (a stat call) for every
   * entry, so the directory is read as names only ({@link DirectoryStream}), and a status is asked for only where the
   * name cannot decide: with ordered file names a name at or before the last one seen is skipped, and a name already
   * remembered is skipped in any case. Paths stay Hadoop's qualified form (the status is Hadoop's own), so the paths
   * in the checkpoint are those of a Hadoop listing.
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
    try (DirectoryStream<java.nio.file.Path> names = Files.newDirectoryStream(nioDir)) {
      c.dirs++;
      for (java.nio.file.Path child : names) {
        String name = child.getFileName().toString();
        if (isHiddenOrInProgress(name)) {
          continue;
        }
        if (after != null && name.compareTo(after) <= 0) {
          c.files++;
          continue; // ordered file names: seen before, or a late file under an older name (documented)
        }
        if (st.seen.containsKey(prefix + name)) {
          c.files++;
          continue; // remembered: a file inside the horizon that was seen before (directories are never remembered)
        }
        if (!recursive && !matchesName(name)) {
          c.files++;
          continue; // cannot be read, whatever it is (a directory is not read either without recursive)
        }
        FileStatus s;
        try {
          s = fs.getFileStatus(new Path(dir, new Path(null, null, name)));
        } catch (FileNotFoundException gone) {
          continue; // removed since the directory was read
        }
        entry(st, s, root, rel, depth, threshold, out, nextPending, c, hw);
      }
    } catch (NoSuchFileException | NotDirectoryException e) {
      // removed (or replaced) since its parent was listed
    } catch (DirectoryIteratorException e) {
      throw e.getCause();
    }
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
    if (s.getModificationTime() < threshold) {
      c.old++;
      return;
    }
    String path = s.getPath().toString();
    if (st.seen.containsKey(path)) {
      return;
    }
    out.add(new Candidate(s, root));
    Path parent = s.getPath().getParent();
    if (parent != null) {
      nextPending.add(parent.toString());
    }
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
