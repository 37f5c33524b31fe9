package io.tributary.connector.file.internal.source;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.DistributedFileSystem;

/**
 * The completeness guard ({@code stable-for}) for writers that write a file in place under its
 * final name: a new file is admitted only once its length and modification time are what they were
 * at an observation at least {@code stable-for} earlier, and, on HDFS, once the NameNode says it is
 * closed (the length of an HDFS file under construction lags its writes).
 *
 * <p>Observations are kept in memory only, per path, for files found but not yet admitted; a path
 * that is no longer a candidate (renamed away, deleted, admitted) is forgotten. After a restart a
 * file simply waits {@code stable-for} again.
 *
 * <p>With ordered file names a held file also holds back every later name of its directory: the
 * fast listing only looks after the greatest name admitted, so admitting a later name first would
 * skip the held one.
 *
 * <p>Thread safety: not thread-safe; used by the batch thread under the {@link FileIndex} lock.
 */
final class StabilityGuard {
  private record Observation(long length, long mtime, long sinceMillis) {}

  private final FileSystem fs;
  private final long stableForMillis;
  private final boolean orderedNames;
  private final Clock clock;
  private final Map<String, Observation> observed = new HashMap<>();

  StabilityGuard(FileSystem fs, long stableForMillis, boolean orderedNames, Clock clock) {
    this.fs = fs;
    this.stableForMillis = stableForMillis;
    this.orderedNames = orderedNames;
    this.clock = clock;
  }

  boolean enabled() {
    return stableForMillis > 0;
  }

  /** Files waiting for stability after the last cycle. */
  int waiting() {
    return observed.size();
  }

  /** The candidates that are stable, in their order; the others are observed for the next cycle. */
  List<DirectoryScanner.Candidate> stable(List<DirectoryScanner.Candidate> candidates)
      throws IOException {
    if (!enabled()) {
      return candidates;
    }
    long now = clock.millis();
    List<DirectoryScanner.Candidate> ready = new ArrayList<>(candidates.size());
    Set<String> current = new HashSet<>();
    Map<String, String> heldFrom = new HashMap<>(); // directory -> smallest held name
    for (DirectoryScanner.Candidate c : candidates) {
      FileStatus s = c.status();
      String path = c.path();
      current.add(path);
      Observation o = observed.get(path);
      if (o == null || o.length() != s.getLen() || o.mtime() != s.getModificationTime()) {
        observed.put(path, new Observation(s.getLen(), s.getModificationTime(), now));
        hold(heldFrom, c);
        continue;
      }
      if (now - o.sinceMillis() < stableForMillis || !closed(c)) {
        hold(heldFrom, c);
        continue;
      }
      ready.add(c);
    }
    observed.keySet().retainAll(current);
    if (orderedNames && !heldFrom.isEmpty()) {
      ready.removeIf(
          c -> {
            String held = heldFrom.get(dir(c.path()));
            return held != null && name(c.path()).compareTo(held) > 0;
          });
    }
    for (DirectoryScanner.Candidate c : ready) {
      observed.remove(c.path());
    }
    return ready;
  }

  private boolean closed(DirectoryScanner.Candidate c) throws IOException {
    if (fs instanceof DistributedFileSystem dfs) {
      try {
        return dfs.isFileClosed(c.status().getPath());
      } catch (FileNotFoundException gone) {
        return false; // renamed away or deleted since the listing: not a candidate next cycle
      }
    }
    return true;
  }

  private static void hold(Map<String, String> heldFrom, DirectoryScanner.Candidate c) {
    heldFrom.merge(dir(c.path()), name(c.path()), (a, b) -> a.compareTo(b) <= 0 ? a : b);
  }

  private static String dir(String path) {
    int slash = path.lastIndexOf('/');
    return slash <= 0 ? path : path.substring(0, slash);
  }

  private static String name(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
