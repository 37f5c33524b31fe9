package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets in a pipeline file (pass-through client and Hadoop settings) never appear in validation
 * errors, the CLI's output or the {@code toString} of the configuration records.
 */
class SensitiveConfigTest {
  private static final String JAAS_SECRET = "hunter2-jaas";
  private static final String KEY_SECRET = "k3y-pass";
  private static final String S3_SECRET = "s3cr3t-s3-key";

  /** A kafka source with a malformed client property next to secrets; the sink is fine. */
  private static final String BAD_KAFKA =
      """
      pipelines:
        - id: k
          checkpoint: /tmp/tributary-sensitive-test/k
          source:
            type: kafka
            bootstrap-servers: "127.0.0.1:9092"
            topics: [a]
            kafka.ssl.key.password: %s
            client-properties:
              - "security.protocol SASL_SSL"
              - "sasl.jaas.config=x.ScramLoginModule required password=\\"%s\\";"
          sinks: [ { type: console } ]
      """
          .formatted(KEY_SECRET, JAAS_SECRET);

  @TempDir Path tmp;

  private static List<String> problems(String yaml) {
    try {
      GatewayConfig.parse(new StringReader(yaml), "test.yaml");
    } catch (GatewayConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected problems in:\n" + yaml);
  }

  @Test
  void aMalformedClientPropertyIsReportedOnItsLineWithoutAnySecret() {
    assertThat(problems(BAD_KAFKA))
        .singleElement()
        .asString()
        .startsWith("test.yaml:")
        .contains("pipelines[0].source.client-properties")
        .contains("not name=value")
        .doesNotContain(JAAS_SECRET)
        .doesNotContain(KEY_SECRET);
  }

  @Test
  void theCliPrintsTheProblemButNoSecret() throws Exception {
    Path file = Files.writeString(tmp.resolve("bad.yaml"), BAD_KAFKA);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    int validate;
    int run;
    try {
      PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8);
      System.setOut(capture);
      System.setErr(capture);
      validate = TributaryCli.execute("validate", "--config", file.toString());
      run = TributaryCli.execute("run", "--config", file.toString());
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
    assertThat(validate).isEqualTo(TributaryCli.INVALID);
    assertThat(run).isEqualTo(TributaryCli.INVALID);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("client-properties")
        .doesNotContain(JAAS_SECRET)
        .doesNotContain(KEY_SECRET);
  }

  @Test
  void pipelineRecordsPrintSettingsButMaskSecrets() {
    String yaml =
        """
        pipelines:
          - id: clicks
            settings: { batch-interval: 2s }
            checkpoint: s3a://bucket/checkpoints/clicks
            checkpoint-options: { hadoop: { fs.s3a.secret.key: %s, fs.s3a.path.style.access: true } }
            wal-dir: ./data/wal/clicks
            source: { type: test-sequence, count: 10 }
            sinks:
              - type: hadoop-files
                path: s3a://bucket/out/clicks
                hadoop: { fs.s3a.secret.key: %s, fs.s3a.endpoint: "http://127.0.0.1:9000" }
        """
            .formatted(S3_SECRET, S3_SECRET);
    GatewayConfig.PipelineConfig p =
        GatewayConfig.parse(new StringReader(yaml), "test.yaml").pipelines().get(0);
    assertThat(p.toString())
        .contains("fs.s3a.secret.key")
        .contains("fs.s3a.path.style.access=true")
        .contains("http://127.0.0.1:9000")
        .doesNotContain(S3_SECRET);
    assertThat(p.sinks().get(0).toString()).contains("fs.s3a.endpoint").doesNotContain(S3_SECRET);
    assertThat(p.options().toString()).contains("batch-interval");
  }
}
