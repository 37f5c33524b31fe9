package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's receiver project built the way custom-receiver-sdk/README.md says ("Ship it"), then
 * installed and run the way it says: the README's Maven fragment (dependencies through {@code
 * tributary-bom}, core and SLF4J {@code provided}, the SDK inside the plugin, the assembly
 * execution) and its assembly descriptor are taken verbatim from the README, wrapped in a minimal
 * user {@code pom.xml}; {@code mvn package} runs as a separate process; the plugin archive is
 * unzipped into a plugins directory, {@code tributary plugins} lists it, and the packaged gateway
 * runs a pipeline with its source type into the files sink.
 *
 * <p>Tributary's own artifacts reach the user build from a {@code file:} repository the test lays
 * out from this build's poms and jars (never the developer's {@code ~/.m2}, which must not collect
 * project SNAPSHOTs); everything else resolves from this build's local repository, then Maven
 * Central. The user build has a local repository of its own.
 */
class SdkUserPluginIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path tmp;

  @Test
  void aReceiverBuiltWithTheReadmesMavenSetupIsListedAndRunsAsAPlugin() throws Exception {
    String version = System.getProperty("tributary.version");
    assertThat(version).as("system property tributary.version (set by it/pom.xml)").isNotBlank();
    Path repo = tributaryRepository(version);
    Path project = userProject(version);
    Path settings = settings(repo);

    Path buildLog = tmp.resolve("user-build.log");
    Process mvn =
        new ProcessBuilder(
                "mvn",
                "-B",
                "-s",
                settings.toString(),
                "-Dmaven.repo.local=" + tmp.resolve("user-m2"),
                "package")
            .directory(project.toFile())
            .redirectErrorStream(true)
            .redirectOutput(buildLog.toFile())
            .start();
    assertThat(mvn.waitFor(10, TimeUnit.MINUTES)).as("the user build ends").isTrue();
    assertThat(mvn.exitValue())
        .as("mvn package of the README's setup; its output:\n%s", tail(buildLog))
        .isZero();
    Path zip = project.resolve("target/spool-receiver-1.0-plugin.zip");
    assertThat(zip).as("the archive the README names").isRegularFile();

    Path plugins = Files.createDirectories(tmp.resolve("plugins"));
    List<String> entries = unzip(zip, plugins);
    assertThat(entries)
        .as("one directory spool-receiver/ with the user's jar and the SDK, without core")
        .allMatch(e -> e.startsWith("spool-receiver/"))
        .anyMatch(e -> e.equals("spool-receiver/spool-receiver-1.0.jar"))
        .anyMatch(e -> e.matches("spool-receiver/tributary-custom-receiver-sdk-.*\\.jar"))
        .noneMatch(e -> e.contains("tributary-core"))
        .noneMatch(e -> e.contains("slf4j-api"));

    String pluginPath = GatewayProcess.jar().getParent().resolve("plugins") + "," + plugins;
    Process list =
        new ProcessBuilder(
                javaBin(),
                "-jar",
                GatewayProcess.jar().toString(),
                "plugins",
                "--plugins",
                pluginPath)
            .redirectErrorStream(true)
            .start();
    String listed = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(list.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(list.exitValue()).as("tributary plugins:\n%s", listed).isZero();
    assertThat(listed)
        .as("tributary plugins lists the user's plugin and its type")
        .contains("spool-receiver")
        .contains("spool-directory");

    Path spool = Files.createDirectories(tmp.resolve("spool"));
    Path out = tmp.resolve("out");
    Path config = tmp.resolve("gateway.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "plugins:",
            "  path: ["
                + GatewayProcess.jar().getParent().resolve("plugins")
                + ", "
                + plugins
                + "]",
            "pipelines:",
            "  - id: user-spool",
            "    settings:",
            "      batch-interval: 200ms",
            "      wal.enabled: true",
            "    checkpoint: " + tmp.resolve("checkpoint"),
            "    source:",
            "      type: spool-directory",
            "      directory: " + spool,
            "      max-chunk-lines: 500",
            "    sinks:",
            "      - { type: files, path: " + out + " }",
            ""));
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      lines.add("user-line-" + i);
    }
    try (GatewayProcess gateway = new GatewayProcess(config, tmp.resolve("gateway.log"))) {
      gateway.start();
      Path staged = tmp.resolve("staged.log");
      Files.write(staged, lines);
      Files.move(staged, spool.resolve("app.log"), StandardCopyOption.ATOMIC_MOVE);
      await("the user's source's lines in the files sink")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .failFast("gateway exited", () -> gateway.exitCode() != null)
          .until(() -> GatewayProcess.outputLines(out).size() >= lines.size());
      assertThat(gateway.terminate(Duration.ofSeconds(60)))
          .as("exit code after SIGTERM; log:\n%s", gateway.logTail())
          .isZero();
    }
    assertThat(GatewayProcess.outputLines(out)).containsExactlyElementsOf(lines);
  }

  /**
   * A {@code file:} Maven repository with this build's parent, BOM, core and SDK at {@code
   * version}, laid out as Maven expects (no metadata: a SNAPSHOT then resolves to its plain file
   * name).
   */
  private Path tributaryRepository(String version) throws IOException {
    Path repo = tmp.resolve("tributary-repo");
    put(repo, "tributary-parent", version, ROOT.resolve("pom.xml"), null);
    put(repo, "tributary-bom", version, ROOT.resolve("bom/pom.xml"), null);
    put(
        repo,
        "tributary-core",
        version,
        ROOT.resolve("core/pom.xml"),
        ROOT.resolve("core/target/tributary-core-" + version + ".jar"));
    put(
        repo,
        "tributary-custom-receiver-sdk",
        version,
        ROOT.resolve("custom-receiver-sdk/pom.xml"),
        ROOT.resolve(
            "custom-receiver-sdk/target/tributary-custom-receiver-sdk-" + version + ".jar"));
    return repo;
  }

  private static void put(Path repo, String artifact, String version, Path pom, Path jar)
      throws IOException {
    Path dir = Files.createDirectories(repo.resolve("io/tributary/" + artifact + "/" + version));
    Files.copy(pom, dir.resolve(artifact + "-" + version + ".pom"));
    if (jar != null) {
      assertThat(jar).as("built by this reactor before it/").isRegularFile();
      Files.copy(jar, dir.resolve(artifact + "-" + version + ".jar"));
    }
  }

  /**
   * The user's project: the README's Maven fragment and assembly descriptor verbatim, a factory of
   * the user's own that offers the SDK's example receiver, and its services entry.
   */
  private Path userProject(String version) throws IOException {
    String readme =
        Files.readString(ROOT.resolve("custom-receiver-sdk/README.md"), StandardCharsets.UTF_8);
    int section = readme.indexOf("### Build a plugin archive");
    assertThat(section).as("the README's 'Build a plugin archive' section").isPositive();
    List<String> xml = new ArrayList<>();
    Matcher m = Pattern.compile("```xml\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    int from = section;
    while (xml.size() < 2 && m.find(from)) {
      xml.add(m.group(1));
      from = m.end();
    }
    assertThat(xml).as("the README's pom fragment and assembly descriptor").hasSize(2);
    Path project = Files.createDirectories(tmp.resolve("spool-receiver"));
    Files.writeString(
        project.resolve("pom.xml"),
        String.join(
            "\n",
            "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">",
            "<modelVersion>4.0.0</modelVersion>",
            "<groupId>com.example</groupId>",
            "<artifactId>spool-receiver</artifactId>",
            "<version>1.0</version>",
            "<properties>",
            "  <tributary.version>" + version + "</tributary.version>",
            "  <maven.compiler.source>17</maven.compiler.source>",
            "  <maven.compiler.target>17</maven.compiler.target>",
            "  <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>",
            "</properties>",
            xml.get(0),
            "</project>",
            ""));
    Path assembly = Files.createDirectories(project.resolve("src/assembly"));
    Files.writeString(assembly.resolve("tributary-plugin.xml"), xml.get(1));
    Path pkg = Files.createDirectories(project.resolve("src/main/java/com/example/spool"));
    Files.writeString(
        pkg.resolve("UserSpoolSourceFactory.java"),
        String.join(
            "\n",
            "package com.example.spool;",
            "",
            "import io.tributary.core.api.Config;",
            "import io.tributary.core.api.ConfigSpec;",
            "import io.tributary.core.api.Source;",
            "import io.tributary.core.api.SourceFactory;",
            "import io.tributary.sdk.example.SpoolDirectorySourceFactory;",
            "",
            "/** The user's factory: the SDK's example spool-directory receiver. */",
            "public final class UserSpoolSourceFactory implements SourceFactory {",
            "  private final SourceFactory sdk = new SpoolDirectorySourceFactory();",
            "  @Override public String type() { return sdk.type(); }",
            "  @Override public String description() { return \"user build: \" + sdk.description(); }",
            "  @Override public ConfigSpec options() { return sdk.options(); }",
            "  @Override public Source create(String name, Config config) {",
            "    return sdk.create(name, config);",
            "  }",
            "}",
            ""));
    Path services =
        Files.createDirectories(project.resolve("src/main/resources/META-INF/services"));
    Files.writeString(
        services.resolve("io.tributary.core.api.SourceFactory"),
        "com.example.spool.UserSpoolSourceFactory\n");
    return project;
  }

  /**
   * Settings whose profile adds the Tributary repository (SNAPSHOTs) and this build's local
   * repository (as a read-only {@code file:} repository, so what the reactor already downloaded is
   * not fetched again); Maven Central stays behind them.
   */
  private Path settings(Path tributaryRepo) throws IOException {
    String m2 = System.getProperty("tributary.m2", "");
    assertThat(m2).as("system property tributary.m2 (set by it/pom.xml)").isNotBlank();
    String local = Path.of(m2).toUri().toString();
    Path settings = tmp.resolve("settings.xml");
    Files.writeString(
        settings,
        String.join(
            "\n",
            "<settings>",
            "  <profiles><profile><id>user-build</id>",
            "    <repositories>",
            "      <repository><id>tributary-build</id><url>" + tributaryRepo.toUri() + "</url>",
            "        <releases><enabled>false</enabled></releases>",
            "        <snapshots><enabled>true</enabled><updatePolicy>always</updatePolicy></snapshots>",
            "      </repository>",
            "      <repository><id>reactor-cache</id><url>" + local + "</url>",
            "        <snapshots><enabled>false</enabled></snapshots></repository>",
            "    </repositories>",
            "    <pluginRepositories>",
            "      <pluginRepository><id>reactor-cache</id><url>" + local + "</url>",
            "        <snapshots><enabled>false</enabled></snapshots></pluginRepository>",
            "    </pluginRepositories>",
            "  </profile></profiles>",
            "  <activeProfiles><activeProfile>user-build</activeProfile></activeProfiles>",
            "</settings>",
            ""));
    return settings;
  }

  private static List<String> unzip(Path zip, Path into) throws IOException {
    List<String> names = new ArrayList<>();
    try (InputStream in = Files.newInputStream(zip);
        ZipInputStream z = new ZipInputStream(in)) {
      for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
        Path target = into.resolve(e.getName()).normalize();
        assertThat(target.startsWith(into)).as("entry %s stays inside", e.getName()).isTrue();
        if (e.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        names.add(e.getName());
        Files.createDirectories(target.getParent());
        Files.copy(z, target);
      }
    }
    return names;
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static String tail(Path log) throws IOException {
    String s = Files.readString(log, StandardCharsets.UTF_8);
    return s.length() <= 6000 ? s : s.substring(s.length() - 6000);
  }
}
