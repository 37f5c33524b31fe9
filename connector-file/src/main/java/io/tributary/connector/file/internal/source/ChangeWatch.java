package io.tributary.connector.file.internal.source;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Detection after admission ({@code on-change}): every file admitted by this process is looked at
 * again (one status call) at each listing cycle for {@code watch-changes-for}, and a length or
 * modification time other than the admitted one is reported once per new state of the file.
 *
 * <p>In memory only: after a restart, files admitted before are not watched again. A file deleted
 * or moved away (clean-source, a user) is simply no longer watched.
 *
 * <p>Thread safety: not thread-safe; used by the batch thread under the {@link FileIndex} lock.
 */
final class ChangeWatch {
  /** What changed. */
  enum Kind {
    /** Longer than admitted: bytes were appended (or the file was rewritten longer). */
    GREW,
    /** Shorter, or the same length with another modification time: rewritten or truncated. */
    REWRITTEN,
    /**
     * Not a change: a file whose admitted range held back a trailing partial line was unchanged for
     * stable-for after its admission, so it is known complete and that line can be emitted.
     */
    COMPLETE
  }

  /** A change seen in this cycle. */
  record Change(Kind kind, FileEntry admitted, FileStatus now) {}

  private record Watched(
      FileEntry entry,
      long sinceMillis,
      long pendingLength,
      long pendingMtime,
      long pendingSince) {}

  private final FileSystem fs;
  private final long watchForMillis;
  private final long stableGrowthMillis;
  private final long completeAfterMillis;
  private final Clock clock;
  private final Map<String, Watched> watched = new LinkedHashMap<>();

  /**
   * @param stableGrowthMillis with read-appended: a file that grew is reported once its new length
   *     and modification time were stable this long (the completeness guard for appended bytes); -1
   *     reports every change at once
   */
  ChangeWatch(FileSystem fs, long watchForMillis, long stableGrowthMillis, Clock clock) {
    this(fs, watchForMillis, stableGrowthMillis, 0, clock);
  }

  /**
   * @param completeAfterMillis how long a file whose admitted range held back a trailing partial
   *     line must stay unchanged after admission to be known complete ({@link Kind#COMPLETE})
   */
  ChangeWatch(
      FileSystem fs,
      long watchForMillis,
      long stableGrowthMillis,
      long completeAfterMillis,
      Clock clock) {
    this.completeAfterMillis = completeAfterMillis;
    this.fs = fs;
    this.watchForMillis = watchForMillis;
    this.stableGrowthMillis = stableGrowthMillis;
    this.clock = clock;
  }

  /** Starts (or renews) watching the file of {@code e}, as admitted now. */
  void admitted(FileEntry e) {
    if (watchForMillis <= 0 || !e.isLastSplit()) {
      return;
    }
    watched.put(
        e.path(), new Watched(e, clock.millis(), e.length(), e.modificationTime(), clock.millis()));
  }

  /**
   * Goes on watching a file as {@code e} (its held-back last line was dealt with), within the watch
   * time that started at its admission.
   */
  void replace(FileEntry e) {
    Watched w = watched.get(e.path());
    if (w == null) {
      admitted(e);
      return;
    }
    watched.put(
        e.path(),
        new Watched(e, w.sinceMillis(), e.length(), e.modificationTime(), w.pendingSince()));
  }

  /** Stops watching a file (it was cleaned, or a policy gave up on it). */
  void forget(String path) {
    watched.remove(path);
  }

  int size() {
    return watched.size();
  }

  /**
   * One status call per watched file; files past the watch time are dropped. Each change is
   * reported once: the next report for the same file needs another length or modification time.
   */
  List<Change> check() throws IOException {
    List<Change> out = new ArrayList<>();
    long now = clock.millis();
    for (Iterator<Map.Entry<String, Watched>> it = watched.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Watched> en = it.next();
      Watched w = en.getValue();
      boolean pending =
          w.pendingLength() != w.entry().length()
              || w.pendingMtime() != w.entry().modificationTime();
      if (now - w.sinceMillis() >= watchForMillis && !pending && !w.entry().partialTail()) {
        it.remove();
        continue;
      }
      FileStatus s;
      try {
        s = fs.getFileStatus(new Path(w.entry().path()));
      } catch (FileNotFoundException gone) {
        it.remove();
        continue;
      }
      FileEntry e = w.entry();
      if (s.getLen() == e.length() && s.getModificationTime() == e.modificationTime()) {
        if (e.partialTail() && now - w.sinceMillis() >= completeAfterMillis) {
          out.add(new Change(Kind.COMPLETE, e, s)); // the caller renews or ends the watch
        }
        continue;
      }
      Kind kind = s.getLen() > e.length() ? Kind.GREW : Kind.REWRITTEN;
      if (kind == Kind.GREW && stableGrowthMillis >= 0) {
        if (s.getLen() != w.pendingLength() || s.getModificationTime() != w.pendingMtime()) {
          en.setValue(new Watched(e, w.sinceMillis(), s.getLen(), s.getModificationTime(), now));
          if (stableGrowthMillis > 0) {
            continue;
          }
        } else if (now - w.pendingSince() < stableGrowthMillis) {
          continue;
        }
      }
      out.add(new Change(kind, e, s));
    }
    return out;
  }
}
