package io.tributary.connector.file.internal.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.testing.S3Server;
import io.tributary.connector.file.testing.S3ServerExtension;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The start-after listing against a real S3-compatible server: only keys after the last name seen
 * come back.
 */
@ExtendWith(S3ServerExtension.class)
class S3ListingIT {
  private final S3Server s3;

  S3ListingIT(S3Server s3) {
    this.s3 = s3;
  }

  @Test
  void listsOnlyKeysAfterTheLastNameSeenAcrossPagesOfTwentyFive() throws Exception {
    String bucket = s3.createBucket("listing");
    try (S3Client c = s3.client()) {
      for (int i = 0; i < 120; i++) {
        String key = String.format("in/f-%05d.txt", i);
        c.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString("line " + i + "\n"));
      }
      c.putObject(b -> b.bucket(bucket).key("in/zz-sub/x.txt"), RequestBody.fromString("x\n"));
      c.putObject(b -> b.bucket(bucket).key("other/f-99999.txt"), RequestBody.fromString("y\n"));
    }
    Path dir = new Path(S3Server.s3a(bucket, "in"));
    try (FileSystem fs =
        HadoopFileSystems.open(dir.toUri(), HadoopFileSystems.configuration(s3.hadoopSettings()))) {
      assertThat(fs).isInstanceOf(S3AFileSystem.class);

      List<FileStatus> after = drain(S3Listing.after((S3AFileSystem) fs, dir, "f-00049.txt", 25));

      assertThat(after).hasSize(120 - 50 + 1);
      assertThat(after.get(0).getPath().getName()).isEqualTo("f-00050.txt");
      assertThat(after.get(0).isFile()).isTrue();
      assertThat(after.get(0).getLen()).isEqualTo("line 50\n".length());
      assertThat(after.get(0).getModificationTime()).isPositive();
      assertThat(after.get(0).getPath().toString())
          .isEqualTo("s3a://" + bucket + "/in/f-00050.txt");
      assertThat(after.get(after.size() - 2).getPath().getName()).isEqualTo("f-00119.txt");
      FileStatus sub = after.get(after.size() - 1);
      assertThat(sub.getPath().getName()).isEqualTo("zz-sub");
      assertThat(sub.isDirectory()).isTrue();

      // A common prefix sorts after its own name ("in/zz-sub/" > "in/zz-sub"): the scanner skips
      // names <= the last one.
      assertThat(drain(S3Listing.after((S3AFileSystem) fs, dir, "zz-sub")))
          .extracting(f -> f.getPath().getName())
          .containsExactly("zz-sub");
      assertThat(drain(S3Listing.after((S3AFileSystem) fs, dir, "zzz"))).isEmpty();
    }
  }

  private static List<FileStatus> drain(RemoteIterator<FileStatus> it) throws Exception {
    List<FileStatus> out = new ArrayList<>();
    while (it.hasNext()) {
      out.add(it.next());
    }
    return out;
  }
}
