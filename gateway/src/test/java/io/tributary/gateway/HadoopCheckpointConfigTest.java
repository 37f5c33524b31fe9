package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pipeline files with checkpoints on HDFS and S3 and the {@code hadoop-files} sink, validated with
 * connector-file's real factories on the classpath (validation connects to nothing).
 */
class HadoopCheckpointConfigTest {
  private static final String HDFS =
      """
      pipelines:
        - id: clicks
          checkpoint: hdfs://127.0.0.1:8020/tributary/checkpoints/clicks
          checkpoint-options: { hadoop: { dfs.client.use.datanode.hostname: false } }
          wal-dir: ./data/wal/clicks
          source: { type: test-sequence, count: 10 }
          sinks:
            - type: hadoop-files
              path: hdfs://127.0.0.1:8020/tributary/out/clicks
              hadoop: { dfs.replication: 2 }
      """;

  private static List<String> problems(String yaml) {
    try {
      GatewayConfig.parse(new StringReader(yaml), "test.yaml");
    } catch (GatewayConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected problems in:\n" + yaml);
  }

  @Test
  void acceptsAnHdfsCheckpointWithHadoopOptionsAndTheHadoopFilesSink() {
    GatewayConfig.PipelineConfig p =
        GatewayConfig.parse(new StringReader(HDFS), "test.yaml").pipelines().get(0);
    assertThat(p.checkpointLocation())
        .isEqualTo("hdfs://127.0.0.1:8020/tributary/checkpoints/clicks");
    assertThat(p.checkpointOptions())
        .containsEntry("hadoop.dfs.client.use.datanode.hostname", false);
    assertThat(p.sinks().get(0).type()).isEqualTo("hadoop-files");
    assertThat(p.walDir()).isNotNull();
  }

  @Test
  void acceptsAnS3aCheckpoint() {
    String yaml =
        HDFS.replace(
                "hdfs://127.0.0.1:8020/tributary/checkpoints/clicks",
                "s3a://bucket/checkpoints/clicks")
            .replace("dfs.client.use.datanode.hostname: false", "fs.s3a.path.style.access: true");
    assertThat(GatewayConfig.parse(new StringReader(yaml), "test.yaml").pipelines()).hasSize(1);
  }

  @Test
  void reportsABadCheckpointOptionOfTheHadoopStorageOnItsLine() {
    String yaml =
        HDFS.replace(
            "{ hadoop: { dfs.client.use.datanode.hostname: false } }", "{ publish: sometimes }");
    assertThat(problems(yaml))
        .singleElement()
        .asString()
        .startsWith("test.yaml:4:")
        .contains("Invalid value sometimes for pipelines[0].checkpoint-options.publish");
  }
}
