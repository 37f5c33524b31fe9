package io.tributary.connector.file.pipeline;

import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.connector.file.testing.MiniHdfs;
import io.tributary.connector.file.testing.MiniHdfsExtension;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtendWith;

/** Pipeline recovery with the checkpoint and the output on a real HDFS. */
@ExtendWith(MiniHdfsExtension.class)
class HdfsPipelineRecoveryIT extends PipelineRecoveryContract {
  private final MiniHdfs hdfs;

  HdfsPipelineRecoveryIT(MiniHdfs hdfs) {
    this.hdfs = hdfs;
  }

  @Override
  URI newBase() {
    return hdfs.newDirectory("pipeline");
  }

  @Override
  Map<String, String> hadoop() {
    return hdfs.hadoopSettings();
  }

  @Override
  PublishMode expectedCheckpointMode() {
    return PublishMode.RENAME;
  }
}
