package io.tributary.connector.kinesis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * Where the test run's Kinesis and DynamoDB servers ({@link LocalKinesis}, {@link LocalDynamo})
 * run: in containers of the local image {@code localhost/tributary-kinesis:K-D} ({@code
 * scripts/container-images.sh} builds it from Debian's Node.js and the npm packages pinned in
 * {@code testservers/package-lock.json}: kinesis-mock K, dynalite D; never pulled), or as child
 * {@code node} processes of the same packages. Same servers, same test code either way.
 *
 * <p>System property {@value #PROPERTY} = {@code local} or {@code container}; unset means the
 * container when a container engine answers ({@code DOCKER_HOST} or a Docker socket, then
 * Testcontainers' probe) and has the image, else the child processes. Without any hint of an engine
 * Testcontainers is not even asked (it is slow, and loud when there is none). System property
 * {@value #IMAGE_PROPERTY} names another image.
 *
 * <p>The choice is made once per JVM and logged as {@code event=kinesis_server_choice kind=...
 * reason=...}; {@link KinesisServersExtension} logs, per test class, which servers it gets.
 *
 * <p>Thread safety: {@link #image()} is synchronized.
 */
final class KinesisServerSelection {
  private static final Logger LOG = LoggerFactory.getLogger(KinesisServerSelection.class);
  static final String PROPERTY = "tributary.kinesis.server";
  static final String IMAGE_PROPERTY = "tributary.kinesis.image";
  static final String IMAGE_NAME = "localhost/tributary-kinesis";

  private static boolean chosen;
  private static String image;

  private KinesisServerSelection() {}

  /**
   * The image to run the servers from, or null for child processes; decided on the first call.
   *
   * @throws IllegalStateException for {@value #PROPERTY}{@code =container} when no container can
   *     run, or an unknown value
   */
  static synchronized String image() {
    if (!chosen) {
      image =
          choose(
              System.getProperty(PROPERTY),
              System.getProperty(IMAGE_PROPERTY, defaultImage(LocalKinesis.testServers())));
      chosen = true;
    }
    return image;
  }

  /**
   * {@code localhost/tributary-kinesis:<kinesis-local version>-<dynalite version>}, the versions
   * read from {@code package.json} in {@code testServers} (the tag {@code
   * scripts/container-images.sh} gives the image).
   */
  static String defaultImage(Path testServers) {
    try {
      String json = Files.readString(testServers.resolve("package.json"), StandardCharsets.UTF_8);
      return IMAGE_NAME + ":" + version(json, "kinesis-local") + "-" + version(json, "dynalite");
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot read "
              + testServers.resolve("package.json")
              + " for the Kinesis test servers' versions: "
              + e,
          e);
    }
  }

  private static String version(String packageJson, String dependency) {
    Matcher m =
        Pattern.compile("\"" + Pattern.quote(dependency) + "\"\\s*:\\s*\"([^\"]+)\"")
            .matcher(packageJson);
    if (!m.find()) {
      throw new IllegalStateException(
          "testservers/package.json has no dependency " + dependency + " (expected a pinned one)");
    }
    return m.group(1);
  }

  /**
   * The choice for a property value (null or blank: unset) and an image name, logged; the image or
   * null for child processes.
   */
  static String choose(String property, String image) {
    String wanted = property == null ? "" : property.trim().toLowerCase(Locale.ROOT);
    switch (wanted) {
      case "local":
        LOG.info("event=kinesis_server_choice kind=local reason=property");
        return null;
      case "container":
      case "":
        break;
      default:
        throw new IllegalStateException(
            "Invalid value "
                + property
                + " for system property "
                + PROPERTY
                + " (expected: local or container, or unset to use containers when an engine"
                + " answers)");
    }
    boolean hint =
        !System.getenv().getOrDefault("DOCKER_HOST", "").isBlank()
            || Files.exists(Path.of("/var/run/docker.sock"));
    String why = null;
    if (!hint) {
      why = "no_engine_hint";
    } else if (!engineAnswers()) {
      why = "engine_not_answering";
    } else if (!imageExists(image)) {
      why = "image_missing hint=\"scripts/container-images.sh kinesis builds " + image + "\"";
    }
    if (why == null) {
      LOG.info("event=kinesis_server_choice kind=container image={}", image);
      return image;
    }
    if (wanted.equals("container")) {
      throw new IllegalStateException(
          "System property " + PROPERTY + "=container, but no container can run: " + why);
    }
    LOG.info("event=kinesis_server_choice kind=local reason={}", why);
    return null;
  }

  private static boolean engineAnswers() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      LOG.info("event=kinesis_engine_probe_failed error={}", e.toString());
      return false;
    }
  }

  private static boolean imageExists(String image) {
    try {
      DockerClientFactory.instance().client().inspectImageCmd(image).exec();
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
