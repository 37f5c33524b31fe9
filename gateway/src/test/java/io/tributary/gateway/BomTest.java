package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code bom/pom.xml} ({@code tributary-bom}, for applications that embed Tributary) has no parent,
 * so nothing keeps it in step with the build but this test: the same version as the parent, and
 * every published module of the reactor listed (a connector also as its plugin archive).
 */
class BomTest {
  private static final Path ROOT = Path.of("..");
  private static final Pattern VERSION =
      Pattern.compile("<artifactId>tributary-(?:parent|bom)</artifactId>\\s*<version>([^<]+)<");

  private static String firstArtifactAfterParent(String pom) {
    int from = Math.max(0, pom.indexOf("</parent>"));
    Matcher m = Pattern.compile("<artifactId>([^<]+)</artifactId>").matcher(pom);
    return m.find(from) ? m.group(1) : null;
  }

  @Test
  void listsEveryPublishedModuleAtTheParentsVersion() throws Exception {
    String parent = Files.readString(ROOT.resolve("pom.xml"));
    String bom = Files.readString(ROOT.resolve("bom/pom.xml"));
    Matcher pv = VERSION.matcher(parent);
    Matcher bv = VERSION.matcher(bom);
    assertThat(pv.find()).isTrue();
    assertThat(bv.find()).isTrue();
    assertThat(bv.group(1)).as("tributary-bom's version").isEqualTo(pv.group(1));
    assertThat(bom).doesNotContain("<parent>");

    List<String> expected = new ArrayList<>();
    Matcher modules = Pattern.compile("<module>([^<]+)</module>").matcher(parent);
    while (modules.find()) {
      String dir = modules.group(1);
      if (List.of("bom", "it", "bench").contains(dir)) {
        continue; // the BOM itself and test-only modules nobody depends on
      }
      String artifact = firstArtifactAfterParent(Files.readString(ROOT.resolve(dir + "/pom.xml")));
      expected.add(artifact);
      assertThat(bom).as(dir).contains("<artifactId>" + artifact + "</artifactId>");
      // Every gateway connector also as its plugin archive; connector-spark is a library for Spark
      // jobs, not a gateway plugin.
      if (dir.startsWith("connector-") && !dir.equals("connector-spark")) {
        assertThat(bom)
            .as(dir + " as a plugin archive")
            .containsPattern(
                "<artifactId>"
                    + Pattern.quote(artifact)
                    + "</artifactId>\\s*<version>[^<]+</version>\\s*<type>zip</type>\\s*"
                    + "<classifier>plugin</classifier>");
      }
    }
    assertThat(expected).contains("tributary-core", "tributary-gateway");
  }
}
