package io.tributary.gateway.plugins;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.ToolProvider;

/**
 * Builds a plugin during a test: compiles Java sources with {@code javax.tools} against the test's
 * class path (for {@code io.tributary.core.api}) and the given library jars, and writes the plugin
 * directory: {@code <name>/<name>-<version>.jar} (classes and {@code META-INF/services}) plus the
 * library jars that should travel with it.
 */
final class TestPluginBuilder {
  private final String name;
  private final String version;
  private final Map<String, String> sources = new LinkedHashMap<>();
  private final Map<String, List<String>> services = new LinkedHashMap<>();
  private final List<Path> compileAgainst = new ArrayList<>();
  private final List<Path> bundled = new ArrayList<>();
  private final Map<String, String> resources = new LinkedHashMap<>();

  TestPluginBuilder(String name, String version) {
    this.name = name;
    this.version = version;
  }

  /** A source file, by its fully qualified class name. */
  TestPluginBuilder source(String className, String code) {
    sources.put(className, code);
    return this;
  }

  /** A {@code META-INF/services} entry. */
  TestPluginBuilder service(Class<?> service, String implementation) {
    services.computeIfAbsent(service.getName(), k -> new ArrayList<>()).add(implementation);
    return this;
  }

  /** A resource file in the plugin's jar, e.g. {@link Connectors#DECLARATION}. */
  TestPluginBuilder resource(String path, String content) {
    resources.put(path, content);
    return this;
  }

  /** A library compiled against and shipped inside the plugin. */
  TestPluginBuilder library(Path jar) {
    compileAgainst.add(jar);
    bundled.add(jar);
    return this;
  }

  /** A library compiled against but left out of the plugin (a missing dependency). */
  TestPluginBuilder compileOnly(Path jar) {
    compileAgainst.add(jar);
    return this;
  }

  /** Writes the plugin as directory {@code root/<name>} and returns it. */
  Path buildInto(Path root) throws IOException {
    Path work = Files.createTempDirectory(root.getParent(), "build-" + name);
    Path src = work.resolve("src");
    Path classes = work.resolve("classes");
    Files.createDirectories(classes);
    List<File> files = new ArrayList<>();
    for (Map.Entry<String, String> e : sources.entrySet()) {
      Path f = src.resolve(e.getKey().replace('.', '/') + ".java");
      Files.createDirectories(f.getParent());
      Files.writeString(f, e.getValue(), StandardCharsets.UTF_8);
      files.add(f.toFile());
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    // The libraries first: the test class path may hold another version of them (Selenium's Guava).
    List<String> cp = new ArrayList<>();
    compileAgainst.forEach(p -> cp.add(p.toString()));
    cp.add(System.getProperty("java.class.path"));
    try (var fm = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
      boolean ok =
          javac
              .getTask(
                  null,
                  fm,
                  diagnostics,
                  List.of(
                      "--release",
                      "17",
                      "-classpath",
                      String.join(File.pathSeparator, cp),
                      "-d",
                      classes.toString()),
                  null,
                  fm.getJavaFileObjectsFromFiles(files))
              .call();
      if (!ok) {
        throw new IllegalStateException(
            "plugin " + name + " does not compile: " + diagnostics.getDiagnostics());
      }
    }
    Path dir = root.resolve(name);
    Files.createDirectories(dir);
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    mf.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_VERSION, version);
    try (OutputStream out = Files.newOutputStream(dir.resolve(name + "-" + version + ".jar"));
        JarOutputStream jar = new JarOutputStream(out, mf);
        Stream<Path> walk = Files.walk(classes)) {
      for (Path c : walk.filter(Files::isRegularFile).sorted().toList()) {
        jar.putNextEntry(new JarEntry(classes.relativize(c).toString().replace('\\', '/')));
        jar.write(Files.readAllBytes(c));
        jar.closeEntry();
      }
      for (Map.Entry<String, List<String>> s : services.entrySet()) {
        jar.putNextEntry(new JarEntry("META-INF/services/" + s.getKey()));
        jar.write((String.join("\n", s.getValue()) + "\n").getBytes(StandardCharsets.UTF_8));
        jar.closeEntry();
      }
      for (Map.Entry<String, String> r : resources.entrySet()) {
        jar.putNextEntry(new JarEntry(r.getKey()));
        jar.write(r.getValue().getBytes(StandardCharsets.UTF_8));
        jar.closeEntry();
      }
    }
    for (Path lib : bundled) {
      Files.copy(lib, dir.resolve(lib.getFileName()));
    }
    return dir;
  }
}
