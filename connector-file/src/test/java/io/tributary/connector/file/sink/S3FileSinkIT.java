package io.tributary.connector.file.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.connector.file.testing.S3Server;
import io.tributary.connector.file.testing.S3ServerExtension;
import java.net.URI;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The sink contract on a real S3-compatible server: direct writes that appear whole on close,
 * aborted on failure.
 */
@ExtendWith(S3ServerExtension.class)
class S3FileSinkIT extends FileSinkContract {
  private final S3Server s3;
  private final String bucket;

  S3FileSinkIT(S3Server s3) {
    this.s3 = s3;
    this.bucket = s3.createBucket("sink");
  }

  @Override
  URI newDir() {
    return S3Server.s3a(bucket, "out/" + UUID.randomUUID());
  }

  @Override
  Map<String, String> hadoop() {
    return s3.hadoopSettings();
  }

  @Override
  Map<String, String> childWriterSettings() {
    // 5 MB parts: the killed writer has started a multipart upload and sent parts, which must stay
    // invisible.
    return Map.of(
        "fs.s3a.multipart.size",
        "5M",
        "fs.s3a.multipart.threshold",
        "5M",
        "fs.s3a.fast.upload.active.blocks",
        "1");
  }

  @Override
  void afterWriterKilled(URI dir) {
    // The writer got far enough to start a multipart upload and send parts: data reached S3, yet no
    // object exists.
    try (S3Client c = s3.client()) {
      String prefix = dir.getPath().substring(1);
      assertThat(c.listMultipartUploads(b -> b.bucket(bucket).prefix(prefix)).uploads())
          .isNotEmpty();
    }
  }

  @Override
  PublishMode expectedMode() {
    return PublishMode.DIRECT;
  }
}
