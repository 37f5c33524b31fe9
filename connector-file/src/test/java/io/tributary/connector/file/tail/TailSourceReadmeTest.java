package io.tributary.connector.file.tail;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.TailSourceOptions;
import io.tributary.core.api.ConfigDocs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The {@code files-tail} configuration table in connector-file/README.md is generated from {@link
 * TailSourceOptions}; this test fails when it is stale. Regenerate with {@code mvn -pl
 * connector-file -am test -Dtest=TailSourceReadmeTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dtributary.regenerateDocs=true}.
 */
class TailSourceReadmeTest {
  static final String START =
      "<!-- config-table:files-tail-source:start (generated from TailSourceOptions; do not edit) -->\n";
  static final String END = "<!-- config-table:files-tail-source:end -->";

  @Test
  void readmeConfigTableMatchesTheDeclaredOptions() throws Exception {
    Path readme = Path.of(System.getProperty("basedir", "."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    int s = text.indexOf(START);
    int e = text.indexOf(END);
    assertThat(s).as("README.md must contain the marker " + START.trim()).isGreaterThanOrEqualTo(0);
    assertThat(e).as("README.md must contain the marker " + END).isGreaterThan(s);
    String expected = ConfigDocs.markdownTable(TailSourceOptions.SPEC);
    if (Boolean.getBoolean("tributary.regenerateDocs")) {
      Files.writeString(
          readme, text.substring(0, s + START.length()) + expected + text.substring(e));
      return;
    }
    assertThat(text.substring(s + START.length(), e))
        .as(
            "The files-tail table in connector-file/README.md is stale. Regenerate it with:\n"
                + "  mvn -pl connector-file -am test -Dtest=TailSourceReadmeTest -Dsurefire.failIfNoSpecifiedTests=false"
                + " -Dtributary.regenerateDocs=true\nand commit README.md.")
        .isEqualTo(expected);
  }
}
