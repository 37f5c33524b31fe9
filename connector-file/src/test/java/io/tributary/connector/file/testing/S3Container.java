package io.tributary.connector.file.testing;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * s3proxy in a container, through Testcontainers: the image {@code localhost/tributary-s3proxy:V}
 * that {@code scripts/container-images.sh} builds from the same Maven Central jar the child-JVM
 * server runs (system property {@code tributary.s3proxy.image}, set by the module's pom). Never
 * pulled.
 *
 * <p>Choice ({@link #choose()}): system property {@code tributary.s3.server} = {@code local} or
 * {@code container}; unset means the container when an engine answers ({@code DOCKER_HOST} or a
 * Docker socket, then Testcontainers' probe) and has the image, else the child JVM. Without any
 * hint of an engine Testcontainers is not even asked (it is slow and loud when there is none).
 *
 * <p>Thread safety: stateless; called once per run by {@link S3ServerExtension}.
 */
final class S3Container {
  private static final Logger LOG = LoggerFactory.getLogger(S3Container.class);
  static final String PROPERTY = "tributary.s3.server";
  private static final int PORT = 8080;

  private S3Container() {}

  /**
   * The image to run in a container, or null for the child JVM.
   *
   * @throws IllegalStateException for {@code tributary.s3.server=container} without an engine or
   *     the image, or for an unknown value
   */
  static String choose() {
    String wanted = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
    String image = System.getProperty("tributary.s3proxy.image", "");
    switch (wanted) {
      case "local":
        LOG.info("event=s3_server_choice kind=local reason=property");
        return null;
      case "container":
      case "":
        break;
      default:
        throw new IllegalStateException(
            "Invalid value "
                + wanted
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
    } else if (image.isBlank()) {
      why = "no_image_property";
    } else if (!engineAnswers()) {
      why = "engine_not_answering";
    } else if (!imageExists(image)) {
      why = "image_missing hint=\"scripts/container-images.sh builds " + image + "\"";
    }
    if (why == null) {
      LOG.info("event=s3_server_choice kind=container image={}", image);
      return image;
    }
    if (wanted.equals("container")) {
      throw new IllegalStateException(
          "System property " + PROPERTY + "=container, but no container can run: " + why);
    }
    LOG.info("event=s3_server_choice kind=local reason={}", why);
    return null;
  }

  private static boolean engineAnswers() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      LOG.info("event=s3_engine_probe_failed error={}", e.toString());
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

  /** Starts the container and blocks (at most 3 minutes) until s3proxy answers HTTP. */
  static S3Server start(String image) {
    @SuppressWarnings("resource") // closed by S3Server.close()
    GenericContainer<?> c =
        new GenericContainer<>(DockerImageName.parse(image))
            .withEnv("S3_ACCESS_KEY", S3Server.ACCESS_KEY)
            .withEnv("S3_SECRET_KEY", S3Server.SECRET_KEY)
            .withEnv("LOG_LEVEL", "warn")
            .withExposedPorts(PORT)
            .waitingFor(
                Wait.forHttp("/")
                    .forPort(PORT)
                    .forStatusCodeMatching(code -> code > 0)
                    .withStartupTimeout(Duration.ofMinutes(3)));
    c.start();
    URI endpoint = URI.create("http://" + c.getHost() + ":" + c.getMappedPort(PORT));
    LOG.info(
        "event=s3_server_started kind=container image={} container={} endpoint={}",
        image,
        c.getContainerId(),
        endpoint);
    return new S3Server(c::stop, endpoint, "container image=" + image);
  }
}
