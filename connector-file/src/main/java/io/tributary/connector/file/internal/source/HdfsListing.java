package io.tributary.connector.file.internal.source;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.NoSuchElementException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.protocol.DirectoryListing;
import org.apache.hadoop.hdfs.protocol.HdfsFileStatus;

/**
 * Lists an HDFS directory starting after a given name: the NameNode's own paged listing ({@code
 * getListing} with a start-after key, which {@code FileSystem#listStatusIterator} uses from the
 * beginning), so the cost of a cycle is the new entries, not the directory's size.
 *
 * <p>Thread safety: an iterator is used by one thread.
 */
final class HdfsListing {
  private HdfsListing() {}

  static RemoteIterator<FileStatus> after(DistributedFileSystem dfs, Path dir, String startAfter)
      throws IOException {
    String src = dir.toUri().getPath();
    DirectoryListing first =
        dfs.getClient().listPaths(src, startAfter.getBytes(StandardCharsets.UTF_8), false);
    if (first == null) {
      throw new java.io.FileNotFoundException("Directory " + dir + " does not exist");
    }
    return new RemoteIterator<>() {
      private DirectoryListing page = first;
      private int i;

      @Override
      public boolean hasNext() throws IOException {
        while (i >= page.getPartialListing().length) {
          if (!page.hasMore()) {
            return false;
          }
          DirectoryListing next = dfs.getClient().listPaths(src, page.getLastName(), false);
          if (next == null) {
            return false; // directory removed meanwhile
          }
          page = next;
          i = 0;
        }
        return true;
      }

      @Override
      public FileStatus next() throws IOException {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        HdfsFileStatus s = page.getPartialListing()[i++];
        return s.makeQualified(dfs.getUri(), dir);
      }
    };
  }
}
