package io.tributary.connector.file.internal.tail;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tributary.connector.file.FileVanishedException;
import io.tributary.connector.file.RecordTooLongException;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Position;
import io.tributary.core.checkpoint.CheckpointStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The followed files of a {@code files-tail} source: scans the directories, tells which file is
 * which partition (file key + fingerprint, fingerprint alone for copies and where there is no file
 * key), keeps that table durable in the source's state storage, and finds a partition's file again
 * for a read.
 *
 * <p>Identity rules, in this order, per scan:
 *
 * <ol>
 *   <li>a file whose key (device/inode) is a followed file's and whose first bytes are still that
 *       file's fingerprint is that file (rename rotation moves the name, not the inode);
 *   <li>a file whose first bytes are the fingerprint of a followed file not found by rule 1 is that
 *       file (the copy copytruncate makes, a file system without inodes);
 *   <li>a file whose first bytes are a prefix of, or start with, the first bytes of a followed file
 *       found by rule 1 or 2 is a copy of it (copytruncate's copy before the truncation, still
 *       being written or complete) and is not followed;
 *   <li>any other non-empty file is a new partition, read from its first byte.
 * </ol>
 *
 * A followed file whose inode now holds other first bytes (truncated by copytruncate, or the inode
 * reused) no longer matches by rule 1: what is there now is a new file by rule 4. A followed file
 * not found for {@link #GONE_SCANS} scans in a row is reported closed at the position the runtime
 * had reached, then forgotten; bytes it held beyond that position are counted and logged.
 *
 * <p>Thread safety: {@link #scan} and {@link #fixRangeEnd} run on the batch thread; {@link #open}
 * (reads) on reader threads concurrently with them.
 */
public final class TailTracker {
  private static final Logger LOG = LoggerFactory.getLogger(TailTracker.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String STATE = "tail-files.json";

  /** Scans in a row a followed file must be missing before it is closed (rename races). */
  static final int GONE_SCANS = 3;

  /** Most bytes one range may cover, whatever the runtime allows. */
  static final long MAX_RANGE_BYTES = 64L * 1024 * 1024;

  private final List<Path> dirs;
  private final PathMatcher include;
  private final PathMatcher exclude;
  private final int fingerprintBytes;
  private final int maxLineLength;
  private final String source;
  private final CheckpointStorage state;
  private final Map<String, TailedFile> files = new ConcurrentHashMap<>();
  private long next;
  private final boolean firstStart;
  private boolean scannedOnce;
  private final boolean startAtEnd;

  private final Counter discovered;
  private final Counter rewritten;
  private final Counter goneUnread;
  private final Counter moved;

  public TailTracker(
      List<Path> dirs,
      String filePattern,
      String excludePattern,
      int fingerprintBytes,
      int maxLineLength,
      boolean startAtEnd,
      String pipeline,
      String source,
      CheckpointStorage state,
      MeterRegistry registry)
      throws IOException {
    this.dirs = List.copyOf(dirs);
    this.include = FileSystems.getDefault().getPathMatcher("glob:" + filePattern);
    this.exclude =
        excludePattern.isBlank()
            ? p -> false
            : FileSystems.getDefault().getPathMatcher("glob:" + excludePattern);
    this.fingerprintBytes = fingerprintBytes;
    this.maxLineLength = maxLineLength;
    this.startAtEnd = startAtEnd;
    this.source = source;
    this.state = state;
    Optional<byte[]> saved = state.read(STATE);
    firstStart = saved.isEmpty();
    if (saved.isPresent()) {
      load(saved.get());
    }
    String[] tags = {"pipeline", pipeline, "source", source};
    discovered =
        Counter.builder("tributary.files.tail.discovered")
            .description("Files the tail source started to follow")
            .tags(tags)
            .register(registry);
    rewritten =
        Counter.builder("tributary.files.tail.truncated")
            .description(
                "Followed files whose inode now holds other first bytes (copytruncate, rewritten)")
            .tags(tags)
            .register(registry);
    moved =
        Counter.builder("tributary.files.tail.moved")
            .description("Followed files found under another name (rotation by rename or copy)")
            .tags(tags)
            .register(registry);
    goneUnread =
        Counter.builder("tributary.files.tail.unread-bytes")
            .description(
                "Bytes of complete lines a followed file held beyond the read position when it vanished")
            .tags(tags)
            .register(registry);
    Gauge.builder("tributary.files.tail.followed", files, Map::size)
        .description("Files followed now (partitions)")
        .tags(tags)
        .register(registry);
  }

  // ----- state -----

  private void load(byte[] data) throws IOException {
    Map<?, ?> root = JSON.readValue(data, Map.class);
    Object version = root.get("version");
    if (!Integer.valueOf(1).equals(version)) {
      throw new IOException(
          "Unsupported tail state "
              + STATE
              + " version "
              + version
              + " in "
              + state.describe()
              + " (expected: 1; was it written by a newer version?)");
    }
    next = ((Number) root.get("next")).longValue();
    for (Object o : (List<?>) root.get("files")) {
      Map<?, ?> f = (Map<?, ?>) o;
      String id = (String) f.get("id");
      byte[] head = Base64.getDecoder().decode((String) f.get("head"));
      if (head.length > fingerprintBytes) {
        // fingerprint-bytes lowered since: compare what is now listed, never more.
        head = java.util.Arrays.copyOf(head, fingerprintBytes);
      }
      TailedFile t =
          new TailedFile(
              id,
              ((Number) f.get("initial")).longValue(),
              (String) f.get("path"),
              (String) f.get("key"),
              head);
      files.put(id, t);
    }
  }

  private void save() throws IOException {
    List<Map<String, Object>> list = new ArrayList<>();
    for (TailedFile t : files.values()) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("id", t.id);
      f.put("path", t.path);
      f.put("key", t.fileKey);
      f.put("initial", t.initial);
      f.put("head", Base64.getEncoder().encodeToString(t.fingerprint.head()));
      list.add(f);
    }
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("version", 1);
    root.put("next", next);
    root.put("files", list);
    state.writeAtomically(STATE, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
  }

  // ----- scanning -----

  /** A file as one scan saw it. */
  private record Seen(Path path, String key, long size, byte[] head) {}

  private List<Seen> list() throws IOException {
    List<Seen> out = new ArrayList<>();
    for (Path dir : dirs) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
        for (Path p : entries) {
          Path name = p.getFileName();
          if (!include.matches(name) || exclude.matches(name)) {
            continue;
          }
          Seen s = look(p);
          if (s != null) {
            out.add(s);
          }
        }
      } catch (NoSuchFileException e) {
        // A monitored directory that does not exist (yet) has no files to follow.
      }
    }
    return out;
  }

  /** The file's key, size and first bytes, or null when it is not a non-empty regular file. */
  private Seen look(Path p) {
    try {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
      if (!a.isRegularFile() || a.size() == 0) {
        return null;
      }
      byte[] head;
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        head = readHead(ch, fingerprintBytes);
      }
      if (head.length == 0) {
        return null;
      }
      return new Seen(p, a.fileKey() == null ? null : a.fileKey().toString(), a.size(), head);
    } catch (IOException e) {
      // Vanished or unreadable between the listing and now: the next scan sees it as it is then.
      LOG.debug("event=tail_look_failed path={} error={}", p, e.toString());
      return null;
    }
  }

  private static byte[] readHead(FileChannel ch, int max) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(max);
    while (buf.hasRemaining()) {
      if (ch.read(buf, buf.position()) < 0) {
        break;
      }
    }
    byte[] head = new byte[buf.position()];
    buf.flip().get(head);
    return head;
  }

  /**
   * Scans the directories, updates the table (durably before returning when it changed) and returns
   * the partitions to report.
   */
  public List<PartitionInfo> scan() throws IOException {
    List<Seen> seen = list();
    Map<TailedFile, Seen> found = new IdentityHashMap<>();
    Map<String, TailedFile> byKey = new HashMap<>();
    for (TailedFile t : files.values()) {
      if (t.fileKey != null) {
        byKey.put(t.fileKey, t);
      }
    }
    List<Seen> rest = new ArrayList<>();
    boolean dirty = false;
    // Rule 1: same inode, same first bytes.
    for (Seen s : seen) {
      TailedFile t = s.key == null ? null : byKey.get(s.key);
      if (t != null && !found.containsKey(t) && t.fingerprint.matches(s.head)) {
        found.put(t, s);
      } else {
        if (t != null && !found.containsKey(t) && !t.reportedClosed && t.goneScans == 0) {
          rewritten.increment();
          LOG.info(
              "event=tail_file_truncated partition={} path={} size={} detail=\"its inode now holds other"
                  + " first bytes (copytruncate, or rewritten): followed further as a copy if one exists,"
                  + " what it holds now is a new file\"",
              t.id,
              s.path,
              s.size);
        }
        rest.add(s);
      }
    }
    // Rule 2: the same first bytes elsewhere, for a followed file not found by its inode.
    List<Seen> unmatched = new ArrayList<>();
    for (Seen s : rest) {
      TailedFile match = null;
      for (TailedFile t : files.values()) {
        if (!found.containsKey(t) && t.fingerprint.matches(s.head)) {
          match = t;
          break;
        }
      }
      if (match != null) {
        found.put(match, s);
      } else {
        unmatched.add(s);
      }
    }
    // Update the followed files found.
    for (Map.Entry<TailedFile, Seen> e : found.entrySet()) {
      TailedFile t = e.getKey();
      Seen s = e.getValue();
      String path = s.path.toString();
      if (!path.equals(t.path) || !java.util.Objects.equals(s.key, t.fileKey)) {
        moved.increment();
        LOG.info(
            "event=tail_file_moved partition={} from={} to={} key={}", t.id, t.path, path, s.key);
        t.path = path;
        t.fileKey = s.key;
        dirty = true;
      }
      // Longer first bytes identify better; extended when full or twice as long as before, so a
      // slowly growing file costs a few state writes, not one per listing.
      int had = t.fingerprint.head().length;
      if (s.head.length > had && (s.head.length >= fingerprintBytes || s.head.length >= 2 * had)) {
        t.fingerprint = new TailedFile.Fingerprint(s.head);
        dirty = true;
      }
      t.lastSize = s.size;
      t.goneScans = 0;
      t.goneAt = -1;
      t.reportedClosed = false;
    }
    // Rules 3 and 4: copies of followed files are not followed; anything else is new.
    for (Seen s : unmatched) {
      // Against every followed file, found or not: a copy listed while it was being written and
      // whose original was truncated by the time the listing looked at it is a prefix of a file
      // not found this time; the next listing sees it whole and rule 2 takes it.
      TailedFile copyOf = null;
      for (TailedFile t : files.values()) {
        Seen f = found.get(t);
        byte[] head = f != null ? f.head : t.fingerprint.head();
        if (new TailedFile.Fingerprint(head).overlaps(s.head)) {
          copyOf = t;
          break;
        }
      }
      if (copyOf != null) {
        LOG.debug(
            "event=tail_copy_ignored path={} copy_of={} partition={}",
            s.path,
            copyOf.path,
            copyOf.id);
        continue;
      }
      String id = "t" + next++;
      long initial = 0;
      if (startAtEnd && firstStart && !scannedOnce) {
        initial = lastLineEnd(s.path, s.size);
      }
      TailedFile t = new TailedFile(id, initial, s.path.toString(), s.key, s.head);
      t.lastSize = s.size;
      files.put(id, t);
      found.put(t, s);
      discovered.increment();
      dirty = true;
      LOG.info(
          "event=tail_file_found partition={} path={} key={} size={} from={}",
          id,
          s.path,
          s.key,
          s.size,
          initial);
    }
    // Followed files not found.
    List<PartitionInfo> out = new ArrayList<>();
    for (TailedFile t : new ArrayList<>(files.values())) {
      if (found.containsKey(t)) {
        out.add(PartitionInfo.endUnknown(t.id, Position.of(t.initial), List.of()));
        continue;
      }
      if (t.reportedClosed) {
        files.remove(t.id);
        dirty = true;
        LOG.info("event=tail_file_forgotten partition={} path={}", t.id, t.path);
        continue;
      }
      t.goneScans++;
      if (t.goneScans >= GONE_SCANS && t.goneAt >= 0) {
        long unread = Math.max(0, t.lastSize - t.goneAt);
        if (unread > 0) {
          goneUnread.increment(unread);
          LOG.warn(
              "event=tail_file_gone partition={} path={} read_to={} last_size={} unread_bytes={}"
                  + " detail=\"the file vanished (deleted, or rotated to a name file-pattern does not"
                  + " match) before it was read to its end; make file-pattern match rotated names and"
                  + " keep enough rotated files\"",
              t.id,
              t.path,
              t.goneAt,
              t.lastSize,
              unread);
        } else {
          LOG.info("event=tail_file_gone partition={} path={} read_to={}", t.id, t.path, t.goneAt);
        }
        t.reportedClosed = true;
        out.add(
            new PartitionInfo(
                t.id, Position.of(t.initial), Position.of(t.goneAt), true, List.of()));
      } else {
        out.add(PartitionInfo.endUnknown(t.id, Position.of(t.initial), List.of()));
      }
    }
    scannedOnce = true;
    if (dirty) {
      save();
    }
    return out;
  }

  private long lastLineEnd(Path p, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      long pos = Math.min(size, ch.size());
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      while (pos > 0) {
        long start = Math.max(0, pos - buf.capacity());
        buf.clear().limit((int) (pos - start));
        while (buf.hasRemaining() && ch.read(buf, start + buf.position()) >= 0) {}
        for (int i = buf.position() - 1; i >= 0; i--) {
          if (buf.get(i) == '\n') {
            return start + i + 1;
          }
        }
        pos = start;
      }
      return 0;
    }
  }

  // ----- ranges and reads -----

  /**
   * The end of the next range of {@code partition} from {@code from}: just after the last complete
   * line within the limits, or {@code from} when no complete line is there (yet).
   */
  public Position fixRangeEnd(String partition, Position from, long maxLines, long maxBytes)
      throws IOException {
    TailedFile t = files.get(partition);
    long start = from.toLong();
    if (t == null) {
      return from;
    }
    t.lastFrom = start;
    if (t.goneScans > 0 || t.reportedClosed) {
      t.goneAt = start;
      return from;
    }
    try (FileChannel ch = openVerified(t)) {
      if (ch == null) {
        return from;
      }
      long size = ch.size();
      if (size <= start) {
        return from;
      }
      long limit = Math.min(size, start + Math.min(maxBytes, MAX_RANGE_BYTES));
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      long pos = start;
      long end = start;
      long lines = 0;
      while (pos < limit && lines < maxLines) {
        buf.clear().limit((int) Math.min(buf.capacity(), limit - pos));
        int n = ch.read(buf, pos);
        if (n <= 0) {
          break;
        }
        for (int i = 0; i < n && lines < maxLines; i++) {
          if (buf.get(i) == '\n') {
            end = pos + i + 1;
            lines++;
          }
        }
        pos += n;
      }
      if (end == start && size - start > maxLineLength) {
        throw new RecordTooLongException(
            t.path,
            "Line at offset "
                + start
                + " of "
                + t.path
                + " has no line terminator within max-line-length "
                + maxLineLength
                + " bytes (raise max-line-length, or fix the writer)",
            null);
      }
      return Position.of(end);
    }
  }

  /**
   * Opens the file of {@code t} and checks its first bytes are still {@code t}'s, or returns null.
   */
  private FileChannel openVerified(TailedFile t) throws IOException {
    FileChannel ch;
    try {
      ch = FileChannel.open(Path.of(t.path), StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      return null;
    }
    boolean ok = false;
    try {
      byte[] head = readHead(ch, t.fingerprint.head().length);
      ok = t.fingerprint.matches(head);
      return ok ? ch : null;
    } finally {
      if (!ok) {
        ch.close();
      }
    }
  }

  /**
   * Opens the file of {@code partition} for reading {@code [from, until)}: where the last scan saw
   * it, else wherever a file with its fingerprint and at least {@code until} bytes is now.
   *
   * @throws FileVanishedException when no such file exists any more
   */
  public Opened open(String partition, long from, long until) throws IOException {
    TailedFile t = files.get(partition);
    if (t == null) {
      throw new FileVanishedException(
          partition,
          "Partition "
              + partition
              + " of tail source "
              + source
              + " is not in the source's state ("
              + STATE
              + "): the checkpoint's plan names a file this state does not know; was the state"
              + " deleted or replaced? Its bytes ["
              + from
              + ", "
              + until
              + ") cannot be read",
          null);
    }
    FileChannel ch = openVerified(t);
    if (ch != null && ch.size() >= until) {
      return new Opened(ch, t.path);
    }
    if (ch != null) {
      ch.close();
    }
    for (Seen s : list()) {
      if (t.fingerprint.matches(s.head) && s.size >= until) {
        TailedFile probe =
            new TailedFile(t.id, t.initial, s.path.toString(), s.key, t.fingerprint.head());
        FileChannel c = openVerified(probe);
        if (c != null && c.size() >= until) {
          return new Opened(c, probe.path);
        }
        if (c != null) {
          c.close();
        }
      }
    }
    throw new FileVanishedException(
        t.path,
        "File "
            + t.path
            + " (partition "
            + partition
            + ") is gone or shorter than "
            + until
            + " bytes, and no file with its first bytes is in the monitored directories: bytes ["
            + from
            + ", "
            + until
            + ") planned for this batch cannot be read (was it deleted, truncated by copytruncate"
            + " before its copy held these bytes, or rotated out of file-pattern?)",
        null);
  }

  /** An open file of a partition and the path it was opened at. */
  public record Opened(FileChannel channel, String path) {}

  public int maxLineLength() {
    return maxLineLength;
  }

  /** Followed files now, for tests and status. */
  public Map<String, String> followed() {
    Map<String, String> m = new LinkedHashMap<>();
    files.values().stream()
        .sorted(java.util.Comparator.comparing(f -> f.id))
        .forEach(f -> m.put(f.id, f.path));
    return m;
  }
}
