package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.ConfigDocs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's option tables are the ones generated from {@link TributarySparkOptions}. */
class SparkReadmeTest {
  @Test
  void readmeConfigTableMatchesTheDeclaredOptions() throws Exception {
    check("spark-source", TributarySparkOptions.SPEC);
  }

  @Test
  void readmeSinkConfigTableMatchesTheDeclaredOptions() throws Exception {
    check("spark-sink", TributarySparkOptions.SINK_SPEC);
  }

  private static void check(String table, io.tributary.core.api.ConfigSpec spec) throws Exception {
    Path readme = Path.of(System.getProperty("basedir", "."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    String start =
        "<!-- config-table:"
            + table
            + ":start (generated from TributarySparkOptions; do not edit)"
            + " -->\n";
    String end = "<!-- config-table:" + table + ":end -->";
    int s = text.indexOf(start);
    int e = text.indexOf(end);
    assertThat(s).as("README.md must contain the marker " + start.trim()).isGreaterThanOrEqualTo(0);
    assertThat(e).as("README.md must contain the marker " + end).isGreaterThan(s);
    String expected = ConfigDocs.markdownTable(spec);
    if (Boolean.getBoolean("tributary.regenerateDocs")) {
      Files.writeString(
          readme,
          text.substring(0, s + start.length()) + expected + text.substring(e),
          StandardCharsets.UTF_8);
      return;
    }
    assertThat(text.substring(s + start.length(), e))
        .as(
            "The configuration table in connector-spark/README.md is stale. Regenerate it with:\n"
                + "  mvn -pl connector-spark -am test -Dtest=SparkReadmeTest"
                + " -Dsurefire.failIfNoSpecifiedTests=false -Dtributary.regenerateDocs=true")
        .isEqualTo(expected);
  }
}
