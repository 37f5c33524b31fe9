package io.tributary.connector.file.checkpoint;

import io.tributary.connector.file.testing.MiniHdfs;
import io.tributary.connector.file.testing.MiniHdfsExtension;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The checkpoint contract on a real HDFS (MiniDFSCluster): temp file, hsync, rename with overwrite.
 */
@ExtendWith(MiniHdfsExtension.class)
class HdfsCheckpointStorageIT extends CheckpointStorageContract {
  private final MiniHdfs hdfs;

  HdfsCheckpointStorageIT(MiniHdfs hdfs) {
    this.hdfs = hdfs;
  }

  @Override
  URI newRoot() {
    return hdfs.newDirectory("checkpoint");
  }

  @Override
  Map<String, String> hadoop() {
    return hdfs.hadoopSettings();
  }
}
