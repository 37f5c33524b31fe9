package io.tributary.connector.file.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.checkpoint.HadoopCheckpointStorageFactory;
import io.tributary.core.api.ConfigDocs;
import io.tributary.core.api.ConfigSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code hadoop-files} sink's and the Hadoop checkpoint storage's configuration tables in
 * connector-file/README.md are generated from their option declarations; this test fails when a
 * table is stale. Regenerate with {@code mvn -pl connector-file -am test
 * -Dtest=SinkCheckpointReadmeTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dtributary.regenerateDocs=true}.
 */
class SinkCheckpointReadmeTest {
  private static final Map<String, ConfigSpec> TABLES =
      Map.of(
          "hadoop-files-sink",
          HadoopFilesSinkFactory.SPEC,
          "hadoop-checkpoint",
          HadoopCheckpointStorageFactory.SPEC);

  @Test
  void readmeConfigTablesMatchTheDeclaredOptions() throws Exception {
    Path readme = Path.of(System.getProperty("basedir", "."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    String expected = text;
    for (Map.Entry<String, ConfigSpec> t : TABLES.entrySet()) {
      String start = "<!-- config-table:" + t.getKey() + ":start (generated; do not edit) -->\n";
      String end = "<!-- config-table:" + t.getKey() + ":end -->";
      int s = expected.indexOf(start);
      int e = expected.indexOf(end);
      assertThat(s)
          .as("README.md must contain the marker " + start.trim())
          .isGreaterThanOrEqualTo(0);
      assertThat(e).as("README.md must contain the marker " + end).isGreaterThan(s);
      expected =
          expected.substring(0, s + start.length())
              + ConfigDocs.markdownTable(t.getValue())
              + expected.substring(e);
    }
    if (Boolean.getBoolean("tributary.regenerateDocs")) {
      Files.writeString(readme, expected, StandardCharsets.UTF_8);
      return;
    }
    assertThat(text)
        .as(
            "A sink/checkpoint table in connector-file/README.md is stale. Regenerate it with:\n"
                + "  mvn -pl connector-file -am test -Dtest=SinkCheckpointReadmeTest -Dsurefire.failIfNoSpecifiedTests=false"
                + " -Dtributary.regenerateDocs=true\nand commit README.md.")
        .isEqualTo(expected);
  }
}
