package io.tributary.gateway.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.SourceFactory;
import io.tributary.gateway.Gateway;
import io.tributary.gateway.GatewayConfig;
import io.tributary.gateway.GatewayConfigException;
import io.tributary.gateway.TributaryCli;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugins built during the test with {@code javax.tools}: two sinks that each carry their own Guava
 * (16.0.1 and 33.4.0-jre, copied from Maven Central by the build into {@code
 * target/plugin-fixtures}) and call an API only their version has, run side by side in one gateway;
 * a plugin sees neither another plugin's classes nor the gateway's; a plugin that lacks a
 * dependency, and a type provided by two plugins, fail at load with errors that name them.
 *
 * <p>The test class path itself holds a third Guava (Selenium's): the plugins must not see it.
 */
class PluginIsolationTest {
  @TempDir static Path shared;
  static Path plugins;
  static Path guavaOld;
  static Path guavaNew;

  /** A sink whose {@code format} uses {@code api}; every line also says which Guava and TCCL. */
  private static String sink(String pkg, String type, String guavaClass, String format) {
    return """
        package %1$s;

        import io.tributary.core.api.AtLeastOnceSink;
        import io.tributary.core.api.Config;
        import io.tributary.core.api.ConfigOption;
        import io.tributary.core.api.ConfigSpec;
        import io.tributary.core.api.Guarantee;
        import io.tributary.core.api.Record;
        import io.tributary.core.api.Sink;
        import io.tributary.core.api.SinkContext;
        import io.tributary.core.api.SinkFactory;
        import java.nio.charset.StandardCharsets;
        import java.nio.file.Files;
        import java.nio.file.Path;
        import java.nio.file.StandardOpenOption;
        import java.util.List;

        public final class Factory implements SinkFactory {
          static final ConfigOption<String> PATH =
              ConfigOption.string("path").required().description("Output file.");

          @Override public String type() { return "%2$s"; }
          @Override public String description() { return "test sink %2$s"; }
          @Override public Guarantee guarantee() { return Guarantee.AT_LEAST_ONCE; }
          @Override public ConfigSpec options() { return ConfigSpec.of(PATH); }
          @Override public Sink create(String name, Config config) {
            return new GuavaSink(Path.of(config.get(PATH)));
          }

          static final class GuavaSink implements AtLeastOnceSink {
            private final Path out;
            private volatile String threadTccl = "unset";

            GuavaSink(Path out) { this.out = out; }

            @Override public void open(SinkContext context) throws Exception {
              // A thread the plugin starts inherits the context class loader of the call.
              Thread t = new Thread(() -> threadTccl = String.valueOf(
                  Thread.currentThread().getContextClassLoader() == GuavaSink.class.getClassLoader()));
              t.start();
              t.join();
            }

            @Override public void write(long batchId, List<Record> records) throws Exception {
              StringBuilder sb = new StringBuilder();
              for (Record r : records) {
                sb.append(format(r.valueAsString()))
                    .append(" guava=")
                    .append(Path.of(%3$s.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                        .getFileName())
                    .append(" tccl=")
                    .append(Thread.currentThread().getContextClassLoader() == GuavaSink.class.getClassLoader())
                    .append(" thread-tccl=")
                    .append(threadTccl)
                    .append('\\n');
              }
              Files.writeString(out, sb, StandardCharsets.UTF_8,
                  StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }

            static String format(String v) { return %4$s; }

            @Override public void close() {}
          }
        }
        """
        .formatted(pkg, type, guavaClass, format);
  }

  @BeforeAll
  static void buildPlugins() throws Exception {
    Path fixtures = Path.of(System.getProperty("plugin.fixtures", "target/plugin-fixtures"));
    guavaOld = fixtures.resolve("guava-old.jar").toAbsolutePath();
    guavaNew = fixtures.resolve("guava-new.jar").toAbsolutePath();
    assertThat(guavaOld).as("copied by the build (mvn generate-test-resources)").isRegularFile();
    assertThat(guavaNew).isRegularFile();
    plugins = Files.createDirectories(shared.resolve("plugins"));
    // Guava 16: Objects.toStringHelper, removed in Guava 21.
    new TestPluginBuilder("old-guava-plugin", "1.6.0")
        .source(
            "fixture.oldguava.Factory",
            sink(
                "fixture.oldguava",
                "old-guava",
                "com.google.common.base.Objects",
                "com.google.common.base.Objects.toStringHelper(\"old\").add(\"v\", v).toString()"))
        .service(SinkFactory.class, "fixture.oldguava.Factory")
        .library(guavaOld)
        .buildInto(plugins);
    // Guava 33: ImmutableList.toImmutableList(), added in Guava 21.
    new TestPluginBuilder("new-guava-plugin", "3.3.0")
        .source(
            "fixture.newguava.Factory",
            sink(
                "fixture.newguava",
                "new-guava",
                "com.google.common.collect.ImmutableList",
                "\"new\" + java.util.stream.Stream.of(v)"
                    + ".collect(com.google.common.collect.ImmutableList.toImmutableList())"))
        .service(SinkFactory.class, "fixture.newguava.Factory")
        .library(guavaNew)
        .buildInto(plugins);
  }

  private static String yaml(Path tmp, Path pluginDir) {
    StringBuilder y = new StringBuilder();
    y.append("plugins: { path: ").append(pluginDir).append(" }\n");
    y.append("pipelines:\n");
    for (String v : List.of("old", "new")) {
      y.append(
          """
            - id: %1$s
              settings: { batch-interval: 50ms }
              checkpoint: %2$s
              source: { type: test-sequence, count: 200, prefix: "%1$s-" }
              sinks:
                - { type: %1$s-guava, path: %3$s }
          """
              .formatted(v, tmp.resolve("ckpt-" + v), tmp.resolve(v + ".txt")));
    }
    return y.toString();
  }

  private static List<String> lines(Path f) throws Exception {
    return Files.isRegularFile(f) ? Files.readAllLines(f) : List.of();
  }

  @Test
  void twoGuavaVersionsRunSideBySideInOneGateway(@TempDir Path tmp) throws Exception {
    GatewayConfig cfg = GatewayConfig.parse(new StringReader(yaml(tmp, plugins)), "plugins.yaml");
    assertThat(cfg.connectors().plugins())
        .extracting(Plugin::name, Plugin::version)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("new-guava-plugin", "3.3.0"),
            org.assertj.core.groups.Tuple.tuple("old-guava-plugin", "1.6.0"));
    try (Gateway gw = new Gateway(cfg)) {
      gw.start();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  lines(tmp.resolve("old.txt")).size() >= 200
                      && lines(tmp.resolve("new.txt")).size() >= 200);
      gw.stop();
    }
    List<String> old = lines(tmp.resolve("old.txt"));
    List<String> neu = lines(tmp.resolve("new.txt"));
    assertThat(old).hasSize(200);
    assertThat(neu).hasSize(200);
    for (int i = 0; i < 200; i++) {
      assertThat(old)
          .contains("old{v=old-" + i + "} guava=guava-old.jar tccl=true thread-tccl=true");
      assertThat(neu).contains("new[new-" + i + "] guava=guava-new.jar tccl=true thread-tccl=true");
    }
  }

  @Test
  void aPluginSeesNeitherAnotherPluginNorTheGatewaysLibraries() throws Exception {
    Connectors c = Connectors.load(List.of(plugins));
    ClassLoader oldLoader = plugin(c, "old-guava-plugin").classLoader();
    ClassLoader newLoader = plugin(c, "new-guava-plugin").classLoader();
    assertThatThrownBy(() -> oldLoader.loadClass("fixture.newguava.Factory"))
        .isInstanceOf(ClassNotFoundException.class);
    assertThatThrownBy(() -> newLoader.loadClass("fixture.oldguava.Factory"))
        .isInstanceOf(ClassNotFoundException.class);
    // Each has its own Guava, neither the other's nor the one on the gateway's class path.
    Class<?> oldObjects = oldLoader.loadClass("com.google.common.base.Objects");
    Class<?> newObjects = newLoader.loadClass("com.google.common.base.Objects");
    assertThat(oldObjects).isNotSameAs(newObjects);
    assertThat(oldObjects.getClassLoader()).isSameAs(oldLoader);
    assertThat(newObjects.getClassLoader()).isSameAs(newLoader);
    assertThat(Class.forName("com.google.common.base.Objects").getClassLoader())
        .as("the test class path's own Guava (Selenium's)")
        .isNotIn(oldLoader, newLoader);
    assertThatThrownBy(
            () ->
                oldLoader
                    .loadClass("com.google.common.collect.ImmutableList")
                    .getMethod("toImmutableList"))
        .isInstanceOf(NoSuchMethodException.class);
    // The gateway's own libraries and the core's internals are invisible; the contract is shared.
    for (String hidden :
        List.of(
            "org.yaml.snakeyaml.Yaml",
            "picocli.CommandLine",
            "io.tributary.core.internal.PipelineEngine",
            "io.tributary.core.runtime.Pipeline",
            "io.tributary.gateway.Gateway",
            "io.tributary.connector.kafka.KafkaSinkFactory")) {
      assertThatThrownBy(() -> oldLoader.loadClass(hidden))
          .as(hidden)
          .isInstanceOf(ClassNotFoundException.class);
    }
    assertThat(oldLoader.loadClass("io.tributary.core.api.Record"))
        .isSameAs(io.tributary.core.api.Record.class);
    assertThat(oldLoader.loadClass("org.slf4j.Logger")).isSameAs(org.slf4j.Logger.class);
    assertThat(oldLoader.loadClass("io.micrometer.core.instrument.MeterRegistry"))
        .isSameAs(io.micrometer.core.instrument.MeterRegistry.class);
    // The plugin's ServiceLoader sees only its own providers, not the gateway's or the other's.
    List<String> found = new ArrayList<>();
    java.util.ServiceLoader.load(SinkFactory.class, oldLoader)
        .forEach(f -> found.add(f.getClass().getName()));
    assertThat(found).containsExactly("fixture.oldguava.Factory");
    java.util.ServiceLoader.load(SourceFactory.class, oldLoader)
        .forEach(f -> found.add(f.getClass().getName()));
    assertThat(found).containsExactly("fixture.oldguava.Factory");
  }

  private static Plugin plugin(Connectors c, String name) {
    return c.plugins().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aPluginMissingADependencyFailsAtLoadNamingThePluginAndTheClass(@TempDir Path tmp)
      throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("plugins"));
    // Compiled against Guava, shipped without it: its factory's options need ImmutableList.
    new TestPluginBuilder("needs-guava", "0.1")
        .source(
            "fixture.broken.Factory",
            """
            package fixture.broken;

            import io.tributary.core.api.*;

            public final class Factory implements SourceFactory {
              @Override public String type() { return "broken"; }
              @Override public String description() { return "needs Guava"; }
              @Override public ConfigSpec options() {
                return ConfigSpec.of(ConfigOption.string(
                    com.google.common.collect.ImmutableList.of("x").get(0)).description("x"));
              }
              @Override public Source create(String name, Config config) {
                throw new UnsupportedOperationException();
              }
            }
            """)
        .service(SourceFactory.class, "fixture.broken.Factory")
        .compileOnly(guavaNew)
        .buildInto(dir);
    String expected =
        "plugin needs-guava ("
            + dir.resolve("needs-guava")
            + "): class"
            + " com.google.common.collect.ImmutableList is missing";
    assertThatThrownBy(() -> Connectors.load(List.of(dir)))
        .isInstanceOf(PluginException.class)
        .satisfies(
            e ->
                assertThat(((PluginException) e).problems())
                    .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                    .startsWith(expected));
    // Through a configuration file, at the line of plugins:
    assertThatThrownBy(
            () ->
                GatewayConfig.parse(
                    new StringReader(
                        "pipelines:\n  - id: x\n    source: { type: broken }\n"
                            + "    sinks: [ { type: console } ]\n"
                            + "plugins: { path: "
                            + dir
                            + " }\n"),
                    "broken.yaml"))
        .isInstanceOf(GatewayConfigException.class)
        .satisfies(
            e ->
                assertThat(((GatewayConfigException) e).problems())
                    .anySatisfy(p -> assertThat(p).startsWith("broken.yaml:5: " + expected)));
    // And `tributary plugins` reports it with exit code 2.
    Cli r = Cli.run("plugins", "--plugins", dir.toString());
    assertThat(r.code).isEqualTo(TributaryCli.INVALID);
    assertThat(r.err).contains(expected);
  }

  @Test
  void aTypeProvidedByTwoPluginsIsRefusedNamingBoth(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("plugins"));
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    for (String name : List.of("first-copy", "second-copy")) {
      new TestPluginBuilder(name, "1.0")
          .source(
              "fixture." + name.replace('-', '_') + ".Factory",
              sink("fixture." + name.replace('-', '_'), "twice", "java.lang.String", "v"))
          .service(SinkFactory.class, "fixture." + name.replace('-', '_') + ".Factory")
          .buildInto(name.equals("first-copy") ? dir : elsewhere);
    }
    // The second copy as a plugin of one (uber-)jar file directly in the plugin directory.
    Files.copy(
        elsewhere.resolve("second-copy/second-copy-1.0.jar"), dir.resolve("second-copy.jar"));
    assertThatThrownBy(() -> Connectors.load(List.of(dir)))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining(
            "sink type twice is provided twice: by plugin first-copy ("
                + dir.resolve("first-copy")
                + ") and by plugin second-copy ("
                + dir.resolve("second-copy.jar")
                + ")");
    Cli r = Cli.run("plugins", "--plugins", dir.toString());
    assertThat(r.code).isEqualTo(TributaryCli.INVALID);
    assertThat(r.out)
        .contains("first-copy")
        .contains("second-copy")
        .contains("sinks: twice")
        .contains("duplicates:\n  sink twice: plugin first-copy");
  }

  @Test
  void aMissingPluginDirectoryIsAProblemOfTheFileAtItsLine(@TempDir Path tmp) {
    Path nope = tmp.resolve("nope");
    assertThatThrownBy(
            () ->
                GatewayConfig.parse(
                    new StringReader(
                        "pipelines:\n  - id: x\n    source: { type: test-sequence, count: 1 }\n"
                            + "    sinks: [ { type: console } ]\n"
                            + "plugins:\n  path: [ "
                            + nope
                            + " ]\n"),
                    "p.yaml"))
        .isInstanceOf(GatewayConfigException.class)
        .satisfies(
            e ->
                assertThat(((GatewayConfigException) e).problems())
                    .contains(
                        "p.yaml:6: Invalid value "
                            + nope
                            + " for plugins.path: no such directory (expected: a directory whose"
                            + " subdirectories and jar files are plugins)"));
  }

  @Test
  void pluginsCommandListsPluginsVersionsAndTypes() {
    Cli r = Cli.run("plugins", "--plugins", plugins.toString());
    assertThat(r.code).as(r.err).isZero();
    assertThat(r.out)
        .containsPattern(
            "new-guava-plugin +3\\.3\\.0 +"
                + java.util.regex.Pattern.quote(plugins.resolve("new-guava-plugin").toString()))
        .containsPattern("old-guava-plugin +1\\.6\\.0")
        .contains("    sinks: new-guava")
        .contains("    sinks: old-guava")
        .contains("duplicates:\n  (none)");
    Cli types = Cli.run("types", "--plugins", plugins.toString());
    assertThat(types.out).contains("old-guava").contains("new-guava").contains("test-sequence");
  }
}
