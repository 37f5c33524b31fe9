package io.tributary.connector.file.internal.source;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the source remembers about one partition (one monitored path): the admitted files not yet
 * committed and cleaned, every path seen inside the horizon, and what partition pruning needs.
 *
 * <p>Everything here is bounded by the horizon ({@code max-file-age}) and {@code
 * max-files-per-batch}, never by the number of old files: {@link #purge(long)} drops what fell out
 * of the horizon.
 *
 * <p>Thread safety: not thread-safe; {@link FileIndex} guards it.
 */
final class PartitionState {
  final String id;

  /** Whether the first listing happened (existing files were recorded or admitted). */
  boolean initialized;

  /** The next sequence number to give. */
  long nextSeq;

  /** Every offset below is committed (a lower bound: the truth may be ahead after a restart). */
  long committed;

  /**
   * In memory only: offsets below are taken as no longer waiting for a batch when admitting. Starts
   * at {@link #nextSeq} on load: the runtime plans nothing new before the batches in flight are
   * committed, so what was admitted before a restart is either committed or about to be replayed;
   * taking {@link #committed} (a stale lower bound) instead could block admission forever when no
   * batch remains to move it.
   */
  long admissionBase;

  /** Newest modification time seen; the horizon is {@code maxMtime - maxFileAge}. */
  long maxMtime = Long.MIN_VALUE;

  /** Admitted files with {@code seq >= committed} (and committed ones until they are cleaned). */
  final TreeMap<Long, FileEntry> entries = new TreeMap<>();

  /**
   * Path to modification time of every file seen inside the horizon (admitted or present at first
   * start).
   */
  final Map<String, Long> seen = new HashMap<>();

  /**
   * identity content: the content read under a path (its fingerprint, and the length and
   * modification time it had then), for every file read inside the horizon. A listed path whose
   * length or time differs is fingerprinted again: other first bytes make it a new file.
   */
  final Map<String, Content> content = new HashMap<>();

  /**
   * identity content: every fingerprint read inside the horizon, with the path it was first read
   * under and that file's time (for the horizon). Outlives a path's replacement by other content,
   * so the old content renamed elsewhere (log rotation) is still known.
   */
  final Map<String, Content> fingerprints = new HashMap<>();

  /**
   * What was read under a path, or where a fingerprint was first read.
   *
   * @param fingerprint {@code <bytes>:<hash>} of the first bytes of the decompressed content
   * @param path the path read
   * @param length the file's length when it was read (or when last found unchanged in content)
   * @param mtime its modification time then
   * @param time the time the horizon measures the file by (the entry's age time)
   */
  record Content(String fingerprint, String path, long length, long mtime, long time) {}

  /** Records that {@code c.path()} was read with this content. */
  void read(Content c) {
    content.put(c.path(), c);
    fingerprints.putIfAbsent(c.fingerprint(), c);
  }

  /**
   * Leaf directory (full path) to the newest modification time of a file seen there; for ordered
   * partitions.
   */
  final TreeMap<String, Long> activeDirs = new TreeMap<>();

  /**
   * Directory (full path) to the greatest file name seen there; for ordered file names. Trimmed
   * with activeDirs.
   */
  final Map<String, String> lastNames = new HashMap<>();

  /**
   * Root (full path) to the relative path of the newest partition directory where a file was seen.
   */
  final Map<String, String> highWater = new HashMap<>();

  /**
   * Threshold of the last in-memory purge of {@link #seen} (not persisted: compaction purges the
   * snapshot).
   */
  private long purgedAt = Long.MIN_VALUE;

  /**
   * How far a modification time may be ahead of the source's clock before it counts as
   * future-dated: covers ordinary skew between the gateway and a NameNode or object store.
   */
  static final long FUTURE_TOLERANCE_MS = 60_000;

  /**
   * The source's clock at the current listing cycle (epoch ms), or {@link Long#MIN_VALUE} before
   * the first one (then times are taken as they are: while the state loads). In memory only.
   */
  long clockMillis = Long.MIN_VALUE;

  /**
   * The time the horizon (and partition pruning) take for a file: its own, unless it is more than
   * {@link #FUTURE_TOLERANCE_MS} after the clock (a future-dated file), then the clock's. A single
   * file dated 30 days ahead would otherwise move the horizon 30 days ahead and every later normal
   * file would be ignored as too old.
   */
  long clamp(long time) {
    if (clockMillis != Long.MIN_VALUE && time > clockMillis + FUTURE_TOLERANCE_MS) {
      return clockMillis;
    }
    return time;
  }

  /** Whether {@code time} is future-dated against the current cycle's clock. */
  boolean futureDated(long time) {
    return clockMillis != Long.MIN_VALUE && time > clockMillis + FUTURE_TOLERANCE_MS;
  }

  /**
   * Brings the horizon's times loaded from the state that are future-dated (written by a version
   * that did not clamp, or before a clock was corrected) back to the clock; remembered paths keep
   * their own times. Returns whether anything changed.
   */
  boolean clampLoaded(long now) {
    long was = clockMillis;
    clockMillis = now;
    try {
      boolean changed = futureDated(maxMtime);
      if (changed) {
        maxMtime = now;
      }
      for (Map.Entry<String, Long> en : activeDirs.entrySet()) {
        if (futureDated(en.getValue())) {
          en.setValue(now);
          changed = true;
        }
      }
      return changed;
    } finally {
      clockMillis = was;
    }
  }

  /** Told about each path that leaves the remembered set (in memory, not persisted). */
  java.util.function.Consumer<String> forgotten = p -> {};

  PartitionState(String id) {
    this.id = id;
  }

  /** Records a file as seen (admitted or not). */
  void see(String path, String root, long fileTime) {
    // The remembered set keeps the file's own time: a future-dated file must stay remembered until
    // the horizon passes that time, or it would be read again once forgotten.
    seen.put(path, fileTime);
    long mtime = clamp(fileTime);
    maxMtime = Math.max(maxMtime, mtime);
    int slash = path.lastIndexOf('/');
    String dir = slash <= 0 ? path : path.substring(0, slash);
    activeDirs.merge(dir, mtime, Math::max);
    String name = path.substring(slash + 1);
    lastNames.merge(dir, name, (a, b) -> a.compareTo(b) >= 0 ? a : b);
    if (dir.length() > root.length() && dir.startsWith(root)) {
      String rel = dir.substring(root.length() + (root.endsWith("/") ? 0 : 1));
      String hw = highWater.get(root);
      if (hw == null || PartitionPaths.compare(rel, hw) > 0) {
        highWater.put(root, rel);
      }
    }
  }

  /**
   * Forgets directories whose newest file fell out of the horizon (small: one entry per directory).
   */
  void trimDirectories(long threshold) {
    activeDirs.values().removeIf(m -> m < threshold);
    lastNames.keySet().retainAll(activeDirs.keySet());
  }

  /**
   * Before a listing cycle: drops directories outside the horizon, and remembered paths too once
   * the horizon moved by at least {@code step} since the last purge. Memory then stays within the
   * horizon plus one step even when no compaction is due (at a first start with many existing
   * files, those would otherwise stay remembered until the next compaction), and the cost of
   * walking the remembered set is paid once per step, not per cycle. Safe at any time: a file older
   * than the threshold is ignored by age before the remembered set is asked.
   */
  void trim(long threshold, long step) {
    if (threshold != Long.MIN_VALUE
        && (purgedAt == Long.MIN_VALUE || threshold - purgedAt >= step)) {
      purge(threshold);
      purgedAt = threshold;
    } else {
      trimDirectories(threshold);
    }
  }

  /**
   * Compressed files whose read found them still being written, by path: admitted again, with their
   * new length, once stable (then removed).
   */
  final Map<String, FileIndex.ReplanDto> replanPending = new HashMap<>();

  /**
   * Files whose last admitted range held back a trailing line without a terminator (they may still
   * be being written), by path: the change watch emits it once the file is known complete, or
   * appended bytes complete it. Durable (snapshot; deltas replay it through {@link #admit}).
   */
  final Map<String, FileEntry> tailPending = new HashMap<>();

  void admit(FileEntry e) {
    if (e.partialTail()) {
      tailPending.put(e.path(), e);
    } else if (e.appended()) {
      tailPending.remove(e.path()); // the tail, or appended bytes of a file known complete
    }
    Content c = content.get(e.path());
    if (e.appended() && c != null) {
      // the same content, longer: not a replacement
      content.put(
          e.path(),
          new Content(c.fingerprint(), c.path(), e.length(), e.modificationTime(), c.time()));
    }
    FileIndex.ReplanDto r = replanPending.get(e.path());
    if (r != null && e.seq() > r.seq()) {
      replanPending.remove(e.path());
    }
    entries.put(e.seq(), e);
    nextSeq = Math.max(nextSeq, e.seq() + 1);
    see(e.path(), e.root(), e.ageTime());
  }

  /** Offsets admitted but not yet known committed. */
  long outstanding() {
    return nextSeq - Math.max(committed, admissionBase);
  }

  /** Drops what fell out of the horizon; entries at or above {@code committed} are always kept. */
  void purge(long threshold) {
    seen.entrySet()
        .removeIf(
            en -> {
              if (en.getValue() < threshold) {
                forgotten.accept(en.getKey());
                return true;
              }
              return false;
            });
    tailPending.values().removeIf(e -> e.ageTime() < threshold);
    content.keySet().retainAll(seen.keySet());
    fingerprints.values().removeIf(c -> c.time() < threshold);
    trimDirectories(threshold);
    // A root's high-water mark is one string per root: bounded by the number of roots, kept.
  }

  /** Committed entries up to {@code until}, removed from the map (for cleaning). */
  List<FileEntry> takeCommitted(long until) {
    List<FileEntry> out = new ArrayList<>();
    for (Iterator<Map.Entry<Long, FileEntry>> it = entries.headMap(until).entrySet().iterator();
        it.hasNext(); ) {
      out.add(it.next().getValue());
      it.remove();
    }
    committed = Math.max(committed, until);
    admissionBase = Math.max(admissionBase, until);
    return out;
  }
}
