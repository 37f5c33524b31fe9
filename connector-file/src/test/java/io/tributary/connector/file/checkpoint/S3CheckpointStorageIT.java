package io.tributary.connector.file.checkpoint;

import io.tributary.connector.file.testing.S3Server;
import io.tributary.connector.file.testing.S3ServerExtension;
import java.net.URI;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The checkpoint contract on a real S3-compatible server (s3proxy): one PUT on close, no rename.
 */
@ExtendWith(S3ServerExtension.class)
class S3CheckpointStorageIT extends CheckpointStorageContract {
  private final S3Server s3;
  private final String bucket;

  S3CheckpointStorageIT(S3Server s3) {
    this.s3 = s3;
    this.bucket = s3.createBucket("checkpoint");
  }

  @Override
  URI newRoot() {
    return S3Server.s3a(bucket, "checkpoints/" + UUID.randomUUID());
  }

  @Override
  Map<String, String> hadoop() {
    return s3.hadoopSettings();
  }
}
