package io.tributary.connector.kinesis;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.ConfigDocs;
import io.tributary.core.api.ConfigSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The configuration tables in connector-kinesis/README.md are generated from {@link
 * KinesisOptions}; this test fails when they are stale. Regenerate with {@code mvn -pl
 * connector-kinesis -am test -Dtest=KinesisReadmeTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dtributary.regenerateDocs=true}.
 */
class KinesisReadmeTest {
  private static final Map<String, ConfigSpec> TABLES =
      Map.of(
          "source",
          KinesisOptions.SOURCE,
          "sink",
          KinesisOptions.SINK,
          "kcl-source",
          KinesisOptions.KCL_SOURCE);

  @Test
  void readmeConfigTablesMatchTheDeclaredOptions() throws Exception {
    Path readme = Path.of(System.getProperty("basedir", "."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    for (String name : List.of("source", "sink", "kcl-source")) {
      String start =
          "<!-- config-table:" + name + ":start (generated from KinesisOptions; do not edit) -->\n";
      String end = "<!-- config-table:" + name + ":end -->";
      int s = text.indexOf(start);
      int e = text.indexOf(end);
      assertThat(s).as("README.md must contain " + start.trim()).isGreaterThanOrEqualTo(0);
      assertThat(e).as("README.md must contain " + end).isGreaterThan(s);
      String expected = ConfigDocs.markdownTable(TABLES.get(name));
      if (Boolean.getBoolean("tributary.regenerateDocs")) {
        text = text.substring(0, s + start.length()) + expected + text.substring(e);
        continue;
      }
      assertThat(text.substring(s + start.length(), e))
          .as(
              "The "
                  + name
                  + " configuration table in connector-kinesis/README.md is stale. Regenerate it with:\n"
                  + "  mvn -pl connector-kinesis -am test -Dtest=KinesisReadmeTest"
                  + " -Dsurefire.failIfNoSpecifiedTests=false -Dtributary.regenerateDocs=true")
          .isEqualTo(expected);
    }
    if (Boolean.getBoolean("tributary.regenerateDocs")) {
      Files.writeString(readme, text, StandardCharsets.UTF_8);
    }
  }
}
