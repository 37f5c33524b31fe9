package io.tributary.connector.file.internal.hadoop;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

class HadoopConfigurationTest {
  /**
   * Hadoop's JVM shutdown hook must not close our file systems under a batch still in flight (the
   * end-to-end case: it/S3ContainerFaultIT's SIGTERM during an S3 listing).
   */
  @Test
  void fileSystemsAreNotClosedByHadoopsShutdownHookUnlessTheUserAsks() {
    Configuration conf = HadoopFileSystems.configuration(Map.of("fs.s3a.endpoint", "http://x"));
    assertThat(conf.getBoolean("fs.automatic.close", true)).isFalse();
    assertThat(conf.get("fs.s3a.endpoint")).isEqualTo("http://x");
    assertThat(
            HadoopFileSystems.configuration(Map.of("fs.automatic.close", "true"))
                .getBoolean("fs.automatic.close", false))
        .isTrue();
  }
}
