package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.spark.example.KafkaToJsonJob;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Runs the README's {@code spark-submit} lines, word for word, on a stock Spark 4: {@code
 * org.apache.spark.deploy.SparkSubmit} in a child JVM whose class path is a Spark 4.0.1
 * distribution's jars as Spark's own published poms resolve them (there is no Spark distribution
 * tarball on Maven Central, and {@code spark-submit} the script only builds that class path and
 * execs this class). The job (the README's {@code KafkaToJsonJob}) reads a topic of the run's Kafka
 * broker through {@code format("tributary")}; each record must be in its JSON output once.
 *
 * <ul>
 *   <li>Spark's jars: {@code src/test/spark-dist/pom.xml}, a pom without parent that imports {@code
 *       spark-parent_2.13}'s dependency management and depends on {@code spark-sql_2.13} and {@code
 *       spark-streaming_2.13}, resolved by a nested {@code mvn dependency:build-classpath} (this
 *       build's Maven, offline mode, settings and local repository). Not this module's {@code
 *       provided} class path: there the root pom's pins (Netty, Hadoop) override Spark's versions.
 *       The test checks the versions against {@code spark-parent}'s pom (for 4.0.1: Netty
 *       4.1.118.Final, Hadoop's {@code hadoop-client-api}/{@code -runtime} 3.4.1).
 *   <li>{@code --jars}: this module's shaded jar ({@code -all}), connector-kafka's jar and
 *       kafka-clients, in the child's working directory, named as the README names them.
 *   <li>{@code --packages ... --repositories file://...}: a Maven repository layout of this build's
 *       jars and poms (tributary-parent, -core, -connector-spark, -connector-kafka); Spark's Ivy
 *       resolves their dependencies. The child's {@code user.home} is its own: Ivy's cache is
 *       fresh, and its {@code ~/.m2} (Spark's first resolver) holds the developer's Maven
 *       repository without {@code io/tributary}, so no stale SNAPSHOT of this project is taken.
 * </ul>
 */
@ExtendWith(KafkaBrokerExtension.class)
class SparkSubmitIT {
  private static final String VERSION = System.getProperty("tributary.spark.version");
  private static final int RECORDS = 200;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SPARK = System.getProperty("tributary.spark.dist.version");
  private static Path submitDir;
  private static String sparkClasspath;
  private static Path work;
  private static Path repo;
  private final KafkaBroker kafka;

  SparkSubmitIT(KafkaBroker kafka) {
    this.kafka = kafka;
  }

  @BeforeAll
  static void layOutJarsAndRepository() throws Exception {
    submitDir = Path.of(System.getProperty("tributary.spark.submit.dir")).toAbsolutePath();
    Path target = submitDir.getParent();
    Path basedir = target.getParent();
    work = submitDir.resolve("work");
    repo = submitDir.resolve("repo");
    Path sparkJars = submitDir.resolve("stock-spark-classpath.txt");
    Path resolveLog = submitDir.resolve("stock-spark-resolve.log");
    long resolveStart = System.nanoTime();
    Process resolve = resolveStockSpark(sparkJars, resolveLog); // runs while the jars are laid out
    // --jars: the shaded jar next to the connector-kafka and kafka-clients jars (copied by the pom)
    String all = "tributary-connector-spark-" + VERSION + "-all.jar";
    Files.copy(target.resolve(all), work.resolve(all), StandardCopyOption.REPLACE_EXISTING);
    jobJar(work.resolve("kafka-to-json-job.jar"));
    // --packages: this module's jar and pom, and the parent pom, next to core and connector-kafka
    Path spark = repo.resolve("io/tributary/tributary-connector-spark/" + VERSION);
    Files.createDirectories(spark);
    Files.copy(
        target.resolve("tributary-connector-spark-" + VERSION + ".jar"),
        spark.resolve("tributary-connector-spark-" + VERSION + ".jar"),
        StandardCopyOption.REPLACE_EXISTING);
    Files.copy(
        basedir.resolve("pom.xml"),
        spark.resolve("tributary-connector-spark-" + VERSION + ".pom"),
        StandardCopyOption.REPLACE_EXISTING);
    Path parent = repo.resolve("io/tributary/tributary-parent/" + VERSION);
    Files.createDirectories(parent);
    Files.copy(
        basedir.getParent().resolve("pom.xml"),
        parent.resolve("tributary-parent-" + VERSION + ".pom"),
        StandardCopyOption.REPLACE_EXISTING);
    boolean ended = resolve.waitFor(5, TimeUnit.MINUTES);
    if (!ended) {
      resolve.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    assertThat(ended && resolve.exitValue() == 0)
        .as(
            "mvn dependency:build-classpath of src/test/spark-dist/pom.xml; log %s:\n%s",
            resolveLog, tail(resolveLog))
        .isTrue();
    System.out.printf(
        "SparkSubmitIT: Spark %s's jars resolved by the nested Maven in %d ms%n",
        SPARK, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resolveStart));
    sparkClasspath = Files.readString(sparkJars).trim();
    assertSparkOwnVersions(sparkClasspath);
  }

  /**
   * Starts the nested Maven that writes the stock Spark's class path to {@code out}: {@code
   * src/test/spark-dist/pom.xml} with this build's Maven, offline mode, settings files, local
   * repository, Spark version and maven-dependency-plugin version.
   */
  private static Process resolveStockSpark(Path out, Path log) throws IOException {
    boolean windows = System.getProperty("os.name", "").startsWith("Windows");
    String mvn = windows ? "mvn.cmd" : "mvn";
    String home = System.getProperty("tributary.maven.home", "");
    List<String> cmd = new ArrayList<>();
    cmd.add(home.isBlank() ? mvn : Path.of(home, "bin", mvn).toString());
    cmd.addAll(List.of("-B", "-q", "-f", System.getProperty("tributary.spark.dist.pom")));
    if (Boolean.parseBoolean(System.getProperty("tributary.maven.offline"))) {
      cmd.add("-o");
    }
    String settings = System.getProperty("tributary.maven.settings", "");
    if (!settings.isBlank() && Files.isRegularFile(Path.of(settings))) {
      cmd.addAll(List.of("-s", settings));
    }
    String global = System.getProperty("tributary.maven.global.settings", "");
    if (!global.isBlank() && Files.isRegularFile(Path.of(global))) {
      cmd.addAll(List.of("-gs", global));
    }
    cmd.add("-Dmaven.repo.local=" + localRepository());
    cmd.add("-Dspark.version=" + SPARK);
    cmd.add(
        "-Ddependency.plugin.version="
            + System.getProperty("tributary.maven.dependency.plugin.version"));
    cmd.add("-Dmdep.outputFile=" + out);
    cmd.add("dependency:build-classpath");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    // a short-lived Maven: C1 only and the serial GC halve its time on a busy 2-core machine
    String opts = pb.environment().getOrDefault("MAVEN_OPTS", "");
    pb.environment().put("MAVEN_OPTS", opts + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
    return pb.start();
  }

  private static Path localRepository() {
    String repo = System.getProperty("tributary.maven.repo.local", "");
    return repo.isBlank()
        ? Path.of(System.getProperty("user.home"), ".m2", "repository")
        : Path.of(repo).toAbsolutePath();
  }

  /**
   * The child's class path holds Spark's versions, read from {@code spark-parent_2.13}'s published
   * pom, not the root pom's pins (which differ for Netty and Hadoop): each {@code io.netty} jar at
   * its {@code netty.version} (tcnative at {@code netty-tcnative.version}), {@code
   * hadoop-client-api} and {@code -runtime} at its {@code hadoop.version}, Jackson, SLF4J and Scala
   * at its versions, every Spark module at the Spark version, and nothing of this project.
   */
  private static void assertSparkOwnVersions(String classpath) throws Exception {
    Path local = localRepository();
    Map<String, String> versions = new TreeMap<>(); // groupId:artifactId[:classifier] -> version
    for (String entry : classpath.split(File.pathSeparator)) {
      Path jar = Path.of(entry).toAbsolutePath();
      assertThat(jar).as("class path entry").startsWith(local).isRegularFile();
      Path rel = local.relativize(jar);
      int n = rel.getNameCount();
      String version = rel.getName(n - 2).toString();
      String artifact = rel.getName(n - 3).toString();
      String group = rel.subpath(0, n - 3).toString().replace(File.separatorChar, '.');
      String file = rel.getFileName().toString();
      assertThat(file)
          .as("%s in the local repository's layout", jar)
          .startsWith(artifact + "-" + version)
          .endsWith(".jar");
      String classifier =
          file.substring((artifact + "-" + version).length(), file.length() - ".jar".length());
      versions.put(
          group + ":" + artifact + (classifier.isEmpty() ? "" : ":" + classifier.substring(1)),
          version);
    }
    Path pom =
        local.resolve(
            "org/apache/spark/spark-parent_2.13/" + SPARK + "/spark-parent_2.13-" + SPARK + ".pom");
    Element project =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(pom.toFile())
            .getDocumentElement();
    Element props = null; // the project's own <properties>, not a profile's
    for (Node n = project.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals("properties")) {
        props = e;
      }
    }
    assertThat(props).as("<properties> of %s", pom).isNotNull();
    Element properties = props;
    Function<String, String> prop =
        name -> {
          NodeList l = properties.getElementsByTagName(name);
          assertThat(l.getLength()).as("%s in %s", name, pom).isEqualTo(1);
          return l.item(0).getTextContent().trim();
        };
    String netty = prop.apply("netty.version");
    String tcnative = prop.apply("netty-tcnative.version");
    String hadoop = prop.apply("hadoop.version");
    Map<String, String> nettyJars = new TreeMap<>();
    versions.forEach(
        (ga, v) -> {
          if (ga.startsWith("io.netty:")) {
            nettyJars.put(ga, v);
          }
        });
    assertThat(nettyJars).as("Netty jars on the class path").containsKey("io.netty:netty-handler");
    nettyJars.forEach(
        (ga, v) ->
            assertThat(v)
                .as("%s: Spark %s ships it at its netty(-tcnative).version", ga, SPARK)
                .isEqualTo(ga.startsWith("io.netty:netty-tcnative") ? tcnative : netty));
    assertThat(versions)
        .containsEntry("org.apache.hadoop:hadoop-client-api", hadoop)
        .containsEntry("org.apache.hadoop:hadoop-client-runtime", hadoop)
        .containsEntry(
            "com.fasterxml.jackson.core:jackson-databind",
            prop.apply("fasterxml.jackson.databind.version"))
        .containsEntry("org.slf4j:slf4j-api", prop.apply("slf4j.version"))
        .containsEntry("org.scala-lang:scala-library", prop.apply("scala.version"))
        .containsEntry("org.apache.spark:spark-core_2.13", SPARK)
        .containsEntry("org.apache.spark:spark-sql_2.13", SPARK)
        .containsEntry("org.apache.spark:spark-streaming_2.13", SPARK);
    versions.forEach(
        (ga, v) -> {
          assertThat(ga).as("this project on Spark's class path").doesNotStartWith("io.tributary");
          if (ga.startsWith("org.apache.spark:")) {
            assertThat(v).as(ga).isEqualTo(SPARK);
          }
        });
  }

  /** The example job's class alone in a jar, as a user's application jar. */
  private static void jobJar(Path jar) throws IOException {
    String entry = KafkaToJsonJob.class.getName().replace('.', '/') + ".class";
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream j = new JarOutputStream(out);
        InputStream in = KafkaToJsonJob.class.getClassLoader().getResourceAsStream(entry)) {
      assertThat(in).as(entry).isNotNull();
      j.putNextEntry(new JarEntry(entry));
      in.transferTo(j);
      j.closeEntry();
    }
  }

  /** The shell words of the README's code block after {@code marker}. */
  private static List<String> readmeCommand(String marker) throws IOException {
    String readme =
        Files.readString(
            Path.of(System.getProperty("basedir", ".")).resolve("README.md"),
            StandardCharsets.UTF_8);
    int at = readme.indexOf(marker);
    assertThat(at).as("README.md must contain " + marker).isGreaterThanOrEqualTo(0);
    int start = readme.indexOf("```sh\n", at) + "```sh\n".length();
    int end = readme.indexOf("```", start);
    String block = readme.substring(start, end).replace("\\\n", " ");
    List<String> words = new ArrayList<>();
    for (String w : block.trim().split("\\s+")) {
      words.add(w.startsWith("'") && w.endsWith("'") ? w.substring(1, w.length() - 1) : w);
    }
    return words;
  }

  private void produce(String topic) throws Exception {
    kafka.createTopic(topic, 2);
    try (KafkaProducer<byte[], byte[]> p =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", kafka.bootstrapServers(), "acks", "all"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < RECORDS; i++) {
        p.send(new ProducerRecord<>(topic, i % 2, null, ("v" + i).getBytes(StandardCharsets.UTF_8)))
            .get(30, TimeUnit.SECONDS);
      }
    }
  }

  /** A user.home whose ~/.m2/repository is the developer's, without this project's artifacts. */
  private static Path home(String name) throws IOException {
    Path home = Files.createTempDirectory(submitDir, "home-" + name + "-");
    Path m2 = home.resolve(".m2/repository");
    Files.createDirectories(m2.resolve("io"));
    Path real = Path.of(System.getProperty("user.home"), ".m2", "repository");
    if (Files.isDirectory(real)) {
      try (Stream<Path> top = Files.list(real)) {
        for (Path p : top.toList()) {
          if (!p.getFileName().toString().equals("io")) {
            Files.createSymbolicLink(m2.resolve(p.getFileName().toString()), p);
          }
        }
      }
      if (Files.isDirectory(real.resolve("io"))) {
        try (Stream<Path> io = Files.list(real.resolve("io"))) {
          for (Path p : io.toList()) {
            if (!p.getFileName().toString().equals("tributary")) {
              Files.createSymbolicLink(m2.resolve("io").resolve(p.getFileName().toString()), p);
            }
          }
        }
      }
    }
    return home;
  }

  private void runReadmeLine(String marker, String name) throws Exception {
    String topic = "spark-submit-" + name;
    produce(topic);
    Path out = Files.createTempDirectory(submitDir, "out-" + name + "-").resolve("json");
    List<String> cmd = new ArrayList<>();
    for (String w : readmeCommand(marker)) {
      switch (w) {
        case "spark-submit" -> {
          cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
          cmd.addAll(List.of(System.getProperty("tributary.spark.child.jvm.args").split("\\s+")));
          cmd.add("-Duser.home=" + home(name));
          cmd.add("-cp");
          cmd.add(sparkClasspath);
          cmd.add("org.apache.spark.deploy.SparkSubmit");
        }
        case "localhost:9092" -> cmd.add(kafka.bootstrapServers());
        case "clicks" -> cmd.add(topic);
        case "/tmp/clicks-json" -> cmd.add(out.toString());
        case "file:///opt/tributary/repo" -> cmd.add(repo.toUri().toString());
        default -> cmd.add(w);
      }
    }
    Path log = submitDir.resolve("spark-submit-" + name + ".log");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(work.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().remove("SPARK_HOME");
    Process p = pb.start();
    boolean ended = p.waitFor(4, TimeUnit.MINUTES);
    if (!ended) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    assertThat(ended && p.exitValue() == 0)
        .as("spark-submit (%s) ended with 0; log %s:\n%s", name, log, tail(log))
        .isTrue();
    // the JSON lines the job's file sink wrote, read without Spark (no second Spark in this JVM)
    Map<String, Integer> seen = new TreeMap<>();
    try (Stream<Path> files = Files.list(out)) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith("part-")).toList()) {
        for (String line : Files.readAllLines(f)) {
          JsonNode row = JSON.readTree(line);
          assertThat(row.path("partition").asText()).startsWith(topic + "-");
          seen.merge(row.path("value").asText(), 1, Integer::sum);
        }
      }
    }
    assertThat(seen).as("values written by the job").hasSize(RECORDS);
    assertThat(seen.values()).containsOnly(1);
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }

  @Test
  void theReadmeJarsLineRunsOnStockSpark() throws Exception {
    runReadmeLine("<!-- spark-submit:jars", "jars");
  }

  @Test
  void theReadmePackagesLineRunsOnStockSpark() throws Exception {
    runReadmeLine("<!-- spark-submit:packages", "packages");
  }
}
