package io.tributary.gateway.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.SinkFactory;
import io.tributary.gateway.GatewayConfig;
import io.tributary.gateway.GatewayConfigException;
import io.tributary.gateway.TributaryCli;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugins that declare their types in {@link Connectors#DECLARATION} are loaded (their class loader
 * created, their factories instantiated) only when a configuration uses one of their types; every
 * type still counts for "unknown type" errors, duplicates and {@code tributary plugins}.
 */
class LazyPluginLoadingTest {

  /** A sink factory of {@code type} whose sinks write nothing. */
  private static String sink(String pkg, String type) {
    return """
        package %1$s;

        import io.tributary.core.api.AtLeastOnceSink;
        import io.tributary.core.api.Config;
        import io.tributary.core.api.ConfigSpec;
        import io.tributary.core.api.Guarantee;
        import io.tributary.core.api.Record;
        import io.tributary.core.api.Sink;
        import io.tributary.core.api.SinkContext;
        import io.tributary.core.api.SinkFactory;
        import java.util.List;

        public final class Factory implements SinkFactory {
          @Override public String type() { return "%2$s"; }
          @Override public String description() { return "test sink %2$s"; }
          @Override public Guarantee guarantee() { return Guarantee.AT_LEAST_ONCE; }
          @Override public ConfigSpec options() { return ConfigSpec.of(); }
          @Override public Sink create(String name, Config config) {
            return new AtLeastOnceSink() {
              @Override public void open(SinkContext context) {}
              @Override public void write(long batchId, List<Record> records) {}
              @Override public void close() {}
            };
          }
        }
        """
        .formatted(pkg, type);
  }

  /**
   * Builds plugin {@code name} providing sink {@code type}, declaring {@code declared} if given.
   */
  private static void plugin(Path dir, String name, String type, String declaredSinks)
      throws Exception {
    String pkg = "fixture." + name.replace('-', '_');
    TestPluginBuilder b =
        new TestPluginBuilder(name, "1.0")
            .source(pkg + ".Factory", sink(pkg, type))
            .service(SinkFactory.class, pkg + ".Factory");
    if (declaredSinks != null) {
      b.resource(
          Connectors.DECLARATION,
          "# test\nsources=\nsinks=" + declaredSinks + "\ncheckpoint-schemes=\n");
    }
    b.buildInto(dir);
  }

  private static String config(Path plugins, String sinkType) {
    return "pipelines:\n"
        + "  - id: x\n"
        + "    checkpoint: "
        + plugins.resolveSibling("checkpoint")
        + "\n"
        + "    source: { type: test-sequence, count: 1 }\n"
        + "    sinks: [ { type: "
        + sinkType
        + " } ]\n"
        + "plugins: { path: "
        + plugins
        + " }\n";
  }

  @Test
  void onlyThePluginOfATypeTheConfigurationUsesIsLoaded(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("plugins"));
    plugin(dir, "used-plugin", "lazy-used", "lazy-used");
    plugin(dir, "unused-plugin", "lazy-unused", "lazy-unused");

    Connectors before = Connectors.load(List.of(dir));
    assertThat(before.plugins()).as("declared plugins are not loaded by load()").isEmpty();
    assertThat(before.sinkFactories().keySet()).contains("lazy-used", "lazy-unused");

    GatewayConfig cfg =
        GatewayConfig.parse(new StringReader(config(dir, "lazy-used")), "lazy.yaml");
    assertThat(cfg.connectors().plugins()).extracting(Plugin::name).containsExactly("used-plugin");
    assertThat(cfg.connectors().plugins().get(0).classLoader())
        .isInstanceOf(PluginClassLoader.class);
    // The plugin the configuration does not name never got a class loader in this JVM: a new
    // load of the same path (which sees every plugin loaded before) still has only the used one.
    assertThat(Connectors.load(List.of(dir)).plugins())
        .extracting(Plugin::name)
        .containsExactly("used-plugin");
    // Asking for its type loads it then.
    assertThat(cfg.connectors().sinkFactories().get("lazy-unused").type()).isEqualTo("lazy-unused");
    assertThat(cfg.connectors().plugins())
        .extracting(Plugin::name)
        .containsExactly("unused-plugin", "used-plugin");
  }

  @Test
  void anUnknownTypeStillNamesEveryTypeIncludingThoseOfUnloadedPlugins(@TempDir Path tmp)
      throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("plugins"));
    plugin(dir, "one-plugin", "lazy-one", "lazy-one");
    plugin(dir, "two-plugin", "lazy-two", "lazy-two");
    assertThatThrownBy(
            () -> GatewayConfig.parse(new StringReader(config(dir, "lazy-nope")), "nope.yaml"))
        .isInstanceOf(GatewayConfigException.class)
        .satisfies(
            e ->
                assertThat(((GatewayConfigException) e).problems())
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith(
                                    "nope.yaml:5: Invalid value lazy-nope for"
                                        + " pipelines[0].sinks[0].type: unknown type (expected one"
                                        + " of: ")
                                .contains("lazy-one")
                                .contains("lazy-two")
                                .contains("console")));
    assertThat(Connectors.load(List.of(dir)).plugins()).isEmpty();
  }

  @Test
  void aDeclarationThatDoesNotMatchTheFactoriesFailsWhenThePluginLoads(@TempDir Path tmp)
      throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("plugins"));
    plugin(dir, "wrong-plugin", "lazy-actual", "lazy-declared");
    String expected =
        "plugin wrong-plugin ("
            + dir.resolve("wrong-plugin")
            + "): "
            + Connectors.DECLARATION
            + " in wrong-plugin-1.0.jar declares sources [], sinks [lazy-declared], checkpoint"
            + " schemes [], but its factories provide sources [], sinks [lazy-actual], checkpoint"
            + " schemes []";
    Connectors c = Connectors.load(List.of(dir));
    assertThatThrownBy(() -> c.sinkFactories().get("lazy-declared"))
        .isInstanceOf(PluginException.class)
        .satisfies(
            e ->
                assertThat(((PluginException) e).problems())
                    .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                    .startsWith(expected));
    // Through a configuration file: a problem at the line of the type.
    assertThatThrownBy(
            () -> GatewayConfig.parse(new StringReader(config(dir, "lazy-declared")), "w.yaml"))
        .isInstanceOf(GatewayConfigException.class)
        .satisfies(
            e ->
                assertThat(((GatewayConfigException) e).problems())
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith(
                                    "w.yaml:5: Invalid value lazy-declared for"
                                        + " pipelines[0].sinks[0].type: "
                                        + expected)));
    // `tributary plugins` loads every plugin, so it reports the mismatch too.
    Cli r = Cli.run("plugins", "--plugins", dir.toString());
    assertThat(r.code).isEqualTo(TributaryCli.INVALID);
    assertThat(r.err).contains(expected);
  }

  @Test
  void aTypeOfADeclaredPluginProvidedTwiceIsRefusedAtLoad(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("plugins"));
    plugin(dir, "declared-copy", "lazy-twice", "lazy-twice");
    plugin(dir, "plain-copy", "lazy-twice", null);
    assertThatThrownBy(() -> Connectors.load(List.of(dir)))
        .isInstanceOf(PluginException.class)
        .hasMessageContaining(
            "sink type lazy-twice is provided twice: by plugin declared-copy ("
                + dir.resolve("declared-copy")
                + ") and by plugin plain-copy ("
                + dir.resolve("plain-copy")
                + ")");
  }

  @Test
  void pluginsAndTypesCommandsListDeclaredPluginsThatNoConfigurationUses(@TempDir Path tmp)
      throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("plugins"));
    plugin(dir, "listed-plugin", "lazy-listed", "lazy-listed");
    Cli r = Cli.run("plugins", "--plugins", dir.toString());
    assertThat(r.code).as(r.err).isZero();
    assertThat(r.out)
        .containsPattern(
            "listed-plugin +1\\.0 +"
                + java.util.regex.Pattern.quote(dir.resolve("listed-plugin").toString()))
        .contains("    sinks: lazy-listed");
    Cli types = Cli.run("types", "--plugins", dir.toString());
    assertThat(types.code).as(types.err).isZero();
    assertThat(types.out).contains("lazy-listed").contains("test sink lazy-listed");
  }
}
