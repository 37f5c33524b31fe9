package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.ConfigDocs;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.runtime.PipelineOptions;
import io.tributary.core.sinks.ConsoleSinkFactory;
import io.tributary.core.sinks.FilesSinkFactory;
import io.tributary.gateway.internal.Transforms;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The configuration tables of {@code gateway/README.md} are generated from the option declarations.
 * When a declaration changes this test fails; run it with {@code -Dtributary.updateReadme=true} to
 * rewrite the tables, then commit.
 */
class ReadmeTablesTest {
  private static final Path README = Path.of("README.md");

  private static Map<String, ConfigSpec> tables() {
    Map<String, ConfigSpec> t = new LinkedHashMap<>();
    t.put("settings", PipelineOptions.SPEC);
    t.put("sink-files", FilesSinkFactory.SPEC);
    t.put("sink-console", ConsoleSinkFactory.SPEC);
    t.put("transform-filter", Transforms.FILTER_SPEC);
    t.put("transform-map", Transforms.MAP_SPEC);
    return t;
  }

  @Test
  void readmeTablesMatchTheDeclarations() throws Exception {
    String readme = Files.readString(README);
    String expected = readme;
    for (Map.Entry<String, ConfigSpec> e : tables().entrySet()) {
      String begin = "<!-- generated:" + e.getKey() + " -->\n";
      String end = "<!-- /generated:" + e.getKey() + " -->";
      int from = expected.indexOf(begin);
      int to = expected.indexOf(end);
      assertThat(from).as("README.md has the marker %s", begin.strip()).isNotNegative();
      assertThat(to).as("README.md has the marker %s", end).isGreaterThan(from);
      expected =
          expected.substring(0, from + begin.length())
              + ConfigDocs.markdownTable(e.getValue())
              + expected.substring(to);
    }
    if (!expected.equals(readme) && Boolean.getBoolean("tributary.updateReadme")) {
      Files.writeString(README, expected);
      readme = expected;
    }
    assertThat(readme)
        .as(
            "gateway/README.md tables are stale: run this test with -Dtributary.updateReadme=true and commit")
        .isEqualTo(expected);
  }
}
