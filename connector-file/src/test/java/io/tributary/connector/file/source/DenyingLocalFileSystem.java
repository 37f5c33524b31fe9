package io.tributary.connector.file.source;

import java.io.IOException;
import java.io.InterruptedIOException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.security.AccessControlException;

/**
 * The local file system, except that opening a file whose name contains {@code denied} fails as
 * HDFS does for a file the user may not read (tests run as root locally, where chmod cannot deny
 * anything), and opening one whose name contains {@code interrupted} fails as a read interrupted by
 * a stopping pipeline does.
 */
public class DenyingLocalFileSystem extends RawLocalFileSystem {
  @Override
  public FSDataInputStream open(Path f, int bufferSize) throws IOException {
    if (f.getName().contains("denied")) {
      throw new AccessControlException(
          "Permission denied: user=test, access=READ, inode=\"" + f + "\"");
    }
    if (f.getName().contains("interrupted")) {
      throw new InterruptedIOException("Interrupted while opening " + f);
    }
    return super.open(f, bufferSize);
  }
}
