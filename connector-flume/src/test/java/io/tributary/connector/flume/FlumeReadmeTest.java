package io.tributary.connector.flume;

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
 * The configuration tables in connector-flume/README.md are generated from {@link FlumeOptions} and
 * {@link FlumeSinkOptions}; this test fails when they are stale. Regenerate with {@code mvn -pl
 * connector-flume -am test -Dtest=FlumeReadmeTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dtributary.regenerateDocs=true}.
 */
class FlumeReadmeTest {
  private static final Map<String, ConfigSpec> TABLES =
      Map.of("source", FlumeOptions.SPEC, "sink", FlumeSinkOptions.SPEC);

  @Test
  void readmeConfigTablesMatchTheDeclaredOptions() throws Exception {
    Path readme = Path.of(System.getProperty("basedir", "."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    boolean regenerate = Boolean.getBoolean("tributary.regenerateDocs");
    for (String name : List.of("source", "sink")) {
      String start =
          "<!-- config-table:" + name + ":start (generated from the options; do not edit) -->\n";
      String end = "<!-- config-table:" + name + ":end -->";
      int s = text.indexOf(start);
      int e = text.indexOf(end);
      assertThat(s).as("README.md must contain " + start.trim()).isGreaterThanOrEqualTo(0);
      assertThat(e).as("README.md must contain " + end).isGreaterThan(s);
      String expected = ConfigDocs.markdownTable(TABLES.get(name));
      if (regenerate) {
        text = text.substring(0, s + start.length()) + expected + text.substring(e);
        continue;
      }
      assertThat(text.substring(s + start.length(), e))
          .as(
              "The "
                  + name
                  + " table in connector-flume/README.md is stale. Regenerate it with:\n"
                  + "  mvn -pl connector-flume -am test -Dtest=FlumeReadmeTest"
                  + " -Dsurefire.failIfNoSpecifiedTests=false -Dtributary.regenerateDocs=true")
          .isEqualTo(expected);
    }
    if (regenerate) {
      Files.writeString(readme, text, StandardCharsets.UTF_8);
    }
  }
}
