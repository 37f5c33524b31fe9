package io.tributary.connector.file.sink;

import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.connector.file.testing.MiniHdfs;
import io.tributary.connector.file.testing.MiniHdfsExtension;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtendWith;

/** The sink contract on a real HDFS: temp file, hsync, rename with overwrite. */
@ExtendWith(MiniHdfsExtension.class)
class HdfsFileSinkIT extends FileSinkContract {
  private final MiniHdfs hdfs;

  HdfsFileSinkIT(MiniHdfs hdfs) {
    this.hdfs = hdfs;
  }

  @Override
  URI newDir() {
    return hdfs.newDirectory("sink");
  }

  @Override
  Map<String, String> hadoop() {
    return hdfs.hadoopSettings();
  }

  @Override
  PublishMode expectedMode() {
    return PublishMode.RENAME;
  }
}
