package io.tributary.connector.file.pipeline;

import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.connector.file.testing.S3Server;
import io.tributary.connector.file.testing.S3ServerExtension;
import java.net.URI;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.extension.ExtendWith;

/** Pipeline recovery with the checkpoint and the output on a real S3-compatible server. */
@ExtendWith(S3ServerExtension.class)
class S3PipelineRecoveryIT extends PipelineRecoveryContract {
  private final S3Server s3;
  private final String bucket;

  S3PipelineRecoveryIT(S3Server s3) {
    this.s3 = s3;
    this.bucket = s3.createBucket("pipeline");
  }

  @Override
  URI newBase() {
    return S3Server.s3a(bucket, "p-" + UUID.randomUUID());
  }

  @Override
  Map<String, String> hadoop() {
    return s3.hadoopSettings();
  }

  @Override
  PublishMode expectedCheckpointMode() {
    return PublishMode.DIRECT;
  }
}
