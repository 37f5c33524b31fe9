package io.tributary.core.checkpoint;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.ConfigProblem;
import io.tributary.core.api.ConfigSpec;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Opens {@link CheckpointStorage} for a location URI whose scheme is not the local file system, for
 * example {@code hdfs://namenode:8020/tributary/clicks} or {@code s3a://bucket/checkpoints/clicks}.
 * Implementations are found through {@link ServiceLoader} ({@code
 * META-INF/services/io.tributary.core.checkpoint.CheckpointStorageFactory}); connector-file
 * provides {@code hdfs} and {@code s3a}. A plain path or a {@code file:} URI is always the built-in
 * {@link LocalCheckpointStorage}.
 *
 * <pre>{@code
 * CheckpointStorage cp = CheckpointStorageFactory.open(
 *     "s3a://bucket/checkpoints/clicks", Map.of("hadoop.fs.s3a.endpoint", "http://127.0.0.1:9000"));
 * Pipeline.builder("clicks").checkpoint(cp).walDir(Path.of("/var/lib/tributary/wal/clicks"))...
 * }</pre>
 *
 * <p>A receiver's write-ahead log always needs a local directory: with a remote checkpoint, set
 * {@code Pipeline.Builder.walDir(...)} (gateway: {@code wal-dir:}).
 *
 * <p>Thread safety: implementations must be stateless; {@link #create} may be called from any
 * thread.
 */
public interface CheckpointStorageFactory {
  /** The URI schemes this factory opens, lower case, for example {@code hdfs}. */
  Set<String> schemes();

  /** The options it accepts next to the location (gateway: {@code checkpoint-options:}). */
  ConfigSpec options();

  /**
   * Opens the storage at {@code location}; the caller closes it.
   *
   * @throws IOException when the storage cannot be reached
   */
  CheckpointStorage create(URI location, Config options) throws IOException;

  /** Whether {@code location} means the local file system: a plain path or a {@code file:} URI. */
  static boolean isLocal(String location) {
    String scheme = scheme(location);
    return scheme == null || scheme.equals("file");
  }

  /** The factories on the classpath. */
  static List<CheckpointStorageFactory> available() {
    List<CheckpointStorageFactory> out = new ArrayList<>();
    for (CheckpointStorageFactory f : ServiceLoader.load(CheckpointStorageFactory.class)) {
      out.add(f);
    }
    return out;
  }

  /** The factory on the classpath for {@code scheme}, if any. */
  static Optional<CheckpointStorageFactory> forScheme(String scheme) {
    return forScheme(scheme, available());
  }

  private static Optional<CheckpointStorageFactory> forScheme(
      String scheme, List<CheckpointStorageFactory> factories) {
    String s = scheme.toLowerCase(Locale.ROOT);
    return factories.stream().filter(f -> f.schemes().contains(s)).findFirst();
  }

  /**
   * Checks a location and its options without opening anything.
   *
   * @return every problem, each as "Invalid value X for checkpoint: reason (expected: ...)"; empty
   *     when valid
   */
  static List<ConfigProblem> validate(String location, Map<String, ?> options) {
    return validate(location, options, available());
  }

  /**
   * As {@link #validate(String, Map)}, with the remote schemes of {@code factories} instead of
   * those on the classpath (the gateway passes the factories of its plugins).
   */
  static List<ConfigProblem> validate(
      String location, Map<String, ?> options, List<CheckpointStorageFactory> factories) {
    List<ConfigProblem> problems = new ArrayList<>();
    if (location == null || location.isBlank()) {
      problems.add(
          new ConfigProblem(
              "checkpoint",
              "Invalid value "
                  + location
                  + " for checkpoint: blank"
                  + " (expected: a local directory or a URI such as hdfs://host:8020/dir or s3a://bucket/dir)"));
      return problems;
    }
    if (isLocal(location)) {
      if (localPath(location) == null) {
        problems.add(
            new ConfigProblem(
                "checkpoint",
                "Invalid value "
                    + location
                    + " for checkpoint: not a valid path"
                    + " (expected: a directory path, absolute or relative to the working directory)"));
      }
      for (String k : options.keySet()) {
        problems.add(
            new ConfigProblem(
                k, "Unknown key " + k + " for a local checkpoint (expected: no options)"));
      }
      return problems;
    }
    String scheme = scheme(location);
    Optional<CheckpointStorageFactory> f = forScheme(scheme, factories);
    if (f.isEmpty()) {
      problems.add(
          new ConfigProblem(
              "checkpoint",
              "Invalid value "
                  + location
                  + " for checkpoint: no checkpoint"
                  + " storage for scheme "
                  + scheme
                  + " on the classpath (expected: a local path, or one of the schemes "
                  + knownSchemes(factories)
                  + "; connector-file adds hdfs and s3a)"));
      return problems;
    }
    try {
      new URI(location);
    } catch (URISyntaxException e) {
      problems.add(
          new ConfigProblem(
              "checkpoint",
              "Invalid value "
                  + location
                  + " for checkpoint: "
                  + e.getReason()
                  + " (expected: a URI such as "
                  + scheme
                  + "://host/dir)"));
    }
    problems.addAll(f.get().options().validate(options));
    return problems;
  }

  /**
   * Opens the checkpoint storage for {@code location}: a local path or {@code file:} URI, or a URI
   * handled by a factory on the classpath.
   *
   * @throws ConfigException listing every problem with the location or the options
   * @throws IOException when the storage cannot be reached
   */
  static CheckpointStorage open(String location, Map<String, ?> options) throws IOException {
    return open(location, options, available());
  }

  /**
   * As {@link #open(String, Map)}, with the remote schemes of {@code factories} instead of those on
   * the classpath.
   */
  static CheckpointStorage open(
      String location, Map<String, ?> options, List<CheckpointStorageFactory> factories)
      throws IOException {
    List<ConfigProblem> problems = validate(location, options, factories);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems.stream().map(ConfigProblem::message).toList());
    }
    if (isLocal(location)) {
      return new LocalCheckpointStorage(localPath(location));
    }
    CheckpointStorageFactory f = forScheme(scheme(location), factories).orElseThrow();
    return f.create(URI.create(location), f.options().parse(options));
  }

  /** The local directory a local location names, or null when it is not a valid path. */
  static Path localPath(String location) {
    try {
      if (location.regionMatches(true, 0, "file:", 0, 5)) {
        return Path.of(URI.create(location)).toAbsolutePath().normalize();
      }
      return Path.of(location).toAbsolutePath().normalize();
    } catch (IllegalArgumentException e) { // includes InvalidPathException
      return null;
    }
  }

  private static Set<String> knownSchemes(List<CheckpointStorageFactory> factories) {
    Set<String> s = new TreeSet<>();
    factories.forEach(f -> s.addAll(f.schemes()));
    return s;
  }

  /**
   * The URI scheme, lower case; null for a plain path (including Windows drive letters such as
   * {@code C:\}).
   */
  private static String scheme(String location) {
    Matcher m = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]+):").matcher(location);
    return m.find() ? m.group(1).toLowerCase(Locale.ROOT) : null;
  }
}
