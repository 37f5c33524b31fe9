package io.tributary.connector.file.source;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local file system, counting the statuses built for entries whose name starts with {@code f-}
 * (test files).
 */
public class CountingLocalFileSystem extends RawLocalFileSystem {
  static final AtomicLong FILE_STATUSES = new AtomicLong();

  @Override
  public FileStatus getFileStatus(Path f) throws IOException {
    if (f.getName().startsWith("f-")) {
      FILE_STATUSES.incrementAndGet();
    }
    return super.getFileStatus(f);
  }

  @Override
  public FileStatus[] listStatus(Path f) throws IOException {
    FileStatus[] all = super.listStatus(f);
    for (FileStatus s : all) {
      if (s.getPath().getName().startsWith("f-")) {
        FILE_STATUSES.incrementAndGet();
      }
    }
    return all;
  }
}
