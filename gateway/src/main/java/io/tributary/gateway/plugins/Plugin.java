package io.tributary.gateway.plugins;

import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.SourceFactory;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One loaded plugin: a directory of jars or one (uber-)jar under a plugin path, in its own {@link
 * PluginClassLoader}, with the factories its {@code META-INF/services} announce. The factories are
 * wrapped so that every call into them, and into what they create, runs with the plugin's class
 * loader as the thread context class loader ({@link ContextClassLoaders}).
 *
 * <p>Thread safety: immutable.
 */
public final class Plugin {
  private final String name;
  private final String version;
  private final Path location;
  private final PluginClassLoader loader;
  private final List<SourceFactory> sources;
  private final List<SinkFactory> sinks;
  private final List<CheckpointStorageFactory> checkpoints;

  Plugin(
      String name,
      String version,
      Path location,
      PluginClassLoader loader,
      List<SourceFactory> sources,
      List<SinkFactory> sinks,
      List<CheckpointStorageFactory> checkpoints) {
    this.name = name;
    this.version = version;
    this.location = location;
    this.loader = loader;
    this.sources = List.copyOf(sources);
    this.sinks = List.copyOf(sinks);
    this.checkpoints = List.copyOf(checkpoints);
  }

  /** The directory or jar file name, for example {@code tributary-connector-kafka}. */
  public String name() {
    return name;
  }

  /**
   * The version: {@code Implementation-Version} of the manifest of the jar holding its first
   * factory, else the version in that jar's file name, else {@code unknown}.
   */
  public String version() {
    return version;
  }

  /** The plugin's directory or jar file. */
  public Path location() {
    return location;
  }

  /** The plugin's class loader. */
  public ClassLoader classLoader() {
    return loader;
  }

  /** Its source factories (wrapped: calls run with the plugin's context class loader). */
  public List<SourceFactory> sourceFactories() {
    return sources;
  }

  /** Its sink factories (wrapped). */
  public List<SinkFactory> sinkFactories() {
    return sinks;
  }

  /** Its checkpoint storage factories (wrapped). */
  public List<CheckpointStorageFactory> checkpointStorageFactories() {
    return checkpoints;
  }

  /** The source types it provides, sorted. */
  public Set<String> sourceTypes() {
    Set<String> s = new TreeSet<>();
    sources.forEach(f -> s.add(f.type()));
    return s;
  }

  /** The sink types it provides, sorted. */
  public Set<String> sinkTypes() {
    Set<String> s = new TreeSet<>();
    sinks.forEach(f -> s.add(f.type()));
    return s;
  }

  /** The checkpoint URI schemes it provides, sorted. */
  public Set<String> checkpointSchemes() {
    Set<String> s = new TreeSet<>();
    checkpoints.forEach(f -> s.addAll(f.schemes()));
    return s;
  }

  @Override
  public String toString() {
    return "plugin " + name + " (" + location + ")";
  }
}
