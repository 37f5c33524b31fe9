package io.tributary.connector.file.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.internal.hadoop.PublishMode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sink contract on the local file system (an IT: the crash case kills a child JVM). */
class LocalFileSinkIT extends FileSinkContract {
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
}
