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
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A real Flume 1.11 agent ({@code org.apache.flume.node.Application}) in a child JVM, on this test
 * class path (flume-ng-node is a test dependency; the gateway never sees it), with a generated
 * properties file, and optionally Flume's HTTP monitoring ({@link #monitoring}). {@link #kill()} is
 * a SIGKILL; {@link #start()} again reuses the same directory, so a file channel survives.
 *
 * <p>Thread safety: not thread-safe; one test thread drives it.
 */
public final class FlumeAgent implements AutoCloseable {
  private final Path dir;
  private final String name;
  private final Map<String, String> properties = new TreeMap<>();
  private Process process;
  private int starts;

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
    File log = dir.resolve("agent-" + (starts++) + ".log").toFile();
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

  /** Whether the agent JVM is running. */
  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** SIGKILL, then waits for the JVM to be gone. */
  public void kill() throws InterruptedException {
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
