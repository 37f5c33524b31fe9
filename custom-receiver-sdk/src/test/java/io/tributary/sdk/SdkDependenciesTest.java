package io.tributary.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The test kit's libraries must not reach the runtime class path of a project that uses the SDK.
 * Maven cannot show that from inside this reactor (every module inherits them in test scope from
 * the parent, which hides the transitive ones), so this reads the dependency declarations that the
 * published pom carries.
 */
class SdkDependenciesTest {
  private static final Set<String> TEST_KIT_GROUPS =
      Set.of("org.junit.jupiter", "org.assertj", "org.awaitility");

  @Test
  void testKitLibrariesAreOptionalSoTheyNeverReachAUsersRuntimeClassPath() throws Exception {
    Path pom = Path.of(System.getProperty("basedir", "."), "pom.xml");
    Element project =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(pom.toFile())
            .getDocumentElement();
    Element dependencies = child(project, "dependencies");
    List<String> leaking = new ArrayList<>();
    int testKit = 0;
    NodeList deps = dependencies.getElementsByTagName("dependency");
    for (int i = 0; i < deps.getLength(); i++) {
      Element d = (Element) deps.item(i);
      if (!TEST_KIT_GROUPS.contains(text(d, "groupId"))) {
        continue;
      }
      testKit++;
      String scope = text(d, "scope");
      boolean transitive =
          (scope == null || scope.equals("compile") || scope.equals("runtime"))
              && !"true".equals(text(d, "optional"));
      if (transitive) {
        leaking.add(text(d, "artifactId"));
      }
    }
    assertThat(testKit)
        .as("the test kit's JUnit, AssertJ and Awaitility declarations")
        .isEqualTo(3);
    assertThat(leaking)
        .as(
            "test-kit libraries a user of the SDK would get on the runtime class path (declare them <optional>)")
        .isEmpty();
  }

  private static Element child(Element parent, String name) {
    NodeList l = parent.getChildNodes();
    for (int i = 0; i < l.getLength(); i++) {
      if (l.item(i) instanceof Element e && e.getTagName().equals(name)) {
        return e;
      }
    }
    throw new AssertionError("pom.xml has no <" + name + ">");
  }

  private static String text(Element parent, String name) {
    NodeList l = parent.getElementsByTagName(name);
    return l.getLength() == 0 ? null : l.item(0).getTextContent().trim();
  }
}
