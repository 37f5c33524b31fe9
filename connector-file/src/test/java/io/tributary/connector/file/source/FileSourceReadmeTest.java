package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.FileSourceOptions;
import io.tributary.connector.file.TailSourceOptions;
import io.tributary.core.api.ConfigDocs;
import io.tributary.core.api.ConfigSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The {@code files} and {@code files-tail} configuration tables in connector-file/README.md are
 * generated from {@link FileSourceOptions} and {@link TailSourceOptions}; this test fails when one
 * is stale. Regenerate with {@code mvn -pl connector-file -am test -Dtest=FileSourceReadmeTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dtributary.regenerateDocs=true}.
 */
class FileSourceReadmeTest {
  @Test
  void readmeConfigTableMatchesTheDeclaredOptions() throws Exception {
    checkTable("files-source", "FileSourceOptions", FileSourceOptions.SPEC);
  }

  @Test
  void readmeTailConfigTableMatchesTheDeclaredOptions() throws Exception {
    checkTable("files-tail-source", "TailSourceOptions", TailSourceOptions.SPEC);
  }

  private static void checkTable(String name, String declaredIn, ConfigSpec spec) throws Exception {
    String start =
        "<!-- config-table:"
            + name
            + ":start (generated from "
            + declaredIn
            + "; do not edit) -->\n";
    String end = "<!-- config-table:" + name + ":end -->";
    Path readme = Path.of(System.getProperty("basedir", "."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    int s = text.indexOf(start);
    int e = text.indexOf(end);
    assertThat(s).as("README.md must contain the marker " + start.trim()).isGreaterThanOrEqualTo(0);
    assertThat(e).as("README.md must contain the marker " + end).isGreaterThan(s);
    String expected = ConfigDocs.markdownTable(spec);
    if (Boolean.getBoolean("tributary.regenerateDocs")) {
      Files.writeString(
          readme, text.substring(0, s + start.length()) + expected + text.substring(e));
      return;
    }
    assertThat(text.substring(s + start.length(), e))
        .as(
            "The "
                + name
                + " table in connector-file/README.md is stale. Regenerate it with:\n"
                + "  mvn -pl connector-file -am test -Dtest=FileSourceReadmeTest -Dsurefire.failIfNoSpecifiedTests=false"
                + " -Dtributary.regenerateDocs=true\nand commit README.md.")
        .isEqualTo(expected);
  }
}
