package io.tributary.connector.flume;

import java.io.File;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A real Flume 1.11 agent ({@code org.apache.flume.node.Application}) with a generated properties
 * file, and optionally Flume's HTTP monitoring ({@link #monitoring}). {@link #kill()} is a SIGKILL;
 * {@link #start()} again reuses the same directory, so a file channel survives.
 *
 * <p>Where it runs ({@link FlumeAgentSelection}, once per JVM): in a container of the local Flume
 * image (Flume's Maven Central jars, {@code scripts/container-images.sh}) when a container engine
 * answers, else in a child JVM on this test class path (flume-ng-node is a test dependency; the
 * gateway never sees it). The container uses the host's network and has the agent directory's
 * parent (the test's temporary directory) and every other directory the properties name ({@code
 * *Dir}, {@code *Dirs}, {@code *directory} keys) mounted at the same paths, and the {@code
 * tributary-flume-sink} classes of this build on its class path: addresses, files and plugins are
 * the same as for the child JVM, so the test code is the same. Each test class's first start logs
 * {@code event=flume_agent_for_test_class class=... kind=...}.
 *
 * <p>Thread safety: not thread-safe; one test thread drives it.
 */
public final class FlumeAgent implements AutoCloseable {
  private final Path dir;
  private final String name;
  private final Map<String, String> properties = new TreeMap<>();
  private Process process;
  private GenericContainer<?> container;
  private int starts;
  private static final Set<String> LOGGED_CLASSES = ConcurrentHashMap.newKeySet();

  private int monitoringPort = -1;

  public FlumeAgent(Path dir, String name) {
    this.dir = dir;
    this.name = name;
  }

  /** Sets {@code <agent>.<key> = value}. */
  public FlumeAgent set(String key, Object value) {
    properties.put(name + "." + key, String.valueOf(value));
    return this;
  }

  /** A durable file channel named {@code channel} under this agent's directory. */
  public FlumeAgent fileChannel(String channel) {
    set("channels." + channel + ".type", "file");
    set("channels." + channel + ".checkpointDir", dir.resolve(channel + "-checkpoint"));
    set("channels." + channel + ".dataDirs", dir.resolve(channel + "-data"));
    set("channels." + channel + ".capacity", 1_000_000);
    set("channels." + channel + ".transactionCapacity", 10_000);
    return this;
  }

  public Path dir() {
    return dir;
  }

  /** Starts the agent JVM; returns at once (the agent starts in about a second). */
  /** Serves Flume's JSON counters on {@code http://127.0.0.1:port/metrics}. */
  public FlumeAgent monitoring(int port) {
    this.monitoringPort = port;
    return this;
  }

  /** Removes {@code <agent>.<key>} and every key below it. */
  public FlumeAgent unset(String keyPrefix) {
    properties.keySet().removeIf(k -> k.startsWith(name + "." + keyPrefix));
    return this;
  }

  /**
   * A counter of Flume's monitoring JSON, for example {@code counter("SOURCE.r1",
   * "EventAcceptedCount")}; -1 when unavailable.
   */
  public long counter(String component, String name) {
    try {
      java.net.http.HttpResponse<String> r =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + monitoringPort + "/metrics"))
                      .timeout(java.time.Duration.ofSeconds(5))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(
                  "\""
                      + java.util.regex.Pattern.quote(component)
                      + "\":\\{[^}]*\""
                      + name
                      + "\":\"(\\d+)\"")
              .matcher(r.body());
      return m.find() ? Long.parseLong(m.group(1)) : -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** Starts the agent JVM; returns at once (the agent starts in about a second). */
  public FlumeAgent start() throws IOException {
    Files.createDirectories(dir);
    Path conf = dir.resolve("agent.properties");
    try (Writer w = Files.newBufferedWriter(conf, StandardCharsets.UTF_8)) {
      for (Map.Entry<String, String> e : properties.entrySet()) {
        w.write(e.getKey() + " = " + e.getValue() + "\n");
      }
    }
    File log = dir.resolve("agent-" + (starts++) + ".log").toFile();
    String image = FlumeAgentSelection.image();
    logForTestClass(image);
    if (image != null) {
      startContainer(image, conf, log.toPath());
      return this;
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
    if (monitoringPort > 0) {
      cmd.add("-Dflume.monitoring.type=http");
      cmd.add("-Dflume.monitoring.port=" + monitoringPort);
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("org.apache.flume.node.Application");
    cmd.add("-n");
    cmd.add(name);
    cmd.add("-f");
    cmd.add(conf.toString());
    cmd.add("--no-reload-conf");
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.to(log))
            .start();
    return this;
  }

  /**
   * Waits until the agent accepts connections on {@code port} (an avro source or a
   * tributary-flume-sink has bound).
   */
  public void awaitPort(int port) {
    org.awaitility.Awaitility.await("agent " + name + " listening on " + port)
        .atMost(java.time.Duration.ofSeconds(60))
        .pollInterval(java.time.Duration.ofMillis(100))
        .until(
            () -> {
              if (!isAlive()) {
                throw new IllegalStateException("agent " + name + " exited:\n" + log());
              }
              try (java.net.Socket s =
                  new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
                return true;
              } catch (IOException e) {
                return false;
              }
            });
  }

  /** Logs where this agent runs, once per calling test class. */
  private void logForTestClass(String image) {
    Class<?> caller =
        StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
            .walk(
                frames ->
                    frames
                        .map(StackWalker.StackFrame::getDeclaringClass)
                        .filter(c -> c != FlumeAgent.class)
                        .findFirst()
                        .orElse(FlumeAgent.class));
    if (LOGGED_CLASSES.add(caller.getName())) {
      LoggerFactory.getLogger(FlumeAgent.class)
          .info(
              "event=flume_agent_for_test_class class={} kind={}",
              caller.getName(),
              image == null ? "local" : "container image=" + image);
    }
  }

  /**
   * Starts the agent in a container (see the class comment); returns once the container runs, like
   * the child JVM, before the agent has bound its ports.
   */
  private void startContainer(String image, Path conf, Path log) throws IOException {
    Set<Path> mounts = new TreeSet<>();
    mounts.add(dir.toAbsolutePath().getParent());
    for (Map.Entry<String, String> e : properties.entrySet()) {
      String key = e.getKey();
      if (key.endsWith("Dir") || key.endsWith("Dirs") || key.endsWith("directory")) {
        for (String v : e.getValue().split(",")) {
          Path p = Path.of(v.trim()).toAbsolutePath();
          if (mounts.stream().noneMatch(p::startsWith)) {
            Files.createDirectories(p);
            mounts.add(p);
          }
        }
      }
    }
    List<String> cmd = new ArrayList<>(List.of("/opt/flume/run", name, conf.toString()));
    String plugin = pluginClasspath();
    cmd.add(plugin);
    if (monitoringPort > 0) {
      cmd.add("-Dflume.monitoring.type=http");
      cmd.add("-Dflume.monitoring.port=" + monitoringPort);
    }
    @SuppressWarnings("resource") // stopped by kill() or close()
    GenericContainer<?> c =
        new GenericContainer<>(DockerImageName.parse(image))
            .withNetworkMode("host")
            .withEnv("FLUME_LOG", log.toString())
            .withCommand(cmd.toArray(String[]::new));
    for (Path m : mounts) {
      c.withFileSystemBind(m.toString(), m.toString(), BindMode.READ_WRITE);
    }
    if (!plugin.isEmpty()) {
      c.withFileSystemBind(plugin, plugin, BindMode.READ_ONLY);
    }
    c.start();
    container = c;
    LoggerFactory.getLogger(FlumeAgent.class)
        .info(
            "event=flume_agent_started kind=container image={} container={} agent={} dir={}",
            image,
            c.getContainerId(),
            name,
            dir);
  }

  /**
   * Where this build's {@code tributary-flume-sink} classes are (a jar or a classes directory), for
   * the container's class path; empty when they are not on this class path.
   */
  private static String pluginClasspath() {
    try {
      Class<?> sink = Class.forName("io.tributary.connector.flume.agent.TributarySink");
      return Path.of(sink.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (ClassNotFoundException | java.net.URISyntaxException | NullPointerException e) {
      return "";
    }
  }

  /** Whether the agent JVM is running. */
  public boolean isAlive() {
    if (container != null) {
      return container.isRunning();
    }
    return process != null && process.isAlive();
  }

  /** SIGKILL, then waits for the JVM to be gone. */
  public void kill() throws InterruptedException {
    if (container != null) {
      GenericContainer<?> c = container;
      container = null;
      if (c.isRunning()) { // an agent that exited by itself has nothing left to kill
        c.getDockerClient().killContainerCmd(c.getContainerId()).withSignal("KILL").exec();
      }
      org.awaitility.Awaitility.await("container of agent " + name + " gone after SIGKILL")
          .atMost(java.time.Duration.ofSeconds(30))
          .pollInterval(java.time.Duration.ofMillis(50))
          .until(() -> !c.isRunning());
      c.stop();
    }
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      process = null;
    }
  }

  /** The agent's log of its latest start. */
  public String log() throws IOException {
    Path p = dir.resolve("agent-" + (starts - 1) + ".log");
    return Files.exists(p) ? Files.readString(p) : "";
  }

  @Override
  public void close() throws Exception {
    if (container != null) {
      GenericContainer<?> c = container;
      container = null;
      try {
        // SIGTERM to the agent JVM (the container's main process), SIGKILL after 10 s, as below
        if (c.isRunning()) {
          c.getDockerClient().stopContainerCmd(c.getContainerId()).withTimeout(10).exec();
        }
      } finally {
        c.stop();
      }
    }
    if (process != null) {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
      process = null;
    }
  }
}
