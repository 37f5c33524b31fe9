package io.tributary.connector.file.internal.source;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.connector.file.QuarantinedFile;
import io.tributary.core.api.CheckpointException;
import io.tributary.core.checkpoint.CheckpointStorage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file source's durable index: which file each sequence number means, which paths were already
 * seen, which files were quarantined. Kept in the source's state storage ({@code
 * sources/<name>/index/} of the checkpoint) as a snapshot plus one small delta file per listing
 * cycle that admitted files; every {@code compactionInterval} deltas a new snapshot holding only
 * what is inside the horizon replaces them, so the state is bounded by the horizon, not by history.
 *
 * <p>Crash safety: every file is written atomically; a snapshot names the generation it covers,
 * deltas of a newer generation are applied on top when loading, older ones are ignored (and
 * deleted). A delta is written before the offsets it admits are reported to the runtime.
 *
 * <p>Thread safety: all methods are synchronized; state writes happen under the lock so generations
 * stay ordered.
 */
public final class FileIndex {
  static final int FORMAT_VERSION = 1;
  static final String DIR = "index";
  private static final String SNAPSHOT = "snapshot-";
  private static final String DELTA = "delta-";
  private static final Logger LOG = LoggerFactory.getLogger(FileIndex.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** One admitted file in a delta. */
  record AdmitDto(
      String partition,
      long seq,
      String path,
      String root,
      long length,
      long mtime,
      long start,
      long end,
      boolean appended,
      long discovered,
      boolean partialTail,
      String fingerprint) {}

  /**
   * A compressed file whose read failed because it was still being written: the offset yields no
   * records (in every replay too) and the file is admitted again under a new offset, with its new
   * length, once stable.
   *
   * @param pending whether the new admission is still to come (snapshots only)
   */
  record ReplanDto(
      String partition,
      long seq,
      String path,
      String root,
      long length,
      long mtime,
      long at,
      boolean pending) {}

  /** One delta: files admitted in a listing cycle, files quarantined or re-planned by a read. */
  record DeltaDto(
      int version,
      long gen,
      List<AdmitDto> admitted,
      List<QuarantinedFile> quarantined,
      List<ReplanDto> replanned) {
    DeltaDto(int version, long gen, List<AdmitDto> admitted, List<QuarantinedFile> quarantined) {
      this(version, gen, admitted, quarantined, List.of());
    }
  }

  /** One partition in a snapshot. */
  record PartitionDto(
      String id,
      boolean initialized,
      long nextSeq,
      long committed,
      long maxMtime,
      Map<String, Long> seen,
      Map<String, Long> activeDirs,
      Map<String, String> highWater,
      Map<String, String> lastNames,
      List<FileEntry> entries,
      List<FileEntry> tailPending,
      List<PartitionState.Content> content,
      List<PartitionState.Content> fingerprints) {}

  /** A whole snapshot. */
  record SnapshotDto(
      int version,
      long gen,
      List<PartitionDto> partitions,
      List<QuarantinedFile> quarantine,
      List<ReplanDto> replanned) {}

  private final CheckpointStorage storage;
  private final long maxFileAgeMs;
  private final int compactionInterval;
  private final Map<String, PartitionState> partitions = new LinkedHashMap<>();
  private final TreeMap<String, QuarantinedFile> quarantine = new TreeMap<>();

  /** Re-plan decisions by offset (for replays), and those whose new admission is to come. */
  private final TreeMap<String, ReplanDto> replanned = new TreeMap<>();

  private long gen;

  /** The clock while loading ({@link Long#MIN_VALUE}: times taken as they are). */
  private long loadClock = Long.MIN_VALUE;

  private long snapshotGen = -1;
  private int deltasSinceSnapshot;

  private FileIndex(CheckpointStorage storage, long maxFileAgeMs, int compactionInterval) {
    this.storage = storage;
    this.maxFileAgeMs = maxFileAgeMs;
    this.compactionInterval = compactionInterval;
  }

  /**
   * Loads the index from {@code storage} (empty if none) and makes sure every partition of {@code
   * partitionIds} exists.
   *
   * @throws CheckpointException if the state cannot be read or parsed
   */
  public static FileIndex load(
      CheckpointStorage storage,
      List<String> partitionIds,
      long maxFileAgeMs,
      int compactionInterval) {
    return load(storage, partitionIds, maxFileAgeMs, compactionInterval, Long.MIN_VALUE);
  }

  /**
   * {@link #load(CheckpointStorage, List, long, int)} with the source's clock: files admitted by
   * the deltas that are dated in the future count as of {@code nowMillis} for the horizon, as they
   * did when they were admitted.
   */
  public static FileIndex load(
      CheckpointStorage storage,
      List<String> partitionIds,
      long maxFileAgeMs,
      int compactionInterval,
      long nowMillis) {
    FileIndex index = new FileIndex(storage, maxFileAgeMs, compactionInterval);
    index.loadClock = nowMillis;
    try {
      index.loadState();
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(
          "Cannot read the file source's index at "
              + storage.describe()
              + DIR
              + "/: "
              + e
              + " (restore the checkpoint directory, or start with a new one to re-read files inside the horizon)",
          e);
    }
    for (String id : partitionIds) {
      index.partitions.computeIfAbsent(id, PartitionState::new);
    }
    for (PartitionState st : index.partitions.values()) {
      st.admissionBase = st.nextSeq;
    }
    return index;
  }

  private void loadState() throws IOException {
    List<String> names = storage.list(DIR);
    long bestSnapshot = -1;
    for (String n : names) {
      if (n.startsWith(SNAPSHOT)) {
        bestSnapshot = Math.max(bestSnapshot, parseGen(n, SNAPSHOT));
      }
    }
    if (bestSnapshot >= 0) {
      byte[] data = storage.read(DIR + "/" + SNAPSHOT + pad(bestSnapshot)).orElseThrow();
      SnapshotDto s = JSON.readValue(data, SnapshotDto.class);
      checkVersion(s.version());
      for (PartitionDto p : s.partitions()) {
        PartitionState st = new PartitionState(p.id());
        st.initialized = p.initialized();
        st.nextSeq = p.nextSeq();
        st.committed = p.committed();
        st.maxMtime = p.maxMtime();
        st.seen.putAll(p.seen());
        st.activeDirs.putAll(p.activeDirs());
        st.highWater.putAll(p.highWater());
        if (p.lastNames() != null) {
          st.lastNames.putAll(p.lastNames());
        }
        for (FileEntry e : p.entries()) {
          st.entries.put(e.seq(), e);
        }
        if (p.tailPending() != null) {
          for (FileEntry e : p.tailPending()) {
            st.tailPending.put(e.path(), e);
          }
        }
        if (p.content() != null) {
          for (PartitionState.Content c : p.content()) {
            st.content.put(c.path(), c);
          }
        }
        if (p.fingerprints() != null) {
          for (PartitionState.Content c : p.fingerprints()) {
            st.fingerprints.put(c.fingerprint(), c);
          }
        }
        partitions.put(p.id(), st);
      }
      for (QuarantinedFile q : s.quarantine()) {
        quarantine.put(key(q.partition(), q.seq()), q);
      }
      if (s.replanned() != null) {
        for (ReplanDto r : s.replanned()) {
          replanned.put(key(r.partition(), r.seq()), r);
          PartitionState st = partitions.get(r.partition());
          if (r.pending() && st != null) {
            st.replanPending.put(r.path(), r);
          }
        }
      }
      gen = bestSnapshot;
      snapshotGen = bestSnapshot;
    }
    List<Long> deltas = new ArrayList<>();
    for (String n : names) {
      if (n.startsWith(DELTA)) {
        long g = parseGen(n, DELTA);
        if (g > bestSnapshot) {
          deltas.add(g);
        }
      }
    }
    deltas.sort(null);
    for (long g : deltas) {
      byte[] data = storage.read(DIR + "/" + DELTA + pad(g)).orElseThrow();
      DeltaDto d = JSON.readValue(data, DeltaDto.class);
      checkVersion(d.version());
      apply(d);
      gen = Math.max(gen, g);
      deltasSinceSnapshot++;
    }
  }

  private void apply(DeltaDto d) {
    for (AdmitDto a : d.admitted()) {
      PartitionState st = partitions.computeIfAbsent(a.partition(), PartitionState::new);
      st.clockMillis = loadClock;
      st.initialized = true;
      FileEntry e =
          new FileEntry(
              a.seq(),
              a.path(),
              a.root(),
              a.length(),
              a.mtime(),
              a.start(),
              a.end(),
              a.appended(),
              a.discovered(),
              a.partialTail());
      st.admit(e);
      if (a.fingerprint() != null) {
        st.read(
            new PartitionState.Content(
                a.fingerprint(), a.path(), a.length(), a.mtime(), e.ageTime()));
      }
    }
    for (QuarantinedFile q : d.quarantined()) {
      quarantine.put(key(q.partition(), q.seq()), q);
    }
    if (d.replanned() != null) {
      for (ReplanDto r : d.replanned()) {
        replanned.put(key(r.partition(), r.seq()), r);
        PartitionState st = partitions.computeIfAbsent(r.partition(), PartitionState::new);
        st.replanPending.put(r.path(), r);
      }
    }
  }

  /** The re-plan decision taken earlier for this offset, if any. */
  public synchronized boolean replanned(String partition, long seq) {
    return replanned.containsKey(key(partition, seq));
  }

  /**
   * Durably records that the file of an offset was still being written: the offset yields nothing
   * (now and in replays) and the file waits for a new admission with its new length.
   */
  public synchronized void addReplan(String partition, FileEntry e, long nowMillis)
      throws IOException {
    if (replanned.containsKey(key(partition, e.seq()))) {
      return;
    }
    ReplanDto r =
        new ReplanDto(
            partition,
            e.seq(),
            e.path(),
            e.root(),
            e.length(),
            e.modificationTime(),
            nowMillis,
            true);
    writeDelta(new DeltaDto(FORMAT_VERSION, gen + 1, List.of(), List.of(), List.of(r)));
    replanned.put(key(partition, e.seq()), r);
    partition(partition).replanPending.put(e.path(), r);
  }

  /**
   * The state of one partition; callers must hold this index's lock ({@code synchronized (index)}).
   */
  PartitionState partition(String id) {
    PartitionState st = partitions.get(id);
    if (st == null) {
      throw new IllegalArgumentException("Unknown partition " + id);
    }
    return st;
  }

  /** The file behind an offset, if the index still has it. */
  public synchronized Optional<FileEntry> entry(String partition, long seq) {
    PartitionState st = partitions.get(partition);
    return st == null ? Optional.empty() : Optional.ofNullable(st.entries.get(seq));
  }

  /** The quarantine decision taken earlier for this offset, if any. */
  public synchronized Optional<QuarantinedFile> quarantined(String partition, long seq) {
    return Optional.ofNullable(quarantine.get(key(partition, seq)));
  }

  /** Every quarantined file inside the horizon, oldest offset first per partition. */
  public synchronized List<QuarantinedFile> quarantine() {
    return List.copyOf(quarantine.values());
  }

  public synchronized int quarantineSize() {
    return quarantine.size();
  }

  /** Paths remembered inside the horizon, over all partitions (a gauge of the state's size). */
  public synchronized long rememberedFiles() {
    long n = 0;
    for (PartitionState st : partitions.values()) {
      n += st.seen.size();
    }
    return n;
  }

  /** Admitted entries still held in memory (not yet committed and cleaned), over all partitions. */
  public synchronized long heldEntries() {
    long n = 0;
    for (PartitionState st : partitions.values()) {
      n += st.entries.size();
    }
    return n;
  }

  /** Durably records a quarantine decision before the batch's records are produced. */
  public synchronized void addQuarantine(QuarantinedFile q) throws IOException {
    if (quarantine.containsKey(key(q.partition(), q.seq()))) {
      return;
    }
    writeDelta(new DeltaDto(FORMAT_VERSION, gen + 1, List.of(), List.of(q)));
    quarantine.put(key(q.partition(), q.seq()), q);
  }

  /**
   * Durably records the outcome of a listing cycle: admitted files get their offsets (a delta), and
   * partitions listed for the first time become initialized (a snapshot, as they may have recorded
   * many existing files).
   */
  public synchronized void recordCycle(
      Map<String, List<FileEntry>> admitted, Collection<PartitionState> initialized)
      throws IOException {
    List<AdmitDto> dtos = new ArrayList<>();
    for (Map.Entry<String, List<FileEntry>> e : admitted.entrySet()) {
      PartitionState st = partitions.get(e.getKey());
      for (FileEntry f : e.getValue()) {
        PartitionState.Content c =
            st == null || f.appended() || f.start() != 0 ? null : st.content.get(f.path());
        dtos.add(
            new AdmitDto(
                e.getKey(),
                f.seq(),
                f.path(),
                f.root(),
                f.length(),
                f.modificationTime(),
                f.start(),
                f.end(),
                f.appended(),
                f.discovered(),
                f.partialTail(),
                c != null && c.length() == f.length() && c.mtime() == f.modificationTime()
                    ? c.fingerprint()
                    : null));
      }
    }
    if (!initialized.isEmpty()) {
      for (PartitionState st : initialized) {
        st.initialized = true;
      }
      compact();
    } else if (!dtos.isEmpty()) {
      writeDelta(new DeltaDto(FORMAT_VERSION, gen + 1, dtos, List.of()));
      if (deltasSinceSnapshot >= compactionInterval) {
        compact();
      }
    }
  }

  /** Writes a snapshot of everything inside the horizon and removes the files it replaces. */
  public synchronized void compact() throws IOException {
    List<PartitionDto> ps = new ArrayList<>();
    long oldest = Long.MAX_VALUE;
    for (PartitionState st : partitions.values()) {
      long threshold = threshold(st);
      st.purge(threshold);
      oldest = Math.min(oldest, threshold);
      ps.add(
          new PartitionDto(
              st.id,
              st.initialized,
              st.nextSeq,
              st.committed,
              st.maxMtime,
              st.seen,
              st.activeDirs,
              st.highWater,
              st.lastNames,
              List.copyOf(st.entries.values()),
              List.copyOf(st.tailPending.values()),
              List.copyOf(st.content.values()),
              List.copyOf(st.fingerprints.values())));
    }
    final long horizon = oldest;
    quarantine.values().removeIf(q -> q.modificationTime() < horizon && horizon != Long.MIN_VALUE);
    List<ReplanDto> rs = new ArrayList<>();
    for (java.util.Iterator<ReplanDto> it = replanned.values().iterator(); it.hasNext(); ) {
      ReplanDto r = it.next();
      PartitionState st = partitions.get(r.partition());
      boolean pending = st != null && st.replanPending.get(r.path()) == r;
      if (!pending && r.seq() < (st == null ? Long.MAX_VALUE : st.committed)) {
        it.remove(); // committed: no replay will ask again
        continue;
      }
      rs.add(
          new ReplanDto(
              r.partition(), r.seq(), r.path(), r.root(), r.length(), r.mtime(), r.at(), pending));
    }
    long newGen = gen + 1;
    storage.writeAtomically(
        DIR + "/" + SNAPSHOT + pad(newGen),
        JSON.writeValueAsBytes(
            new SnapshotDto(FORMAT_VERSION, newGen, ps, List.copyOf(quarantine.values()), rs)));
    gen = newGen;
    long previous = snapshotGen;
    snapshotGen = newGen;
    deltasSinceSnapshot = 0;
    for (String n : storage.list(DIR)) {
      if ((n.startsWith(DELTA) && parseGen(n, DELTA) <= newGen)
          || (n.startsWith(SNAPSHOT) && parseGen(n, SNAPSHOT) < newGen)) {
        storage.delete(DIR + "/" + n);
      }
    }
    LOG.debug(
        "event=file_index_compacted gen={} previous={} storage={}",
        newGen,
        previous,
        storage.describe());
  }

  /**
   * Drops from memory what left the horizon of {@code st}, in steps of 1/16 of the horizon (see
   * PartitionState#trim).
   */
  void trim(PartitionState st) {
    st.trim(threshold(st), Math.max(1, maxFileAgeMs / 16));
  }

  /** Files older than this (modification time) are outside the horizon of the partition. */
  long threshold(PartitionState st) {
    return st.maxMtime == Long.MIN_VALUE ? Long.MIN_VALUE : st.maxMtime - maxFileAgeMs;
  }

  private void writeDelta(DeltaDto d) throws IOException {
    storage.writeAtomically(DIR + "/" + DELTA + pad(d.gen()), JSON.writeValueAsBytes(d));
    gen = d.gen();
    deltasSinceSnapshot++;
  }

  private static String key(String partition, long seq) {
    return partition + "\u0000" + pad(seq);
  }

  private static String pad(long n) {
    return String.format("%020d", n);
  }

  private static long parseGen(String name, String prefix) {
    try {
      return Long.parseLong(name.substring(prefix.length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static void checkVersion(int v) {
    if (v != FORMAT_VERSION) {
      throw new IllegalStateException(
          "unsupported index format version " + v + " (this build reads " + FORMAT_VERSION + ")");
    }
  }
}
