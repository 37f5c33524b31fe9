package io.tributary.connector.file.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigProblem;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.SinkFactory;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * The {@code hadoop-files} sink type: discovery, options, publish mode per scheme, secrets kept out
 * of logs.
 */
class HadoopFilesSinkFactoryTest {
  @Test
  void isFoundThroughServiceLoaderAsHadoopFilesAndIsIdempotent() {
    SinkFactory f =
        ServiceLoader.load(SinkFactory.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(x -> x.type().equals("hadoop-files"))
            .findFirst()
            .orElseThrow();
    assertThat(f.guarantee()).isEqualTo(Guarantee.EXACTLY_ONCE_IDEMPOTENT);
    Config c =
        f.options()
            .parse(
                Map.of(
                    "path",
                    "s3a://bucket/out",
                    "max-file-size",
                    "16mb",
                    "hadoop.fs.s3a.endpoint",
                    "http://x",
                    "hadoop.fs.s3a.secret.key",
                    "s3cr3t"));
    HadoopFileSink sink = (HadoopFileSink) f.create("out", c);
    assertThat(sink.publishMode()).isEqualTo(PublishMode.DIRECT);
    assertThat(sink.guarantee()).isEqualTo(Guarantee.EXACTLY_ONCE_IDEMPOTENT);
    assertThat(c.get(HadoopFilesSinkFactory.MAX_FILE_SIZE)).isEqualTo(16L * 1024 * 1024);
  }

  @Test
  void reportsEveryBadOptionAtOnce() {
    assertThat(
            HadoopFilesSinkFactory.SPEC.validate(
                Map.of(
                    "path",
                    "hdfs://nn:8020",
                    "prefix",
                    ".hidden",
                    "publish",
                    "sometimes",
                    "colour",
                    "red")))
        .extracting(ConfigProblem::key)
        .containsExactlyInAnyOrder("path", "prefix", "publish", "colour");
  }

  @Test
  void aPlainPathIsTheLocalFileSystem() {
    assertThat(HadoopFilesSinkFactory.toUri("out/x").getScheme()).isEqualTo("file");
    assertThat(HadoopFilesSinkFactory.toUri("hdfs://nn:8020/x").getScheme()).isEqualTo("hdfs");
  }

  @Test
  void redactsSecretsButKeepsOtherSettingsForLogs() {
    String logged =
        Secrets.describe(
            Map.of(
                "fs.s3a.secret.key",
                "s3cr3t",
                "fs.s3a.access.key",
                "AKIA1",
                "fs.s3a.endpoint",
                "http://127.0.0.1:9000",
                "fs.s3a.aws.credentials.provider",
                "x.Simple"));
    assertThat(logged)
        .doesNotContain("s3cr3t", "AKIA1")
        .contains("http://127.0.0.1:9000", "x.Simple");
  }

  @Test
  void autoPublishesDirectlyOnObjectStoresAndByRenameElsewhere() {
    assertThat(HadoopFileSystems.effectiveMode(PublishMode.AUTO, "s3a"))
        .isEqualTo(PublishMode.DIRECT);
    assertThat(HadoopFileSystems.effectiveMode(PublishMode.AUTO, "hdfs"))
        .isEqualTo(PublishMode.RENAME);
    assertThat(HadoopFileSystems.effectiveMode(PublishMode.AUTO, "file"))
        .isEqualTo(PublishMode.RENAME);
    assertThat(HadoopFileSystems.effectiveMode(PublishMode.RENAME, "s3a"))
        .isEqualTo(PublishMode.RENAME);
  }

  @Test
  void aMalformedHadoopPropertyNeverEchoesTheSecretsBesideIt() {
    java.util.List<ConfigProblem> problems =
        io.tributary.connector.file.FileSourceOptions.SPEC.validate(
            Map.of(
                "paths",
                "s3a://bucket/in",
                "hadoop.fs.s3a.access.key",
                "AKIA-SECRET-ID",
                "hadoop-properties",
                java.util.List.of(
                    "fs.s3a.secret.key=s3cr3t-value", "fs.s3a.session.token tok3n-value")));
    assertThat(problems)
        .singleElement()
        .satisfies(
            p ->
                assertThat(p.message())
                    .contains("hadoop-properties")
                    .contains("entry 2 (without '=')")
                    .doesNotContain("s3cr3t-value", "tok3n-value", "AKIA-SECRET-ID"));
  }
}
