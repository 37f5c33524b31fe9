package io.tributary.gateway.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.SourceFactory;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every connector of this project declares in {@link Connectors#DECLARATION} exactly the types its
 * {@code META-INF/services} factories provide (the test class path holds each connector's classes
 * or jar), so the gateway can leave the plugins a configuration does not use unloaded.
 */
class PluginDeclarationsTest {

  /** The class path root (directory or jar URL) a resource or class was found in. */
  private static String root(URL url, String suffix) {
    String u = url.toString();
    if (u.startsWith("jar:")) {
      return u.substring(4, u.indexOf("!/"));
    }
    return u.substring(0, u.length() - suffix.length());
  }

  private static String rootOf(Class<?> c) {
    return c.getProtectionDomain().getCodeSource().getLocation().toString();
  }

  private static Set<String> names(String list) {
    Set<String> out = new TreeSet<>();
    for (String n : (list == null ? "" : list).split(",")) {
      if (!n.isBlank()) {
        out.add(n.strip());
      }
    }
    return out;
  }

  @Test
  void eachConnectorDeclaresExactlyTheTypesOfItsFactories() throws Exception {
    List<String> declaring = new ArrayList<>();
    for (URL u :
        Collections.list(getClass().getClassLoader().getResources(Connectors.DECLARATION))) {
      String root = root(u, Connectors.DECLARATION);
      Properties p = new Properties();
      try (InputStream in = u.openStream()) {
        p.load(in);
      }
      Set<String> sources = new TreeSet<>();
      for (SourceFactory f : ServiceLoader.load(SourceFactory.class)) {
        if (rootOf(f.getClass()).equals(root)) {
          sources.add(f.type());
        }
      }
      Set<String> sinks = new TreeSet<>();
      for (SinkFactory f : ServiceLoader.load(SinkFactory.class)) {
        if (rootOf(f.getClass()).equals(root)) {
          sinks.add(f.type());
        }
      }
      Set<String> schemes = new TreeSet<>();
      for (CheckpointStorageFactory f : ServiceLoader.load(CheckpointStorageFactory.class)) {
        if (rootOf(f.getClass()).equals(root)) {
          schemes.addAll(f.schemes());
        }
      }
      assertThat(names(p.getProperty("sources"))).as(root + " sources").isEqualTo(sources);
      assertThat(names(p.getProperty("sinks"))).as(root + " sinks").isEqualTo(sinks);
      assertThat(names(p.getProperty("checkpoint-schemes")))
          .as(root + " checkpoint schemes")
          .isEqualTo(schemes);
      assertThat(p.stringPropertyNames())
          .as(root)
          .containsExactlyInAnyOrder("sources", "sinks", "checkpoint-schemes");
      // .../connector-kafka/target/classes/ in the reactor, .../tributary-connector-kafka-V.jar
      // else
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("connector-[a-z]+").matcher(root);
      declaring.add(m.find() ? m.group() : root);
    }
    assertThat(declaring)
        .as("every connector the gateway ships as a plugin")
        .containsExactlyInAnyOrder(
            "connector-socket",
            "connector-kafka",
            "connector-file",
            "connector-kinesis",
            "connector-flume");
  }
}
