package io.tributary.connector.file.internal.source;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.NoSuchElementException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Lists an S3 "directory" starting after a given name: {@code ListObjectsV2} with {@code
 * StartAfter} and a {@code /} delimiter, through the S3A file system's own client (its credentials,
 * endpoint and retries). S3 returns keys in UTF-8 binary order, so with {@code ordered-file-names}
 * a cycle pays for the new keys only, not for the thousands of objects already seen — the request
 * S3A's {@code listStatusIterator} cannot make.
 *
 * <p>Entries are returned in key order: objects as files (length, last-modified time), common
 * prefixes as directories (modification time 0). Zero-length keys ending in {@code /} (directory
 * markers) are skipped.
 *
 * <p>Thread safety: an iterator is used by one thread.
 */
final class S3Listing {
  private S3Listing() {}

  static RemoteIterator<FileStatus> after(S3AFileSystem fs, Path dir, String startAfter)
      throws IOException {
    return after(fs, dir, startAfter, 1_000);
  }

  /**
   * As {@link #after(S3AFileSystem, Path, String)} with at most {@code pageSize} keys per request.
   */
  static RemoteIterator<FileStatus> after(
      S3AFileSystem fs, Path dir, String startAfter, int pageSize) throws IOException {
    String key = fs.pathToKey(fs.makeQualified(dir));
    String prefix = key.isEmpty() || key.endsWith("/") ? key : key + "/";
    S3Client s3 =
        fs.getS3AInternals()
            .getAmazonS3Client("tributary files source: listing after " + startAfter);
    ListObjectsV2Request first =
        ListObjectsV2Request.builder()
            .bucket(fs.getBucket())
            .prefix(prefix)
            .delimiter("/")
            .startAfter(prefix + startAfter)
            .maxKeys(pageSize)
            .build();
    Path qualifiedDir = fs.makeQualified(dir);
    return new RemoteIterator<>() {
      private final Deque<FileStatus> page = new ArrayDeque<>();
      private ListObjectsV2Request next = first;

      @Override
      public boolean hasNext() throws IOException {
        while (page.isEmpty() && next != null) {
          ListObjectsV2Response r;
          try {
            r = s3.listObjectsV2(next);
          } catch (SdkException e) {
            throw new IOException(
                "Listing s3a://"
                    + fs.getBucket()
                    + "/"
                    + prefix
                    + " after "
                    + startAfter
                    + " failed: "
                    + e.getMessage(),
                e);
          }
          fill(r);
          next =
              Boolean.TRUE.equals(r.isTruncated())
                  ? first.toBuilder()
                      .startAfter(null)
                      .continuationToken(r.nextContinuationToken())
                      .build()
                  : null;
        }
        return !page.isEmpty();
      }

      private void fill(ListObjectsV2Response r) {
        // Objects and common prefixes come in two lists; merge them back into key order.
        var objects = r.contents().iterator();
        var prefixes = r.commonPrefixes().iterator();
        S3Object o = objects.hasNext() ? objects.next() : null;
        CommonPrefix p = prefixes.hasNext() ? prefixes.next() : null;
        while (o != null || p != null) {
          if (p == null || (o != null && o.key().compareTo(p.prefix()) < 0)) {
            if (!o.key().endsWith("/")) {
              String name = o.key().substring(prefix.length());
              long mtime = o.lastModified() == null ? 0L : o.lastModified().toEpochMilli();
              page.add(
                  new FileStatus(
                      o.size(),
                      false,
                      1,
                      fs.getDefaultBlockSize(qualifiedDir),
                      mtime,
                      new Path(qualifiedDir, new Path(null, null, name))));
            }
            o = objects.hasNext() ? objects.next() : null;
          } else {
            String name = p.prefix().substring(prefix.length(), p.prefix().length() - 1);
            page.add(
                new FileStatus(
                    0, true, 1, 0, 0, new Path(qualifiedDir, new Path(null, null, name))));
            p = prefixes.hasNext() ? prefixes.next() : null;
          }
        }
      }

      @Override
      public FileStatus next() throws IOException {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return page.poll();
      }
    };
  }
}
