package io.tributary.connector.flume;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.flume.tools.VersionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * Where {@link FlumeAgent}s run: in a container of the local image {@code
 * localhost/tributary-flume:VERSION} ({@code scripts/container-images.sh} builds it from Flume's
 * Maven Central jars; VERSION is the Flume version on this class path; never pulled), or as a child
 * JVM on this class path. Same agent, same test code either way.
 *
 * <p>System property {@value #PROPERTY} = {@code local} or {@code container}; unset means the
 * container when a container engine answers ({@code DOCKER_HOST} or a Docker socket, then
 * Testcontainers' probe) and has the image, else the child JVM. Without any hint of an engine
 * Testcontainers is not even asked. System property {@value #IMAGE_PROPERTY} names another image.
 * The choice is made once per JVM and logged as {@code event=flume_agent_choice kind=...
 * reason=...}.
 *
 * <p>Thread safety: {@link #image()} is synchronized.
 */
public final class FlumeAgentSelection {
  private static final Logger LOG = LoggerFactory.getLogger(FlumeAgentSelection.class);
  public static final String PROPERTY = "tributary.flume.agent";
  public static final String IMAGE_PROPERTY = "tributary.flume.image";

  private static boolean chosen;
  private static String image;

  private FlumeAgentSelection() {}

  /**
   * The image to run agents from, or null for child JVMs; decided on the first call.
   *
   * @throws IllegalStateException for {@value #PROPERTY}{@code =container} when no container can
   *     run, or an unknown value
   */
  public static synchronized String image() {
    if (!chosen) {
      image =
          choose(
              System.getProperty(PROPERTY),
              System.getProperty(IMAGE_PROPERTY, "localhost/tributary-flume:" + flumeVersion()));
      chosen = true;
    }
    return image;
  }

  /** The version of the Flume jars on this class path (flume-ng-core). */
  static String flumeVersion() {
    return VersionInfo.getVersion();
  }

  /** The choice for a property value (null or blank: unset) and an image; null for child JVMs. */
  static String choose(String property, String image) {
    String wanted = property == null ? "" : property.trim().toLowerCase(Locale.ROOT);
    switch (wanted) {
      case "local":
        LOG.info("event=flume_agent_choice kind=local reason=property");
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
                + " (expected: local or container, or unset to use a container when an engine"
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
      why = "image_missing hint=\"scripts/container-images.sh flume builds " + image + "\"";
    }
    if (why == null) {
      LOG.info("event=flume_agent_choice kind=container image={}", image);
      return image;
    }
    if (wanted.equals("container")) {
      throw new IllegalStateException(
          "System property " + PROPERTY + "=container, but no container can run: " + why);
    }
    LOG.info("event=flume_agent_choice kind=local reason={}", why);
    return null;
  }

  private static boolean engineAnswers() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      LOG.info("event=flume_engine_probe_failed error={}", e.toString());
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
