package io.tributary.connector.file.sink;

import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.connector.file.testing.S3Server;
import io.tributary.connector.file.testing.S3ServerExtension;
import java.net.URI;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.extension.ExtendWith;

/** The sink contract on a real S3-compatible server: direct writes that appear whole on close, aborted on failure. */
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
  PublishMode expectedMode() {
    return PublishMode.DIRECT;
  }
}
