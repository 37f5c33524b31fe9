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
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
 * <p><b>Declared plugins load on first use.</b> A plugin whose own jar (the jar file itself, or in
 * a plugin directory the jar named after the directory, {@code DIR/DIR.jar} or {@code
 * DIR/DIR-VERSION.jar}) carries {@value #DECLARATION} ({@code sources=}, {@code sinks=}, {@code
 * checkpoint-schemes=}, comma-separated) is not loaded by {@link #load}: its types are read from
 * that file, and its class loader is created when a factory of one of them is first asked for
 * ({@link #sourceFactories()}{@code .get(type)}, {@link #sinkFactories()}{@code .get(type)}, {@link
 * #checkpointStorageFactories()}). A gateway whose configuration uses one source and one sink so
 * opens one or two plugins, not all. The declaration is checked when the plugin loads: factories
 * that provide other types than it declares are a load failure naming the plugin and both lists.
 * Plugins without one load at once, as before. Iterating a factory map ({@code values()}, {@code
 * entrySet()}) loads every plugin; its {@code keySet()} does not.
 *
 * <p>Thread safety: immutable; {@link #load} may be called from any thread.
 */
public final class Connectors {
  private static final Logger LOG = LoggerFactory.getLogger(Connectors.class);

  /** Loaded plugins by location: class loaders are created once per JVM. */
  private static final Map<Path, Plugin> LOADED = new ConcurrentHashMap<>();

  private static final Pattern JAR_VERSION = Pattern.compile("-(\\d[\\w.\\-]*)\\.jar$");

  /**
   * The resource in a plugin's own jar that declares its types, so that it can be left unloaded
   * until one of them is used (see the class comment).
   */
  public static final String DECLARATION = "META-INF/tributary/plugin.properties";

  /** The types a plugin declares in {@link #DECLARATION} (read without a class loader). */
  record Declaration(Set<String> sources, Set<String> sinks, Set<String> schemes, Path jar) {
    /** The mismatch with what the loaded plugin provides, or {@code null} when they agree. */
    String mismatch(Plugin p) {
      if (sources.equals(p.sourceTypes())
          && sinks.equals(p.sinkTypes())
          && schemes.equals(p.checkpointSchemes())) {
        return null;
      }
      return p
          + ": "
          + DECLARATION
          + " in "
          + jar.getFileName()
          + " declares sources "
          + sources
          + ", sinks "
          + sinks
          + ", checkpoint schemes "
          + schemes
          + ", but its factories provide sources "
          + p.sourceTypes()
          + ", sinks "
          + p.sinkTypes()
          + ", checkpoint schemes "
          + p.checkpointSchemes()
          + " (expected: the declaration lists exactly the types of the plugin's"
          + " META-INF/services factories; correct it, or remove it to have the plugin loaded at"
          + " start)";
    }
  }

  /**
   * A plugin found under the plugin path: loaded ({@code loaded != null}), or declared and not
   * loaded yet ({@code declared != null}, loaded by {@link #plugin(Candidate)}).
   */
  private static final class Candidate {
    final Path location;
    final Declaration declared;
    volatile Plugin loaded;

    Candidate(Path location, Declaration declared, Plugin loaded) {
      this.location = location;
      this.declared = declared;
      this.loaded = loaded;
    }

    Set<String> sourceTypes() {
      Plugin p = loaded;
      return p != null ? p.sourceTypes() : declared.sources();
    }

    Set<String> sinkTypes() {
      Plugin p = loaded;
      return p != null ? p.sinkTypes() : declared.sinks();
    }

    Set<String> schemes() {
      Plugin p = loaded;
      return p != null ? p.checkpointSchemes() : declared.schemes();
    }

    @Override
    public String toString() {
      return "plugin " + nameOf(location) + " (" + location + ")";
    }
  }

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

  private final List<Path> pluginPath;
  private final List<Candidate> candidates;
  private final List<CheckpointStorageFactory> classPathCheckpoints;
  private final Map<String, Candidate> sourceOwners;
  private final Map<String, Candidate> sinkOwners;
  private final Map<String, SourceFactory> sources;
  private final Map<String, SinkFactory> sinks;

  private Connectors(List<Path> pluginPath, List<Candidate> candidates) {
    this.pluginPath = List.copyOf(pluginPath);
    this.candidates = List.copyOf(candidates);
    Map<String, SourceFactory> cpSources = new TreeMap<>();
    classPathSources().forEach(f -> cpSources.put(f.type(), f));
    Map<String, SinkFactory> cpSinks = new TreeMap<>();
    classPathSinks().forEach(f -> cpSinks.put(f.type(), f));
    this.classPathCheckpoints = List.copyOf(classPathCheckpoints());
    Map<String, Candidate> so = new TreeMap<>();
    Map<String, Candidate> si = new TreeMap<>();
    for (Candidate c : candidates) {
      c.sourceTypes().forEach(t -> so.put(t, c));
      c.sinkTypes().forEach(t -> si.put(t, c));
    }
    this.sourceOwners = so;
    this.sinkOwners = si;
    this.sources =
        new LazyFactories<>(cpSources, so, Plugin::sourceFactories, SourceFactory::type, "source");
    this.sinks = new LazyFactories<>(cpSinks, si, Plugin::sinkFactories, SinkFactory::type, "sink");
  }

  /** The types on the class path only (embedded mode: no plugins). */
  public static Connectors classPath() {
    return load(List.of());
  }

  /**
   * The types on the class path plus those of every plugin under {@code pluginPath}. Plugins that
   * declare their types ({@link #DECLARATION}) are not loaded here but when one of their factories
   * is first asked for; the others are loaded now.
   *
   * <p>Blocking: lists the plugin directories and reads jar files; may be called from any thread.
   *
   * @throws PluginException with every problem: a plugin that cannot load (naming it and the
   *     missing class), a type provided twice (naming both providers), a missing directory
   */
  public static Connectors load(List<Path> pluginPath) {
    List<String> problems = new ArrayList<>();
    List<Path> roots = new ArrayList<>();
    List<Candidate> found = scan(pluginPath, roots, problems);
    problems.addAll(duplicateMessages(found));
    if (!problems.isEmpty()) {
      throw new PluginException(problems);
    }
    return new Connectors(roots, found);
  }

  /**
   * Scans {@code pluginPath} and the class path and loads every plugin, declared or not (for {@code
   * tributary plugins}); reports problems instead of failing.
   */
  public static Inventory inventory(List<Path> pluginPath) {
    List<String> problems = new ArrayList<>();
    List<Path> roots = new ArrayList<>();
    List<Plugin> plugins = new ArrayList<>();
    for (Candidate c : scan(pluginPath, roots, problems)) {
      try {
        plugins.add(plugin(c));
      } catch (PluginException e) {
        problems.addAll(e.problems());
      }
    }
    List<Provider> classPath = new ArrayList<>();
    classPathSources().forEach(f -> classPath.add(new Provider("source", f.type(), origin(f))));
    classPathSinks().forEach(f -> classPath.add(new Provider("sink", f.type(), origin(f))));
    List<Candidate> loaded = new ArrayList<>();
    plugins.forEach(p -> loaded.add(new Candidate(p.location(), null, p)));
    return new Inventory(roots, plugins, classPath, duplicates(loaded), problems);
  }

  /**
   * The plugin candidates under {@code pluginPath}: those loaded before in this JVM, those with a
   * declaration (not loaded), and the others, loaded now (a failure is added to {@code problems}).
   */
  private static List<Candidate> scan(
      List<Path> pluginPath, List<Path> roots, List<String> problems) {
    List<Candidate> out = new ArrayList<>();
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
        if (p != null) {
          out.add(new Candidate(candidate, null, p));
          continue;
        }
        Declaration d;
        try {
          d = declaration(candidate);
        } catch (IOException | IllegalArgumentException e) {
          problems.add(
              "plugin "
                  + nameOf(candidate)
                  + " ("
                  + candidate
                  + "): cannot read its "
                  + DECLARATION
                  + ": "
                  + e
                  + " (expected: a properties file with sources=, sinks= and"
                  + " checkpoint-schemes=, comma-separated type names)");
          continue;
        }
        if (d != null) {
          out.add(new Candidate(candidate, d, null));
          continue;
        }
        Candidate c = new Candidate(candidate, null, null);
        try {
          c.loaded = plugin(c);
          out.add(c);
        } catch (PluginException e) {
          problems.addAll(e.problems());
        }
      }
    }
    return out;
  }

  /**
   * The plugin of {@code c}, loading it (once per JVM and location) if it is not loaded yet.
   *
   * @throws PluginException naming the plugin when it cannot load or provides other types than it
   *     declares
   */
  private static Plugin plugin(Candidate c) {
    Plugin p = c.loaded;
    if (p != null) {
      return p;
    }
    synchronized (LOADED) {
      p = LOADED.get(c.location);
      if (p == null) {
        List<String> problems = new ArrayList<>();
        p = loadPlugin(c.location, problems);
        if (p != null && c.declared != null) {
          String mismatch = c.declared.mismatch(p);
          if (mismatch != null) {
            problems.add(mismatch);
            try {
              ((PluginClassLoader) p.classLoader()).close();
            } catch (IOException ignored) {
              // nothing of it is in use
            }
            p = null;
          }
        }
        if (p == null) {
          throw new PluginException(problems);
        }
        LOADED.put(c.location, p);
      }
      c.loaded = p;
      return p;
    }
  }

  /**
   * The declaration of the plugin at {@code location}, or {@code null} when its own jar has none
   * (or it has no jar named after it): read from the one jar, no class loader.
   */
  static Declaration declaration(Path location) throws IOException {
    Path jar = null;
    if (Files.isRegularFile(location)) {
      jar = location;
    } else {
      String name = nameOf(location);
      try (Stream<Path> s = Files.list(location)) {
        jar =
            s.filter(
                    f -> {
                      String n = f.getFileName().toString();
                      return Files.isRegularFile(f)
                          && (n.equals(name + ".jar")
                              || (n.startsWith(name + "-") && n.endsWith(".jar")));
                    })
                .sorted()
                .findFirst()
                .orElse(null);
      }
    }
    if (jar == null) {
      return null;
    }
    try (JarFile j = new JarFile(jar.toFile())) {
      java.util.zip.ZipEntry e = j.getEntry(DECLARATION);
      if (e == null) {
        return null;
      }
      java.util.Properties props = new java.util.Properties();
      try (java.io.InputStream in = j.getInputStream(e)) {
        props.load(in);
      }
      for (String k : props.stringPropertyNames()) {
        if (!Set.of("sources", "sinks", "checkpoint-schemes").contains(k)) {
          throw new IllegalArgumentException(
              "unknown key " + k + " in " + jar.getFileName() + "!/" + DECLARATION);
        }
      }
      return new Declaration(
          names(props.getProperty("sources")),
          names(props.getProperty("sinks")),
          names(props.getProperty("checkpoint-schemes")),
          jar);
    }
  }

  private static Set<String> names(String list) {
    Set<String> out = new TreeSet<>();
    if (list != null) {
      for (String n : list.split(",")) {
        if (!n.isBlank()) {
          out.add(n.strip());
        }
      }
    }
    return java.util.Collections.unmodifiableSet(out);
  }

  private static List<String> duplicateMessages(List<Candidate> candidates) {
    List<String> out = new ArrayList<>();
    duplicates(candidates).forEach(d -> out.add(d.message()));
    return out;
  }

  /** Types (and checkpoint schemes) provided twice: by the class path or by the candidates. */
  private static List<Duplicate> duplicates(List<Candidate> candidates) {
    List<Duplicate> out = new ArrayList<>();
    out.addAll(
        duplicates(
            "source",
            classPathSources(),
            f -> List.of(f.type()),
            candidates,
            Candidate::sourceTypes));
    out.addAll(
        duplicates(
            "sink", classPathSinks(), f -> List.of(f.type()), candidates, Candidate::sinkTypes));
    out.addAll(
        duplicates(
            "checkpoint scheme",
            classPathCheckpoints(),
            f -> List.copyOf(f.schemes()),
            candidates,
            Candidate::schemes));
    return out;
  }

  private static <F> List<Duplicate> duplicates(
      String kind,
      List<F> classPath,
      Function<F, List<String>> keys,
      List<Candidate> candidates,
      Function<Candidate, Set<String>> ofCandidate) {
    Map<String, List<String>> origins = new TreeMap<>();
    for (F f : classPath) {
      for (String k : keys.apply(f)) {
        origins.computeIfAbsent(k, x -> new ArrayList<>()).add(origin(f));
      }
    }
    for (Candidate c : candidates) {
      for (String k : ofCandidate.apply(c)) {
        origins.computeIfAbsent(k, x -> new ArrayList<>()).add(c.toString());
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

  /**
   * A factory map whose keys are every type (the class path's and every plugin's, declared or
   * loaded) and whose {@code get} loads only the plugin that provides the type asked for. Iterating
   * its values or entries loads every plugin.
   */
  private static final class LazyFactories<F> extends java.util.AbstractMap<String, F> {
    private final Map<String, F> classPath;
    private final Map<String, Candidate> owners;
    private final Function<Plugin, List<F>> ofPlugin;
    private final Function<F, String> typeOf;
    private final String kind;
    private final Set<String> keys;

    LazyFactories(
        Map<String, F> classPath,
        Map<String, Candidate> owners,
        Function<Plugin, List<F>> ofPlugin,
        Function<F, String> typeOf,
        String kind) {
      this.classPath = classPath;
      this.owners = owners;
      this.ofPlugin = ofPlugin;
      this.typeOf = typeOf;
      this.kind = kind;
      Set<String> k = new TreeSet<>(classPath.keySet());
      k.addAll(owners.keySet());
      this.keys = java.util.Collections.unmodifiableSet(k);
    }

    /**
     * The factory of {@code type}, loading its plugin if needed.
     *
     * @throws PluginException when the plugin that declares it cannot load
     */
    @Override
    public F get(Object type) {
      F f = classPath.get(type);
      if (f != null) {
        return f;
      }
      Candidate c = owners.get(type);
      if (c == null) {
        return null;
      }
      for (F pf : ofPlugin.apply(plugin(c))) {
        if (typeOf.apply(pf).equals(type)) {
          return pf;
        }
      }
      throw new IllegalStateException(c + " no longer provides " + kind + " type " + type);
    }

    @Override
    public boolean containsKey(Object type) {
      return keys.contains(type);
    }

    @Override
    public Set<String> keySet() {
      return keys;
    }

    @Override
    public int size() {
      return keys.size();
    }

    @Override
    public Set<Map.Entry<String, F>> entrySet() {
      Map<String, F> all = new TreeMap<>();
      for (String k : keys) {
        all.put(k, get(k));
      }
      return java.util.Collections.unmodifiableMap(all).entrySet();
    }

    @Override
    public String toString() {
      return keys.toString();
    }
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

  /**
   * The plugins loaded so far, by location: every plugin without a declaration, and the declared
   * ones whose factories were asked for ({@link #inventory} loads them all).
   */
  public List<Plugin> plugins() {
    List<Plugin> out = new ArrayList<>();
    for (Candidate c : candidates) {
      Plugin p = c.loaded;
      if (p != null) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * Source factories by type: the class path's and the plugins'. {@code get(type)} loads the one
   * plugin that provides {@code type} if it is not loaded yet (and throws {@link PluginException}
   * when it cannot load); {@code keySet()} loads nothing; iterating values or entries loads every
   * plugin. Blocking (loading reads jars); any thread.
   */
  public Map<String, SourceFactory> sourceFactories() {
    return sources;
  }

  /** Sink factories by type; loads plugins as {@link #sourceFactories()} does. */
  public Map<String, SinkFactory> sinkFactories() {
    return sinks;
  }

  /**
   * Checkpoint storage factories (for remote checkpoint locations): the class path's and those of
   * every plugin that provides a checkpoint scheme, which this call loads if they are not loaded
   * yet. Blocking; any thread.
   *
   * @throws PluginException when such a plugin cannot load
   */
  public List<CheckpointStorageFactory> checkpointStorageFactories() {
    List<CheckpointStorageFactory> out = new ArrayList<>(classPathCheckpoints);
    for (Candidate c : candidates) {
      if (!c.schemes().isEmpty()) {
        out.addAll(plugin(c).checkpointStorageFactories());
      }
    }
    return out;
  }

  /** The plugin that provides a source or sink type, if it is a plugin's (loading it). */
  public Optional<Plugin> pluginOf(String type) {
    Candidate c = sourceOwners.get(type);
    if (c == null) {
      c = sinkOwners.get(type);
    }
    return c == null ? Optional.empty() : Optional.of(plugin(c));
  }

  @Override
  public String toString() {
    Map<String, String> m = new LinkedHashMap<>();
    plugins().forEach(p -> m.put(p.name(), p.version()));
    return "Connectors[plugins="
        + m
        + ", sources="
        + sources.keySet()
        + ", sinks="
        + sinks.keySet()
        + "]";
  }
}
