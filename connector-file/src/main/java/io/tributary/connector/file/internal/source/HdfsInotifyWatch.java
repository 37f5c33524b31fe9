package io.tributary.connector.file.internal.source;

import io.tributary.core.api.ConfigException;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.hadoop.hdfs.DFSInotifyEventInputStream;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.inotify.Event;
import org.apache.hadoop.hdfs.inotify.EventBatch;
import org.apache.hadoop.hdfs.inotify.MissingEventsException;
import org.apache.hadoop.ipc.RemoteException;
import org.apache.hadoop.security.AccessControlException;
import org.apache.hadoop.security.UserGroupInformation;

/**
 * The NameNode's inotify event stream for one HDFS file system ({@code hdfs-inotify: true}): tells
 * which paths became complete files since the last call (a file closed under its final name, or a
 * file or directory renamed into place), so a listing cycle looks at those paths instead of listing
 * directories.
 *
 * <p>The stream starts at the NameNode's current edit-log transaction when it is opened or
 * {@linkplain #restart() restarted}. The caller lists every monitored directory once right after,
 * so nothing that happened before the stream's start is missed; after that each cycle costs the
 * events since the last one, whatever the size of the directories. The position is not
 * checkpointed: every start of the source opens a new stream and lists once, and the remembered set
 * drops what was seen before.
 *
 * <p>Only an HDFS superuser may read the stream; {@link #open} fails with a {@link ConfigException}
 * that says so. When the NameNode has purged the edits the stream would need next ({@link
 * MissingEventsException}, e.g. after a long pause), {@link #poll()} returns {@code null} and the
 * caller lists again.
 *
 * <p>Thread safety: not thread-safe; used by the batch thread under the file index lock.
 */
final class HdfsInotifyWatch {
  /** Events handled per cycle at most; the rest stays in the stream for the next cycle. */
  static final int MAX_EVENTS_PER_CYCLE = 100_000;

  private final DistributedFileSystem dfs;
  private DFSInotifyEventInputStream stream;
  private long events;
  private long relists;

  private HdfsInotifyWatch(DistributedFileSystem dfs, DFSInotifyEventInputStream stream) {
    this.dfs = dfs;
    this.stream = stream;
  }

  /**
   * Opens the event stream at the NameNode's current transaction.
   *
   * @throws ConfigException if the user is not an HDFS superuser (only superusers may read inotify
   *     events)
   */
  static HdfsInotifyWatch open(DistributedFileSystem dfs) throws IOException {
    return new HdfsInotifyWatch(dfs, openStream(dfs));
  }

  private static DFSInotifyEventInputStream openStream(DistributedFileSystem dfs)
      throws IOException {
    try {
      return dfs.getInotifyEventStream();
    } catch (IOException e) {
      IOException cause = e instanceof RemoteException re ? re.unwrapRemoteException() : e;
      if (cause instanceof AccessControlException) {
        throw new ConfigException(
            "Invalid value true for hdfs-inotify: user "
                + UserGroupInformation.getCurrentUser().getShortUserName()
                + " may not read the inotify events of "
                + dfs.getUri()
                + " ("
                + firstLine(cause.getMessage())
                + "); only HDFS superusers may (expected: run as a member of the group named by"
                + " dfs.permissions.superusergroup, or hdfs-inotify: false to list directories instead)");
      }
      throw cause;
    }
  }

  /**
   * Starts a new stream at the NameNode's current transaction; the caller lists every directory
   * right after.
   */
  void restart() throws IOException {
    stream = openStream(dfs);
    relists++;
  }

  /**
   * Absolute paths (without scheme and authority) that became complete since the last call, in
   * event order, without repeats; {@code null} if events were lost and every directory must be
   * listed again (after {@link #restart()}). Never blocks on the NameNode beyond one RPC per batch
   * of events.
   */
  Set<String> poll() throws IOException {
    Set<String> paths = new LinkedHashSet<>();
    int n = 0;
    try {
      EventBatch batch;
      while (n < MAX_EVENTS_PER_CYCLE && (batch = stream.poll()) != null) {
        for (Event e : batch.getEvents()) {
          n++;
          switch (e.getEventType()) {
            case CLOSE -> paths.add(((Event.CloseEvent) e).getPath());
            case RENAME -> paths.add(((Event.RenameEvent) e).getDstPath());
            default -> {
              // CREATE: not complete until CLOSE; APPEND/TRUNCATE/METADATA/UNLINK: not a new file
            }
          }
        }
      }
    } catch (MissingEventsException e) {
      events += n;
      return null;
    }
    events += n;
    return paths;
  }

  /** Events read from the NameNode so far. */
  long events() {
    return events;
  }

  /** Times the stream was restarted (each followed by a full listing) after its first start. */
  long relists() {
    return relists;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "access denied";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
