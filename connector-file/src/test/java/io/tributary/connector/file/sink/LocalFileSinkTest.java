package io.tributary.connector.file.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigProblem;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.SinkFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sink contract on the local file system, plus the factory's options. */
class LocalFileSinkTest extends FileSinkContract {
  @TempDir Path tmp;

  @Override
  URI newDir() {
    return tmp.resolve("out").toUri();
  }

  @Override
  Map<String, String> hadoop() {
    return Map.of();
  }

  @Override
  PublishMode expectedMode() {
    return PublishMode.RENAME;
  }

  @Test
  void writesNoChecksumSideFilesAndRemovesStaleTempsOnOpen() throws Exception {
    Path out = tmp.resolve("out");
    Files.createDirectories(out);
    Files.writeString(out.resolve(".part-00000000000000000004-00000.txt.tmp"), "partial");
    openSink(100).write(4, lines(0, 3));
    try (var s = Files.list(out)) {
      assertThat(s.map(p -> p.getFileName().toString()))
          .containsExactly("part-00000000000000000004-00000.txt");
    }
  }

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
            .parse(Map.of("path", "s3a://bucket/out", "max-file-size", "16mb", "hadoop.fs.s3a.endpoint", "http://x",
                "hadoop.fs.s3a.secret.key", "s3cr3t"));
    HadoopFileSink sink = (HadoopFileSink) f.create("out", c);
    assertThat(sink.publishMode()).isEqualTo(PublishMode.DIRECT);
    assertThat(sink.guarantee()).isEqualTo(Guarantee.EXACTLY_ONCE_IDEMPOTENT);
    assertThat(c.get(HadoopFilesSinkFactory.MAX_FILE_SIZE)).isEqualTo(16L * 1024 * 1024);
  }

  @Test
  void reportsEveryBadOptionAtOnce() {
    assertThat(HadoopFilesSinkFactory.SPEC.validate(Map.of("path", "hdfs://nn:8020", "prefix", ".hidden",
            "publish", "sometimes", "colour", "red")))
        .extracting(ConfigProblem::key)
        .containsExactlyInAnyOrder("path", "prefix", "publish", "colour");
  }

  @Test
  void aPlainPathIsTheLocalFileSystem() {
    assertThat(HadoopFilesSinkFactory.toUri("out/x").getScheme()).isEqualTo("file");
    assertThat(HadoopFilesSinkFactory.toUri("hdfs://nn:8020/x").getScheme()).isEqualTo("hdfs");
  }
}
