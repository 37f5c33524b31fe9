package io.tributary.connector.kafka;

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
 * The configuration tables in connector-kafka/README.md are generated from {@link KafkaOptions};
 * this test fails when they are stale. Regenerate with {@code mvn -pl connector-kafka -am test
 * -Dtest=KafkaReadmeTest -Dsurefire.failIfNoSpecifiedTests=false -Dtributary.regenerateDocs=true}.
 */
class KafkaReadmeTest {
  private static final Map<String, ConfigSpec> TABLES =
      Map.of(
          "source", KafkaOptions.SOURCE,
          "group-source", KafkaOptions.GROUP_SOURCE,
          "sink", KafkaOptions.SINK,
          "at-least-once-sink", KafkaOptions.AT_LEAST_ONCE_SINK);

  @Test
  void readmeConfigTablesMatchTheDeclaredOptions() throws Exception {
    Path readme = Path.of(System.getProperty("basedir", "."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    for (String name : List.of("source", "group-source", "sink", "at-least-once-sink")) {
      String start =
          "<!-- config-table:" + name + ":start (generated from KafkaOptions; do not edit) -->\n";
      String end = "<!-- config-table:" + name + ":end -->";
      int s = text.indexOf(start);
      int e = text.indexOf(end);
      assertThat(s)
          .as("README.md must contain the marker " + start.trim())
          .isGreaterThanOrEqualTo(0);
      assertThat(e).as("README.md must contain the marker " + end).isGreaterThan(s);
      String expected = ConfigDocs.markdownTable(TABLES.get(name));
      if (Boolean.getBoolean("tributary.regenerateDocs")) {
        text = text.substring(0, s + start.length()) + expected + text.substring(e);
        continue;
      }
      assertThat(text.substring(s + start.length(), e))
          .as(
              "The "
                  + name
                  + " configuration table in connector-kafka/README.md is stale. Regenerate it with:\n"
                  + "  mvn -pl connector-kafka -am test -Dtest=KafkaReadmeTest -Dsurefire.failIfNoSpecifiedTests=false"
                  + " -Dtributary.regenerateDocs=true\nand commit README.md.")
          .isEqualTo(expected);
    }
    if (Boolean.getBoolean("tributary.regenerateDocs")) {
      Files.writeString(readme, text, StandardCharsets.UTF_8);
    }
  }
}
