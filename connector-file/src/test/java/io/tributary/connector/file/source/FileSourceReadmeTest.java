package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.FileSourceOptions;
import io.tributary.core.api.ConfigOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The source's configuration table in connector-file/README.md is generated from {@link FileSourceOptions}; this test
 * fails when it is stale. Regenerate with {@code mvn -pl connector-file -am test -Dtest=FileSourceReadmeTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dtributary.regenerateDocs=true}.
 */
class FileSourceReadmeTest {
  static final String START = "<!-- config-table:files-source:start (generated from FileSourceOptions; do not edit) -->\n";
  static final String END = "<!-- config-table:files-source:end -->";

  @Test
  void readmeConfigTableMatchesTheDeclaredOptions() throws Exception {
    Path readme = Path.of(System.getProperty("basedir", "."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    int s = text.indexOf(START);
    int e = text.indexOf(END);
    assertThat(s).as("README.md must contain the marker " + START.trim()).isGreaterThanOrEqualTo(0);
    assertThat(e).as("README.md must contain the marker " + END).isGreaterThan(s);
    String expected = markdown();
    if (Boolean.getBoolean("tributary.regenerateDocs")) {
      Files.writeString(readme, text.substring(0, s + START.length()) + expected + text.substring(e));
      return;
    }
    assertThat(text.substring(s + START.length(), e))
        .as("The files source table in connector-file/README.md is stale. Regenerate it with:\n"
            + "  mvn -pl connector-file -am test -Dtest=FileSourceReadmeTest -Dsurefire.failIfNoSpecifiedTests=false"
            + " -Dtributary.regenerateDocs=true\nand commit README.md.")
        .isEqualTo(expected);
  }

  static String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("| Key | Type | Default | Description |\n");
    sb.append("| --- | --- | --- | --- |\n");
    for (ConfigOption<?> o : FileSourceOptions.SPEC.options()) {
      sb.append("| `").append(o.isPrefix() ? o.name() + "*" : o.name()).append("` | ")
          .append(o.type().replace("|", "\\|").replace('_', '-')).append(" | ")
          .append(o.isRequired() ? "*required*" : formatDefault(o.defaultValue())).append(" | ")
          .append(o.description().replace("|", "\\|")).append(" |\n");
    }
    return sb.toString();
  }

  private static String formatDefault(Object value) {
    if (value == null) {
      return "-";
    }
    if (value instanceof Duration d) {
      return "`" + (d.toMillis() % 86_400_000 == 0 ? d.toDays() + "d" : d.toMillis() + "ms") + "`";
    }
    if (value instanceof Enum<?> en) {
      return "`" + en.name().toLowerCase(Locale.ROOT).replace('_', '-') + "`";
    }
    if (value instanceof Map<?, ?> m && m.isEmpty()) {
      return "(none)";
    }
    if (value instanceof List<?> l && l.isEmpty()) {
      return "(none)";
    }
    return "`" + value + "`";
  }
}
