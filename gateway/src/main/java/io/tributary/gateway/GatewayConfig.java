package io.tributary.gateway;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.ConfigProblem;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import io.tributary.core.runtime.PipelineOptions;
import io.tributary.gateway.internal.Transforms;
import io.tributary.gateway.internal.YamlTree;
import io.tributary.gateway.plugins.Connectors;
import io.tributary.gateway.plugins.PluginException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A validated gateway configuration: pipelines ({@code source → transforms → sinks}) and the admin
 * HTTP endpoint.
 *
 * <pre>
 * pipelines:
 *   - id: lines
 *     settings: { batch-interval: 1s, wal.enabled: true }   # keys of PipelineOptions
 *     checkpoint: ./data/checkpoint/lines                 # or hdfs://nn:8020/..., s3a://bucket/... (connector-file)
 *     # checkpoint-options: { hadoop.fs.s3a.endpoint: ... }  # options of a remote checkpoint's storage
 *     # wal-dir: ./data/wal/lines                          # local WAL directory; needed with a remote checkpoint and
 *                                                         # a receiver source
 *     source: { type: socket, mode: server, port: 9999 }
 *     transforms:
 *       - { type: filter, regex: "ERROR" }
 *     sinks:
 *       - { type: files, path: ./data/out/lines }
 * admin: { host: 127.0.0.1, port: 9090 }                   # optional; no admin endpoint without it
 * plugins: { path: [ ./plugins ] }                         # optional; see below
 * </pre>
 *
 * <p>Loading checks everything and reports every problem at once, each as {@code FILE:LINE:
 * message}. Source and sink types come from the {@link SourceFactory} and {@link SinkFactory}
 * implementations on the classpath and from the plugins ({@link Connectors}): those under the
 * {@code --plugins} directories when given ({@code pluginPath} of {@link #load(Path, List)}), else
 * under {@code plugins.path} of the file (a directory or a list, relative to the working
 * directory), else under the {@code plugins/} directory of the installation ({@link
 * Connectors#defaultPluginPath()}).
 *
 * <p>Validation builds each pipeline's source and sinks with their factories (constructors check
 * how options fit together and open nothing), and the configuration keeps those instances: the
 * {@link Gateway} runs exactly them, so every source and sink is built once. Instances are
 * single-use, so a configuration runs in one {@link Gateway} only; load the file again for another
 * run.
 *
 * <p>Thread safety: immutable, except that {@link Gateway} claims it once.
 */
public final class GatewayConfig {
  /** One source, sink or transform: its type and validated options. */
  public record Component(String type, Config config, Map<String, Object> raw) {
    /**
     * The type and the options set, with the secrets of sensitive options and entries masked
     * ({@link Config#toString}): pass-through settings ({@code kafka.sasl.jaas.config}, {@code
     * hadoop.fs.s3a.secret.key}) hold secrets, and records end up in logs.
     */
    @Override
    public String toString() {
      return "Component[type=" + type + ", config=" + config + "]";
    }
  }

  /**
   * One pipeline. {@code checkpointLocation} is the {@code checkpoint:} value as written (a local
   * path or a URI such as {@code hdfs://nn:8020/cp}); {@code checkpoint} is its local directory, or
   * {@code null} when it is remote. {@code walDir} is {@code null} unless {@code wal-dir:} is set.
   * {@code builtSource} and {@code builtSinks} (one per entry of {@code sinks}, in order) are the
   * instances validation built, not yet opened.
   */
  public record PipelineConfig(
      String id,
      PipelineOptions options,
      Path checkpoint,
      String checkpointLocation,
      Map<String, Object> checkpointOptions,
      Path walDir,
      Component source,
      Source builtSource,
      List<Component> transforms,
      List<Component> sinks,
      List<Sink> builtSinks,
      String fingerprint) {
    public PipelineConfig {
      sinks = List.copyOf(sinks);
      builtSinks = List.copyOf(builtSinks);
      transforms = List.copyOf(transforms);
    }

    /**
     * Every field but the built instances, with secrets masked (checkpoint options by name,
     * components by spec).
     */
    @Override
    public String toString() {
      return "PipelineConfig[id="
          + id
          + ", options="
          + options
          + ", checkpoint="
          + checkpointLocation
          + ", checkpointOptions="
          + Secrets.describe(checkpointOptions)
          + ", walDir="
          + walDir
          + ", source="
          + source
          + ", transforms="
          + transforms
          + ", sinks="
          + sinks
          + ", fingerprint="
          + fingerprint
          + "]";
    }

    /** The secret values of this pipeline's options, for {@link Secrets#scrub}. */
    List<String> secretValues() {
      List<String> out = new ArrayList<>(Secrets.secretValues(checkpointOptions));
      out.addAll(source.config().secretValues());
      for (Component c : transforms) {
        out.addAll(c.config().secretValues());
      }
      for (Component c : sinks) {
        out.addAll(c.config().secretValues());
      }
      return out;
    }
  }

  /**
   * Where the admin HTTP endpoint listens; {@code null} config means none.
   *
   * @param token the bearer token read from {@code token-file} or {@code token-env}, or {@code
   *     null}; required for any host but loopback
   * @param tlsCert PEM certificate chain for HTTPS, or {@code null} for plain HTTP
   * @param tlsKey PEM PKCS#8 private key matching {@code tlsCert}
   * @param readIdleTimeout a connection that sends nothing for this long is closed
   */
  public record Admin(
      String host, int port, String token, Path tlsCert, Path tlsKey, Duration readIdleTimeout) {
    public Admin(String host, int port) {
      this(host, port, null, null, null, Duration.ofSeconds(10));
    }

    /** Without the token. */
    @Override
    public String toString() {
      return "Admin[host="
          + host
          + ", port="
          + port
          + ", token="
          + (token == null ? "none" : "******")
          + ", tlsCert="
          + tlsCert
          + ", readIdleTimeout="
          + readIdleTimeout
          + "]";
    }
  }

  /** Whether {@code host} is a loopback address (names are resolved). */
  static boolean isLoopback(String host) {
    try {
      for (java.net.InetAddress a : java.net.InetAddress.getAllByName(host)) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  private static final Set<String> ROOT_KEYS =
      Set.of("pipelines", "admin", "plugins", "on-pipeline-failure");

  /**
   * What the gateway does when one of its pipelines fails while running ({@code
   * on-pipeline-failure}).
   */
  public enum OnPipelineFailure {
    /**
     * The other pipelines keep running; the failed one shows as FAILED in the status, on the page
     * and in {@code /health} (503). The gateway ends (exit 1) once no pipeline is left running.
     */
    KEEP_RUNNING,
    /** The other pipelines are stopped gracefully and the gateway exits with 1. */
    STOP_GATEWAY;

    /** The YAML spelling: keep-running, stop-gateway. */
    public String yamlName() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  private static final Set<String> PIPELINE_KEYS =
      Set.of(
          "id",
          "settings",
          "checkpoint",
          "checkpoint-options",
          "wal-dir",
          "source",
          "transforms",
          "sinks");

  private final String origin;
  private final List<PipelineConfig> pipelines;
  private final Admin admin;
  private final List<String> secretValues;
  private final AtomicBoolean claimed = new AtomicBoolean();
  private final Connectors connectors;
  private final List<Path> pluginPathOverride;
  private final OnPipelineFailure onPipelineFailure;

  private GatewayConfig(
      String origin,
      List<PipelineConfig> pipelines,
      Admin admin,
      Connectors connectors,
      List<Path> pluginPathOverride,
      OnPipelineFailure onPipelineFailure) {
    this.origin = origin;
    this.onPipelineFailure = onPipelineFailure;
    this.connectors = connectors;
    this.pluginPathOverride = pluginPathOverride;
    this.pipelines = List.copyOf(pipelines);
    this.admin = admin;
    List<String> secrets = new ArrayList<>();
    for (PipelineConfig p : this.pipelines) {
      secrets.addAll(p.secretValues());
    }
    this.secretValues = List.copyOf(secrets);
  }

  public String origin() {
    return origin;
  }

  public List<PipelineConfig> pipelines() {
    return pipelines;
  }

  /** The source, sink and checkpoint types this configuration was validated with. */
  public Connectors connectors() {
    return connectors;
  }

  /**
   * The plugin path given on the command line ({@code --plugins}), which a reload uses again; null
   * when none was given.
   */
  public List<Path> pluginPathOverride() {
    return pluginPathOverride;
  }

  /**
   * {@code text} without any secret value of this configuration (see {@link Secrets#scrub}): for
   * text Tributary did not write itself, such as a connector's or client library's exception
   * message, before it is logged or shown.
   */
  public String scrub(String text) {
    return Secrets.scrub(text, secretValues);
  }

  /** {@code on-pipeline-failure}: keep-running (default) or stop-gateway. */
  public OnPipelineFailure onPipelineFailure() {
    return onPipelineFailure;
  }

  /** The admin endpoint, or {@code null} when the file has no {@code admin:} section. */
  public Admin admin() {
    return admin;
  }

  /**
   * Marks this configuration as run by a gateway; its built sources and sinks are single-use.
   *
   * @throws IllegalStateException if a gateway already claimed it
   */
  void claimForRun() {
    if (!claimed.compareAndSet(false, true)) {
      throw new IllegalStateException(
          "The configuration "
              + origin
              + " was already given to a gateway; its sources"
              + " and sinks are built once and run once (load the configuration again for another gateway)");
    }
  }

  /**
   * Loads and validates a file.
   *
   * @throws GatewayConfigException with every problem
   */
  public static GatewayConfig load(Path file) throws IOException {
    return load(file, null);
  }

  /**
   * Loads and validates a file, with the plugins under {@code pluginPath} (the {@code --plugins}
   * flag; {@code null}: the file's {@code plugins.path}, else the installation's {@code plugins/}).
   *
   * @throws GatewayConfigException with every problem
   */
  public static GatewayConfig load(Path file, List<Path> pluginPath) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new GatewayConfigException(
          List.of(file + ": no such file (expected: a YAML pipeline file; see gateway/README.md)"));
    }
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return parse(r, file.toString(), pluginPath);
    }
  }

  /** Loads the embedded default configuration ({@code tributary-default.yaml}). */
  public static GatewayConfig loadDefault() throws IOException {
    return loadDefault(null);
  }

  /** Loads the embedded default configuration with the plugins under {@code pluginPath}. */
  public static GatewayConfig loadDefault(List<Path> pluginPath) throws IOException {
    try (InputStream in = GatewayConfig.class.getResourceAsStream("/tributary-default.yaml")) {
      if (in == null) {
        throw new IOException("tributary-default.yaml is missing from the gateway jar");
      }
      return parse(
          new InputStreamReader(in, StandardCharsets.UTF_8),
          "tributary-default.yaml (embedded)",
          pluginPath);
    }
  }

  public static GatewayConfig parse(Reader reader, String origin) {
    return parse(reader, origin, null);
  }

  /**
   * Parses and validates a configuration, with the plugins under {@code pluginPath} ({@code null}:
   * the file's {@code plugins.path}, else the installation's {@code plugins/}).
   */
  public static GatewayConfig parse(Reader reader, String origin, List<Path> pluginPath) {
    YamlTree tree;
    try {
      tree = YamlTree.load(reader, origin);
    } catch (YamlTree.SyntaxException e) {
      throw new GatewayConfigException(List.of(e.getMessage()));
    }
    return new Validator(tree, origin, pluginPath).validate();
  }

  /**
   * Source factories by type: the classpath's and those of the installation's plugins ({@link
   * Connectors#defaultPluginPath()}).
   */
  public static Map<String, SourceFactory> sourceFactories() {
    return Connectors.load(Connectors.defaultPluginPath()).sourceFactories();
  }

  /** Sink factories by type: the classpath's and those of the installation's plugins. */
  public static Map<String, SinkFactory> sinkFactories() {
    return Connectors.load(Connectors.defaultPluginPath()).sinkFactories();
  }

  /**
   * A path from the file, relative to the working directory; {@code null} when it is not a valid
   * path.
   */
  static Path resolve(String path) {
    try {
      return Path.of(path).toAbsolutePath().normalize();
    } catch (java.nio.file.InvalidPathException e) {
      return null;
    }
  }

  private static final class Validator {
    private final YamlTree tree;
    private final String origin;

    /**
     * Problems with the line they concern; reported sorted by line (stable), so the output reads
     * like the file.
     */
    private final List<Map.Entry<Integer, String>> problems = new ArrayList<>();

    private final List<Path> pluginPathOverride;
    private Connectors connectors = null;
    private Map<String, SourceFactory> sources = Map.of();
    private Map<String, SinkFactory> sinks = Map.of();

    Validator(YamlTree tree, String origin, List<Path> pluginPathOverride) {
      this.tree = tree;
      this.origin = origin;
      this.pluginPathOverride = pluginPathOverride == null ? null : List.copyOf(pluginPathOverride);
    }

    /**
     * Loads the plugins: {@code --plugins} if given, else {@code plugins.path}, else the
     * installation's {@code plugins/}. A plugin that cannot load is a problem of the file (at the
     * line of {@code plugins}) or of the flag.
     */
    private void loadConnectors(Map<String, Object> root) {
      List<Path> path = pluginPathOverride;
      String where = "--plugins";
      if (path == null && root != null && root.containsKey("plugins")) {
        where = "plugins.path";
        path = pluginPathOf(root.get("plugins"));
      }
      if (path == null) {
        path = Connectors.defaultPluginPath();
        where = "the installation's plugins directory " + path;
      }
      try {
        connectors = Connectors.load(path);
      } catch (PluginException e) {
        int line =
            pluginPathOverride == null && root != null && root.containsKey("plugins")
                ? tree.line("plugins.path")
                : 0;
        for (String p : e.problems()) {
          add(line, where.equals("plugins.path") ? p : where + ": " + p);
        }
        connectors = Connectors.classPath();
      }
      sources = connectors.sourceFactories();
      sinks = connectors.sinkFactories();
    }

    /** {@code plugins: { path: DIR }} or {@code plugins: { path: [DIR, ...] }}. */
    private List<Path> pluginPathOf(Object v) {
      Map<String, Object> m = map(v, "plugins", "a mapping with path: (a directory or a list)");
      if (m == null) {
        return List.of();
      }
      for (String k : m.keySet()) {
        if (!k.equals("path")) {
          keyProblem("plugins." + k, "Unknown key plugins." + k + " (expected: path)");
        }
      }
      Object p = m.get("path");
      List<?> dirs = p instanceof List<?> l ? l : p == null ? List.of() : List.of(p);
      List<Path> out = new ArrayList<>();
      for (Object d : dirs) {
        Path r = d instanceof String s && !s.isBlank() ? resolve(s) : null;
        if (r == null) {
          problem(
              "plugins.path",
              "Invalid value "
                  + d
                  + " for plugins.path: not a directory path (expected: a directory whose"
                  + " subdirectories and jar files are plugins)");
        } else {
          out.add(r);
        }
      }
      return out;
    }

    private void problem(String path, String message) {
      add(tree.line(path), message);
    }

    private void add(int line, String message) {
      problems.add(Map.entry(line, origin + ":" + line + ": " + message));
    }

    private void keyProblem(String path, String message) {
      Integer keyLine = null;
      try {
        keyLine = tree.line(path + "#key");
      } catch (RuntimeException ignored) {
        // fall back to the value's line
      }
      add(keyLine != null && keyLine > 0 ? keyLine : tree.line(path), message);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> map(Object v, String path, String what) {
      if (v instanceof Map<?, ?> m) {
        return (Map<String, Object>) m;
      }
      problem(
          path, "Invalid value " + v + " for " + path + ": not a mapping (expected: " + what + ")");
      return null;
    }

    private List<?> list(Object v, String path, String what) {
      if (v instanceof List<?> l) {
        return l;
      }
      problem(
          path, "Invalid value " + v + " for " + path + ": not a list (expected: " + what + ")");
      return null;
    }

    GatewayConfig validate() {
      for (YamlTree.DuplicateKey d : tree.duplicateKeys()) {
        add(
            d.line(),
            "Duplicate key "
                + d.path()
                + ": already set on line "
                + d.firstLine()
                + " (expected: each key once per mapping)");
      }
      Map<String, Object> root = map(tree.root(), "", "a mapping with pipelines:");
      loadConnectors(root);
      List<PipelineConfig> out = new ArrayList<>();
      Admin admin = null;
      OnPipelineFailure onPipelineFailure = OnPipelineFailure.KEEP_RUNNING;
      if (root != null) {
        for (String k : root.keySet()) {
          if (!ROOT_KEYS.contains(k)) {
            keyProblem(
                k,
                "Unknown key "
                    + k
                    + " (expected one of: admin, on-pipeline-failure, pipelines, plugins)");
          }
        }
        Object opf = root.get("on-pipeline-failure");
        if (opf != null) {
          OnPipelineFailure v = null;
          for (OnPipelineFailure o : OnPipelineFailure.values()) {
            if (o.yamlName().equals(String.valueOf(opf))) {
              v = o;
            }
          }
          if (v == null) {
            problem(
                "on-pipeline-failure",
                "Invalid value "
                    + opf
                    + " for on-pipeline-failure: unknown policy (expected one of: keep-running,"
                    + " stop-gateway)");
          } else {
            onPipelineFailure = v;
          }
        }
        Object ps = root.get("pipelines");
        if (ps == null) {
          problem("", "Missing required key pipelines (expected: a list of pipelines)");
        } else {
          List<?> l = list(ps, "pipelines", "a list of pipelines");
          if (l != null && l.isEmpty()) {
            problem(
                "pipelines",
                "Invalid value [] for pipelines: empty (expected: at least one pipeline)");
          }
          if (l != null) {
            // Duplicates are checked on the raw values, so they are reported even when a pipeline
            // has other problems.
            Map<String, Integer> ids = new HashMap<>();
            Map<String, Integer> checkpoints = new HashMap<>();
            for (int i = 0; i < l.size(); i++) {
              String p = "pipelines[" + i + "]";
              if (l.get(i) instanceof Map<?, ?> raw) {
                Object id = raw.get("id");
                Integer first = id == null ? null : ids.putIfAbsent(String.valueOf(id), i);
                if (first != null) {
                  problem(
                      p + ".id",
                      "Invalid value "
                          + id
                          + " for "
                          + p
                          + ".id: duplicate pipeline id, also used by"
                          + " pipelines["
                          + first
                          + "] (expected: unique ids)");
                }
                Object cp = raw.get("checkpoint");
                String cpKey = cp == null ? null : checkpointKey(String.valueOf(cp));
                Integer firstCp = cpKey == null ? null : checkpoints.putIfAbsent(cpKey, i);
                if (firstCp != null) {
                  problem(
                      p + ".checkpoint",
                      "Invalid value "
                          + cp
                          + " for "
                          + p
                          + ".checkpoint: also used by"
                          + " pipelines["
                          + firstCp
                          + "] (expected: one checkpoint location per pipeline)");
                }
              }
              PipelineConfig pc = pipeline(l.get(i), p);
              if (pc != null) {
                out.add(pc);
              }
            }
          }
        }
        if (root.containsKey("admin")) {
          admin = admin(root.get("admin"));
        }
      }
      if (!problems.isEmpty()) {
        throw new GatewayConfigException(
            problems.stream().sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList());
      }
      return new GatewayConfig(
          origin, out, admin, connectors, pluginPathOverride, onPipelineFailure);
    }

    private Admin admin(Object v) {
      Map<String, Object> m = map(v, "admin", "host and port");
      if (m == null) {
        return null;
      }
      String host = "127.0.0.1";
      int port = 9090;
      String token = null;
      String tokenFrom = null;
      Path cert = null;
      Path key = null;
      Duration idle = Duration.ofSeconds(10);
      for (Map.Entry<String, Object> e : m.entrySet()) {
        String path = "admin." + e.getKey();
        String value = String.valueOf(e.getValue());
        switch (e.getKey()) {
          case "host" -> host = value;
          case "token" ->
              problem(
                  path,
                  "Invalid key "
                      + path
                      + ": a token is never written in the configuration in clear (expected:"
                      + " admin.token-file: a file holding the token, or admin.token-env: the name of an"
                      + " environment variable holding it)");
          case "token-file" -> {
            tokenFrom = path;
            try {
              token = Files.readString(Path.of(value), StandardCharsets.UTF_8).strip();
              if (token.isEmpty()) {
                problem(
                    path,
                    "Invalid value "
                        + value
                        + " for "
                        + path
                        + ": the file is empty (expected: a file holding the token)");
                token = null;
              }
            } catch (IOException | RuntimeException ex) {
              problem(
                  path,
                  "Invalid value "
                      + value
                      + " for "
                      + path
                      + ": cannot read it ("
                      + ex
                      + ") (expected: a readable file holding the bearer token)");
            }
          }
          case "token-env" -> {
            tokenFrom = path;
            String env = System.getenv(value);
            if (env == null || env.isBlank()) {
              problem(
                  path,
                  "Invalid value "
                      + value
                      + " for "
                      + path
                      + ": the environment variable is not set or empty (expected: export "
                      + value
                      + "=<token> before starting)");
            } else {
              token = env.strip();
            }
          }
          case "tls-cert" -> cert = Path.of(value);
          case "tls-key" -> key = Path.of(value);
          case "read-idle-timeout" -> {
            try {
              idle = io.tributary.core.api.ConfigOption.toDuration(value);
            } catch (RuntimeException ex) {
              problem(
                  path,
                  "Invalid value "
                      + value
                      + " for "
                      + path
                      + ": not a duration (expected: e.g. 10s, 500ms)");
            }
          }
          case "port" -> {
            if (e.getValue() instanceof Long l && l >= 0 && l <= 65535) {
              port = l.intValue();
            } else {
              problem(
                  path,
                  "Invalid value "
                      + e.getValue()
                      + " for "
                      + path
                      + ": not a port (expected: 0-65535;"
                      + " 0 picks a free port)");
            }
          }
          default ->
              keyProblem(
                  path,
                  "Unknown key "
                      + e.getKey()
                      + " in admin (expected one of: host, port, token-file, token-env, tls-cert,"
                      + " tls-key, read-idle-timeout)");
        }
      }
      if ((cert == null) != (key == null)) {
        problem(
            "admin",
            "Invalid admin: tls-cert and tls-key go together (expected: both PEM files, or neither for plain"
                + " HTTP)");
      }
      for (Path f : java.util.Arrays.asList(cert, key)) {
        if (f != null && !Files.isReadable(f)) {
          problem(
              "admin",
              "Invalid value " + f + " for admin TLS: not a readable file (expected: a PEM file)");
        }
      }
      if (token == null && tokenFrom == null && !isLoopback(host)) {
        problem(
            "admin.host",
            "Invalid value "
                + host
                + " for admin.host: not a loopback address, and the admin endpoint has no token"
                + " (expected: admin.token-file or admin.token-env with a bearer token, or host: 127.0.0.1)");
      }
      return new Admin(host, port, token, cert, key, idle);
    }

    private PipelineConfig pipeline(Object v, String path) {
      Map<String, Object> m = map(v, path, "a pipeline with id, checkpoint, source and sinks");
      if (m == null) {
        return null;
      }
      int before = problems.size();
      for (String k : m.keySet()) {
        if (!PIPELINE_KEYS.contains(k)) {
          keyProblem(
              path + "." + k,
              "Unknown key "
                  + k
                  + " in "
                  + path
                  + " (expected one of: checkpoint, checkpoint-options, id, settings, sinks, source, transforms, wal-dir)");
        }
      }
      String id = null;
      Object idv = m.get("id");
      if (idv == null) {
        problem(
            path,
            "Missing required key "
                + path
                + ".id (expected: a pipeline id of letters, digits, '.', '_', '-')");
      } else if (!String.valueOf(idv).matches("[A-Za-z0-9._-]+")) {
        problem(
            path + ".id",
            "Invalid value "
                + idv
                + " for "
                + path
                + ".id: (expected: letters, digits, '.', '_', '-')");
      } else {
        id = String.valueOf(idv);
      }
      PipelineOptions options = null;
      Object sv = m.get("settings");
      Map<String, Object> settings =
          sv == null ? Map.of() : map(sv, path + ".settings", "pipeline settings");
      if (settings != null) {
        settings = flatten(settings);
      }
      if (settings != null) {
        List<ConfigProblem> ps = PipelineOptions.SPEC.validate(settings);
        for (ConfigProblem p : ps) {
          problem(
              path + ".settings." + p.key(),
              p.message()
                  .replace(" for " + p.key(), " for " + path + ".settings." + p.key())
                  .replace(
                      "Unknown key " + p.key(), "Unknown key " + path + ".settings." + p.key()));
        }
        if (ps.isEmpty()) {
          options = PipelineOptions.from(settings);
        }
      }
      Path checkpoint = null;
      String checkpointLocation = null;
      Object cv = m.get("checkpoint");
      Object cov = m.get("checkpoint-options");
      Map<String, Object> checkpointOptions =
          cov == null
              ? Map.of()
              : map(cov, path + ".checkpoint-options", "options of the checkpoint storage");
      if (checkpointOptions != null) {
        checkpointOptions = flatten(checkpointOptions);
      }
      if (cv == null) {
        problem(
            path,
            "Missing required key "
                + path
                + ".checkpoint (expected: a directory for offsets, commits and the"
                + " WAL, e.g. ./data/checkpoint/"
                + (id == null ? "my-pipeline" : id)
                + ")");
      } else if (CheckpointStorageFactory.isLocal(String.valueOf(cv))) {
        checkpointLocation = String.valueOf(cv);
        checkpoint = CheckpointStorageFactory.localPath(checkpointLocation);
        if (checkpoint == null) {
          problem(
              path + ".checkpoint",
              "Invalid value "
                  + cv
                  + " for "
                  + path
                  + ".checkpoint: not a valid path"
                  + " (expected: a directory path, absolute or relative to the working directory)");
        }
        if (checkpointOptions != null && !checkpointOptions.isEmpty()) {
          problem(
              path + ".checkpoint-options",
              "Invalid value "
                  + checkpointOptions.keySet()
                  + " for "
                  + path
                  + ".checkpoint-options: a local checkpoint takes no options (expected: none, or a checkpoint URI such as"
                  + " hdfs://host:8020/dir or s3a://bucket/dir)");
        }
      } else if (checkpointOptions != null) {
        checkpointLocation = String.valueOf(cv);
        List<CheckpointStorageFactory> storages;
        try {
          storages = connectors.checkpointStorageFactories();
        } catch (PluginException e) {
          for (String p : e.problems()) {
            problem(
                path + ".checkpoint", "Invalid value " + cv + " for " + path + ".checkpoint: " + p);
          }
          storages = List.of();
        }
        for (ConfigProblem p :
            CheckpointStorageFactory.validate(checkpointLocation, checkpointOptions, storages)) {
          if (p.key().equals("checkpoint")) {
            problem(
                path + ".checkpoint",
                p.message().replace(" for checkpoint", " for " + path + ".checkpoint"));
          } else {
            String keyPath = path + ".checkpoint-options." + p.key();
            String msg =
                p.message()
                    .replace(" for " + p.key(), " for " + keyPath)
                    .replace("Unknown key " + p.key(), "Unknown key " + keyPath);
            if (checkpointOptions.containsKey(p.key())) {
              problem(keyPath, msg);
            } else {
              problem(path + ".checkpoint-options", msg);
            }
          }
        }
      }
      Path walDir = null;
      Object wv = m.get("wal-dir");
      if (wv != null) {
        walDir =
            CheckpointStorageFactory.isLocal(String.valueOf(wv))
                ? CheckpointStorageFactory.localPath(String.valueOf(wv))
                : null;
        if (walDir == null) {
          problem(
              path + ".wal-dir",
              "Invalid value "
                  + wv
                  + " for "
                  + path
                  + ".wal-dir: not a local directory path"
                  + " (expected: a local directory for the receiver's write-ahead log, e.g. ./data/wal/"
                  + (id == null ? "my-pipeline" : id)
                  + ")");
        }
      }
      Component source = null;
      Source builtSource = null;
      Object srcv = m.get("source");
      if (srcv == null) {
        problem(
            path,
            "Missing required key "
                + path
                + ".source (expected: a source with a type, one of "
                + sources.keySet()
                + ")");
      } else {
        Map<String, Object> sm = map(srcv, path + ".source", "a source with a type");
        if (sm != null) {
          String type = typeOf(sm, path + ".source", sources.keySet());
          SourceFactory f = type == null ? null : factory(sources, type, path + ".source");
          if (f != null) {
            source = component(sm, path + ".source", type, f.options());
            if (source != null) {
              Component c = source;
              builtSource = tryBuild(c, path + ".source", () -> f.create("source", c.config()));
            }
          }
        }
      }
      List<Component> transforms = new ArrayList<>();
      Object tv = m.get("transforms");
      if (tv != null) {
        List<?> tl = list(tv, path + ".transforms", "a list of transforms");
        if (tl != null) {
          for (int i = 0; i < tl.size(); i++) {
            String tp = path + ".transforms[" + i + "]";
            Map<String, Object> tm = map(tl.get(i), tp, "a transform with a type");
            if (tm == null) {
              continue;
            }
            String type = typeOf(tm, tp, new TreeSet<>(Transforms.types()), "");
            if (type != null) {
              Map<String, Object> opts = withoutType(tm);
              for (String c : Transforms.check(type, opts)) {
                problem(tp, "Invalid " + tp + ": " + c);
              }
              Component comp = component(tm, tp, type, Transforms.spec(type));
              if (comp != null) {
                transforms.add(comp);
              }
            }
          }
        }
      }
      List<Component> sinkComps = new ArrayList<>();
      List<Sink> builtSinks = new ArrayList<>();
      Object skv = m.get("sinks");
      if (skv == null) {
        problem(
            path,
            "Missing required key "
                + path
                + ".sinks (expected: a list of sinks, types "
                + sinks.keySet()
                + ")");
      } else {
        List<?> sl = list(skv, path + ".sinks", "a list of sinks");
        if (sl != null && sl.isEmpty()) {
          problem(
              path + ".sinks",
              "Invalid value [] for " + path + ".sinks: empty (expected: at least one sink)");
        }
        if (sl != null) {
          for (int i = 0; i < sl.size(); i++) {
            String sp = path + ".sinks[" + i + "]";
            Map<String, Object> sm = map(sl.get(i), sp, "a sink with a type");
            if (sm == null) {
              continue;
            }
            String type = typeOf(sm, sp, sinks.keySet());
            SinkFactory f = type == null ? null : factory(sinks, type, sp);
            if (f != null) {
              Component comp = component(sm, sp, type, f.options());
              if (comp != null) {
                Sink built =
                    tryBuild(
                        comp, sp, () -> f.create(type + "-" + sinkComps.size(), comp.config()));
                sinkComps.add(comp);
                builtSinks.add(built);
              }
            }
          }
        }
      }
      if (problems.size() > before || id == null) {
        return null;
      }
      return new PipelineConfig(
          id,
          options,
          checkpoint,
          checkpointLocation,
          checkpointOptions,
          walDir,
          source,
          builtSource,
          transforms,
          sinkComps,
          builtSinks,
          fingerprint(source, sinkComps));
    }

    /**
     * What makes two checkpoint locations the same: the resolved local path, or the URI as written.
     */
    private static String checkpointKey(String location) {
      if (CheckpointStorageFactory.isLocal(location)) {
        Path p = CheckpointStorageFactory.localPath(location);
        return p == null ? null : p.toString();
      }
      return location.replaceAll("/+$", "");
    }

    /**
     * The factory of a known {@code type}; its plugin loads here if it declared its types and was
     * not loaded yet: a plugin that cannot load is a problem at the line of the type.
     */
    private <F> F factory(Map<String, F> factories, String type, String path) {
      try {
        return factories.get(type);
      } catch (PluginException e) {
        for (String p : e.problems()) {
          problem(path + ".type", "Invalid value " + type + " for " + path + ".type: " + p);
        }
        return null;
      }
    }

    private String typeOf(Map<String, Object> m, String path, Set<String> known) {
      return typeOf(m, path, known, "; a plugin under plugins/ adds more");
    }

    private String typeOf(Map<String, Object> m, String path, Set<String> known, String hint) {
      Object t = m.get("type");
      if (t == null) {
        problem(
            path,
            "Missing required key "
                + path
                + ".type (expected one of: "
                + String.join(", ", known)
                + ")");
        return null;
      }
      String type = String.valueOf(t);
      if (!known.contains(type)) {
        problem(
            path + ".type",
            "Invalid value "
                + type
                + " for "
                + path
                + ".type: unknown type (expected one of: "
                + String.join(", ", known)
                + hint
                + ")");
        return null;
      }
      return type;
    }

    private static final Pattern NAMED_KEY = Pattern.compile(" for ([A-Za-z0-9_.\\-]+):");

    /**
     * Builds a source or sink, the instance {@code run} will use (constructors are side-effect
     * free: they check how options fit together, e.g. starting-position offsets without
     * starting-offsets, or TLS files, and open nothing), so that {@code validate} reports what
     * {@code run} would refuse, with the line of the key the message names.
     *
     * @return the instance, or {@code null} after recording its problems
     */
    private <T> T tryBuild(Component comp, String path, Supplier<T> build) {
      try {
        // Not opened here: if the configuration is never run (validate, or other problems), there
        // is nothing to close.
        T built = build.get();
        if (built == null) {
          problem(
              path,
              "Invalid "
                  + path
                  + " ("
                  + comp.type()
                  + "): its factory returned no instance (a bug in the"
                  + " connector; report it to its authors)");
        }
        return built;
      } catch (ConfigException e) {
        for (String msg : e.problems()) {
          Matcher km = NAMED_KEY.matcher(msg);
          String key = km.find() ? km.group(1) : null;
          if (key != null && comp.raw().containsKey(key)) {
            String keyPath = path + "." + key;
            problem(keyPath, msg.replace(" for " + key + ":", " for " + keyPath + ":"));
          } else {
            problem(path, "Invalid " + path + " (" + comp.type() + "): " + msg);
          }
        }
        return null;
      } catch (RuntimeException e) {
        // A connector's or client library's message may quote an option's value.
        problem(
            path,
            "Invalid "
                + path
                + " ("
                + comp.type()
                + "): "
                + Secrets.scrub(e.getMessage(), comp.config().secretValues()));
        return null;
      }
    }

    private Component component(Map<String, Object> m, String path, String type, ConfigSpec spec) {
      Map<String, Object> opts = withoutType(m);
      List<ConfigProblem> ps = spec.validate(opts);
      for (ConfigProblem p : ps) {
        String keyPath = path + "." + p.key();
        String msg = p.message().replace(" for " + p.key() + ":", " for " + keyPath + ":");
        if (opts.containsKey(p.key())) {
          if (msg.startsWith("Unknown key")) {
            keyProblem(
                keyPath,
                msg.replace("Unknown key " + p.key(), "Unknown key " + keyPath + " for " + type));
          } else {
            problem(keyPath, msg);
          }
        } else {
          problem(
              path,
              msg.replace("Missing required key " + p.key(), "Missing required key " + keyPath));
        }
      }
      if (!ps.isEmpty()) {
        return null;
      }
      return new Component(type, spec.parse(opts), opts);
    }

    private static Map<String, Object> withoutType(Map<String, Object> m) {
      Map<String, Object> opts = flatten(m);
      opts.remove("type");
      return opts;
    }

    /**
     * Nested mappings become dotted keys, so {@code wal: { enabled: true }} means {@code
     * wal.enabled: true}. No option type takes a mapping, so this never changes the meaning of a
     * valid file. The dotted key is also the YAML path of the value, so problems keep their line.
     */
    static Map<String, Object> flatten(Map<String, Object> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      flattenInto("", m, out);
      return out;
    }

    @SuppressWarnings("unchecked")
    private static void flattenInto(String prefix, Map<String, Object> m, Map<String, Object> out) {
      for (Map.Entry<String, Object> e : m.entrySet()) {
        String key = prefix + e.getKey();
        if (e.getValue() instanceof Map<?, ?> nested && !nested.isEmpty()) {
          flattenInto(key + ".", (Map<String, Object>) nested, out);
        } else {
          out.put(key, e.getValue());
        }
      }
    }

    /**
     * Types of source and sinks: a checkpoint's offsets mean something only for the same kind of
     * source.
     */
    private static String fingerprint(Component source, List<Component> sinks) {
      StringBuilder sb = new StringBuilder("source=").append(source == null ? "" : source.type());
      for (Component s : sinks) {
        sb.append(";sink=").append(s.type());
      }
      try {
        byte[] d =
            MessageDigest.getInstance("SHA-256")
                .digest(sb.toString().getBytes(StandardCharsets.UTF_8));
        return sb + ";sha256=" + HexFormat.of().formatHex(d, 0, 8);
      } catch (NoSuchAlgorithmException e) {
        return sb.toString();
      }
    }
  }
}
