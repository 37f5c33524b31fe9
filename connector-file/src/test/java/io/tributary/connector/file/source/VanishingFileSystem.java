package io.tributary.connector.file.source;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * The local file system under the scheme {@code vanish:} (so the source lists it through Hadoop's
 * listing, as it lists HDFS and S3), where a directory whose name starts with {@code vanishing} is
 * deleted for real just before its own listing: a subdirectory that vanishes between its parent's
 * listing and its own, at a moment a test controls.
 */
public class VanishingFileSystem extends RawLocalFileSystem {
  static final String SCHEME = "vanish";

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  @Override
  public RemoteIterator<FileStatus> listStatusIterator(Path f) throws IOException {
    if (f.getName().startsWith("vanishing")) {
      java.nio.file.Path dir = java.nio.file.Path.of(f.toUri().getPath());
      if (Files.exists(dir)) {
        try (Stream<java.nio.file.Path> all = Files.walk(dir)) {
          for (java.nio.file.Path p : all.sorted(Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
      }
      throw new FileNotFoundException("File " + f + " does not exist");
    }
    return super.listStatusIterator(f);
  }
}
