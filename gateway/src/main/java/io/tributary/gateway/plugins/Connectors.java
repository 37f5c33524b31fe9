package io.tributary.gateway.plugins;

import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.SourceFactory;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source, sink and checkpoint storage types a gateway can use: those on its own class path
 * (core's built-in sinks; anything an embedding application or a test puts there) plus those of the
 * plugins under a plugin path.
 *
 * <p>A plugin path is a list of directories; each subdirectory of one (its jars, at any depth) and
 * each {@code .jar} file directly in one is a plugin, loaded in its own {@link PluginClassLoader}.
 * Its factories are found with {@link ServiceLoader} inside the plugin only. Loading fails, with
 * every problem listed, when a plugin lacks a class its factories need (the error names the plugin
 * and the missing class), when a plugin provides no factory, or when a type (or checkpoint scheme)
 * is provided twice (the error names both providers).
 *
 * <p>A plugin is loaded once per JVM (per location): loading the same path again (a configuration
 * reload, another {@code GatewayConfig}) returns the same class loaders and factories.
 *
 * <p>Thread safety: immutable; {@link #load} may be called from any thread.
 */
public final class Connectors {
  private static final Logger LOG = LoggerFactory.getLogger(Connectors.class);

  /** Loaded plugins by location: class loaders are created once per JVM. */
  private static final Map<Path, Plugin> LOADED = new ConcurrentHashMap<>();

  private static final Pattern JAR_VERSION = Pattern.compile("-(\\d[\\w.\\-]*)\\.jar$");

  /** A type on the class path: its kind ({@code source}, {@code sink}), name and jar. */
  public record Provider(String kind, String type, String origin) {}

  /** A type provided more than once. */
  public record Duplicate(String kind, String type, List<String> origins) {
    String message() {
      return kind
          + " type "
          + type
          + " is provided twice: by "
          + String.join(" and by ", origins)
          + " (expected: each type from one plugin; remove one of them from the plugin path)";
    }
  }

  /** What is found under a plugin path, without failing: for {@code tributary plugins}. */
  public record Inventory(
      List<Path> pluginPath,
      List<Plugin> plugins,
      List<Provider> classPathTypes,
      List<Duplicate> duplicates,
      List<String> problems) {
    /** Every problem and duplicate, as messages. */
    public List<String> allProblems() {
      List<String> out = new ArrayList<>(problems);
      duplicates.forEach(d -> out.add(d.message()));
      return out;
    }
  }

  private final List<Plugin> plugins;
  private final Map<String, SourceFactory> sources;
  private final Map<String, SinkFactory> sinks;
  private final List<CheckpointStorageFactory> checkpoints;
  private final List<Path> pluginPath;

  private Connectors(
      List<Path> pluginPath,
      List<Plugin> plugins,
      Map<String, SourceFactory> sources,
      Map<String, SinkFactory> sinks,
      List<CheckpointStorageFactory> checkpoints) {
    this.pluginPath = List.copyOf(pluginPath);
    this.plugins = List.copyOf(plugins);
    this.sources = java.util.Collections.unmodifiableMap(sources);
    this.sinks = java.util.Collections.unmodifiableMap(sinks);
    this.checkpoints = List.copyOf(checkpoints);
  }

  /** The types on the class path only (embedded mode: no plugins). */
  public static Connectors classPath() {
    return load(List.of());
  }

  /**
   * The types on the class path plus those of every plugin under {@code pluginPath}.
   *
   * @throws PluginException with every problem: a plugin that cannot load (naming it and the
   *     missing class), a type provided twice (naming both providers), a missing directory
   */
  public static Connectors load(List<Path> pluginPath) {
    Inventory inv = inventory(pluginPath);
    List<String> problems = inv.allProblems();
    if (!problems.isEmpty()) {
      throw new PluginException(problems);
    }
    Map<String, SourceFactory> sources = new TreeMap<>();
    Map<String, SinkFactory> sinks = new TreeMap<>();
    List<CheckpointStorageFactory> checkpoints = new ArrayList<>();
    classPathSources().forEach(f -> sources.put(f.type(), f));
    classPathSinks().forEach(f -> sinks.put(f.type(), f));
    checkpoints.addAll(classPathCheckpoints());
    for (Plugin p : inv.plugins()) {
      p.sourceFactories().forEach(f -> sources.put(f.type(), f));
      p.sinkFactories().forEach(f -> sinks.put(f.type(), f));
      checkpoints.addAll(p.checkpointStorageFactories());
    }
    return new Connectors(inv.pluginPath(), inv.plugins(), sources, sinks, checkpoints);
  }

  /** Scans {@code pluginPath} and the class path; reports problems instead of failing. */
  public static Inventory inventory(List<Path> pluginPath) {
    List<String> problems = new ArrayList<>();
    List<Plugin> plugins = new ArrayList<>();
    List<Path> roots = new ArrayList<>();
    for (Path root : pluginPath) {
      Path r = root.toAbsolutePath().normalize();
      roots.add(r);
      if (!Files.isDirectory(r)) {
        problems.add(
            "Invalid value "
                + root
                + " for plugins.path: no such directory (expected: a directory whose"
                + " subdirectories and jar files are plugins)");
        continue;
      }
      for (Path candidate : candidates(r, problems)) {
        Plugin p = LOADED.get(candidate);
        if (p == null) {
          p = loadPlugin(candidate, problems);
          if (p != null) {
            Plugin raced = LOADED.putIfAbsent(candidate, p);
            p = raced == null ? p : raced;
          }
        }
        if (p != null) {
          plugins.add(p);
        }
      }
    }
    List<Provider> classPath = new ArrayList<>();
    classPathSources().forEach(f -> classPath.add(new Provider("source", f.type(), origin(f))));
    classPathSinks().forEach(f -> classPath.add(new Provider("sink", f.type(), origin(f))));
    List<Duplicate> duplicates = new ArrayList<>();
    duplicates.addAll(
        duplicates(
            "source",
            classPathSources(),
            plugins,
            Plugin::sourceFactories,
            f -> List.of(f.type()),
            f -> origin(f)));
    duplicates.addAll(
        duplicates(
            "sink",
            classPathSinks(),
            plugins,
            Plugin::sinkFactories,
            f -> List.of(f.type()),
            f -> origin(f)));
    duplicates.addAll(
        duplicates(
            "checkpoint scheme",
            classPathCheckpoints(),
            plugins,
            Plugin::checkpointStorageFactories,
            f -> List.copyOf(f.schemes()),
            f -> origin(f)));
    return new Inventory(roots, plugins, classPath, duplicates, problems);
  }

  private static <F> List<Duplicate> duplicates(
      String kind,
      List<F> classPath,
      List<Plugin> plugins,
      Function<Plugin, List<F>> ofPlugin,
      Function<F, List<String>> keys,
      Function<F, String> classPathOrigin) {
    Map<String, List<String>> origins = new TreeMap<>();
    for (F f : classPath) {
      for (String k : keys.apply(f)) {
        origins.computeIfAbsent(k, x -> new ArrayList<>()).add(classPathOrigin.apply(f));
      }
    }
    for (Plugin p : plugins) {
      for (F f : ofPlugin.apply(p)) {
        for (String k : keys.apply(f)) {
          origins.computeIfAbsent(k, x -> new ArrayList<>()).add(p.toString());
        }
      }
    }
    List<Duplicate> out = new ArrayList<>();
    origins.forEach(
        (k, o) -> {
          if (o.size() > 1) {
            out.add(new Duplicate(kind, k, List.copyOf(o)));
          }
        });
    return out;
  }

  private static String origin(Object factory) {
    return "the class path ("
        + codeLocation(factory.getClass()).map(Path::toString).orElse("?")
        + ")";
  }

  /** The plugin candidates in a root: subdirectories and jar files, sorted by name. */
  private static List<Path> candidates(Path root, List<String> problems) {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(
              p ->
                  Files.isDirectory(p)
                      || (Files.isRegularFile(p) && p.getFileName().toString().endsWith(".jar")))
          .filter(p -> !p.getFileName().toString().startsWith("."))
          .map(p -> p.toAbsolutePath().normalize())
          .sorted()
          .toList();
    } catch (IOException e) {
      problems.add("Cannot list plugin directory " + root + ": " + e);
      return List.of();
    }
  }

  private static String nameOf(Path location) {
    String n = location.getFileName().toString();
    return n.endsWith(".jar") ? n.substring(0, n.length() - 4) : n;
  }

  private static Plugin loadPlugin(Path location, List<String> problems) {
    String name = nameOf(location);
    List<URL> jars = new ArrayList<>();
    try {
      if (Files.isDirectory(location)) {
        try (Stream<Path> s = Files.walk(location)) {
          for (Path j :
              s.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".jar"))
                  .sorted()
                  .toList()) {
            if (carriesTributaryCore(j)) {
              LOG.warn(
                  "event=plugin_jar_ignored plugin={} jar={} detail=\"the plugin carries"
                      + " tributary-core, which the gateway provides; declare it with"
                      + " <scope>provided</scope>\"",
                  name,
                  j.getFileName());
              continue;
            }
            jars.add(j.toUri().toURL());
          }
        }
      } else {
        jars.add(location.toUri().toURL());
      }
    } catch (IOException e) {
      problems.add("plugin " + name + " (" + location + "): cannot read it: " + e);
      return null;
    }
    if (jars.isEmpty()) {
      problems.add(
          "plugin "
              + name
              + " ("
              + location
              + "): no jar files in it (expected: the connector's jar and its dependencies)");
      return null;
    }
    if (Files.isDirectory(location)) {
      // The directory itself too: a file next to the jars (Hadoop's core-site.xml, a client's
      // properties) is a resource of the plugin, as a file on a flat class path used to be.
      try {
        jars.add(location.toUri().toURL());
      } catch (IOException e) {
        problems.add("plugin " + name + " (" + location + "): cannot read it: " + e);
        return null;
      }
    }
    PluginClassLoader loader =
        new PluginClassLoader(name, jars.toArray(new URL[0]), Connectors.class.getClassLoader());
    List<SourceFactory> sources = new ArrayList<>();
    List<SinkFactory> sinks = new ArrayList<>();
    List<CheckpointStorageFactory> checkpoints = new ArrayList<>();
    String failure = null;
    Class<?> first = null;
    try {
      for (SourceFactory f : providers(SourceFactory.class, loader)) {
        first = first == null ? f.getClass() : first;
        SourceFactory w = ContextClassLoaders.wrap(f, loader);
        ContextClassLoaders.with(
            loader,
            () -> {
              w.description();
              return w.options();
            });
        sources.add(w);
      }
      for (SinkFactory f : providers(SinkFactory.class, loader)) {
        first = first == null ? f.getClass() : first;
        SinkFactory w = ContextClassLoaders.wrap(f, loader);
        ContextClassLoaders.with(
            loader,
            () -> {
              w.description();
              w.guarantee();
              return w.options();
            });
        sinks.add(w);
      }
      for (CheckpointStorageFactory f : providers(CheckpointStorageFactory.class, loader)) {
        first = first == null ? f.getClass() : first;
        CheckpointStorageFactory w = ContextClassLoaders.wrap(f, loader);
        ContextClassLoaders.with(
            loader,
            () -> {
              w.schemes();
              return w.options();
            });
        checkpoints.add(w);
      }
    } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
      failure = describeLoadFailure(name, location, e);
    }
    if (failure == null && first == null) {
      failure =
          "plugin "
              + name
              + " ("
              + location
              + "): provides no source, sink or checkpoint storage (expected: a jar with"
              + " META-INF/services/io.tributary.core.api.SourceFactory or .SinkFactory)";
    }
    if (failure != null) {
      problems.add(failure);
      try {
        loader.close();
      } catch (IOException ignored) {
        // nothing of it is in use
      }
      return null;
    }
    Plugin p = new Plugin(name, version(first), location, loader, sources, sinks, checkpoints);
    LOG.info(
        "event=plugin_loaded plugin={} version={} location=\"{}\" sources={} sinks={} checkpoints={}",
        name,
        p.version(),
        location,
        p.sourceTypes(),
        p.sinkTypes(),
        p.checkpointSchemes());
    return p;
  }

  private static <S> List<S> providers(Class<S> service, ClassLoader loader) {
    return ContextClassLoaders.with(
        loader,
        () -> {
          List<S> out = new ArrayList<>();
          for (S s : ServiceLoader.load(service, loader)) {
            out.add(s);
          }
          return out;
        });
  }

  /** "plugin NAME (LOCATION): class X is missing ..." from a failure while loading factories. */
  static String describeLoadFailure(String name, Path location, Throwable e) {
    String missing = null;
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof NoClassDefFoundError || c instanceof ClassNotFoundException) {
        String m = c.getMessage();
        if (m != null) {
          missing = m.replace('/', '.');
          int space = missing.indexOf(' ');
          missing = space > 0 ? missing.substring(0, space) : missing;
        }
      }
    }
    if (missing != null) {
      return "plugin "
          + name
          + " ("
          + location
          + "): class "
          + missing
          + " is missing: the plugin lacks a dependency (expected: the jar providing "
          + missing
          + " inside "
          + location
          + "; a plugin sees only its own jars, the JDK and "
          + String.join(", ", PluginClassLoader.SHARED_PREFIXES)
          + "). Cause: "
          + e;
    }
    return "plugin " + name + " (" + location + "): cannot load its factories: " + e;
  }

  private static boolean carriesTributaryCore(Path jar) {
    try (JarFile j = new JarFile(jar.toFile())) {
      return j.getEntry("io/tributary/core/api/Record.class") != null;
    } catch (IOException e) {
      return false; // not a readable jar: the class loader will say so
    }
  }

  private static String version(Class<?> c) {
    Optional<Path> jar = codeLocation(c);
    if (jar.isEmpty() || !Files.isRegularFile(jar.get())) {
      return "unknown";
    }
    try (JarFile j = new JarFile(jar.get().toFile())) {
      Manifest m = j.getManifest();
      String v = m == null ? null : m.getMainAttributes().getValue("Implementation-Version");
      if (v != null && !v.isBlank()) {
        return v;
      }
    } catch (IOException e) {
      // fall back to the file name
    }
    Matcher mm = JAR_VERSION.matcher(jar.get().getFileName().toString());
    return mm.find() ? mm.group(1) : "unknown";
  }

  private static Optional<Path> codeLocation(Class<?> c) {
    try {
      CodeSource cs = c.getProtectionDomain().getCodeSource();
      if (cs == null || cs.getLocation() == null) {
        return Optional.empty();
      }
      return Optional.of(Path.of(cs.getLocation().toURI()));
    } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
      return Optional.empty();
    }
  }

  private static List<SourceFactory> classPathSources() {
    List<SourceFactory> out = new ArrayList<>();
    ServiceLoader.load(SourceFactory.class).forEach(out::add);
    return out;
  }

  private static List<SinkFactory> classPathSinks() {
    List<SinkFactory> out = new ArrayList<>();
    ServiceLoader.load(SinkFactory.class).forEach(out::add);
    return out;
  }

  private static List<CheckpointStorageFactory> classPathCheckpoints() {
    return CheckpointStorageFactory.available();
  }

  /**
   * The plugin path used when neither {@code --plugins} nor {@code plugins.path} says: {@code
   * plugins/} next to the gateway jar or next to its {@code lib/} directory (the distribution's
   * layout, and {@code gateway/target/} of a build), if it exists; else none (embedded mode,
   * tests).
   */
  public static List<Path> defaultPluginPath() {
    Optional<Path> jar = codeLocation(Connectors.class);
    if (jar.isEmpty() || !jar.get().toString().endsWith(".jar")) {
      return List.of();
    }
    Path dir = jar.get().getParent();
    for (Path c : new Path[] {dir.resolve("plugins"), dir.resolveSibling("plugins")}) {
      if (Files.isDirectory(c)) {
        return List.of(c);
      }
    }
    return List.of();
  }

  /** The plugin path these connectors were loaded from (absolute). */
  public List<Path> pluginPath() {
    return pluginPath;
  }

  /** The loaded plugins, by location. */
  public List<Plugin> plugins() {
    return plugins;
  }

  /** Source factories by type: the class path's and the plugins'. */
  public Map<String, SourceFactory> sourceFactories() {
    return sources;
  }

  /** Sink factories by type. */
  public Map<String, SinkFactory> sinkFactories() {
    return sinks;
  }

  /** Checkpoint storage factories (for remote checkpoint locations). */
  public List<CheckpointStorageFactory> checkpointStorageFactories() {
    return checkpoints;
  }

  /** The plugin that provides a source or sink type, if it is a plugin's. */
  public Optional<Plugin> pluginOf(String type) {
    for (Plugin p : plugins) {
      if (p.sourceTypes().contains(type) || p.sinkTypes().contains(type)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    Map<String, String> m = new LinkedHashMap<>();
    plugins.forEach(p -> m.put(p.name(), p.version()));
    return "Connectors[plugins="
        + m
        + ", sources="
        + sources.keySet()
        + ", sinks="
        + sinks.keySet()
        + "]";
  }
}
