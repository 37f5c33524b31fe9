package io.tributary.connector.file.testing;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * A real S3-compatible server for tests: s3proxy (Maven Central {@code org.gaul:s3proxy}, its
 * self-contained jar) with an in-memory blob store, started by {@link S3ServerExtension}: in a
 * container ({@link S3Container}, the local image built by {@code scripts/container-images.sh})
 * when a container engine answers, else in a child JVM on 127.0.0.1. A child process keeps
 * s3proxy's Jetty and jclouds off the test classpath (MiniDFSCluster brings another Jetty).
 *
 * <p>The jar is found at the system property {@code tributary.s3proxy.jar}, else {@code
 * target/s3proxy/s3proxy.jar} (the module's pom copies it there).
 *
 * <p>Thread safety: immutable once started; the server serves any thread.
 */
public final class S3Server implements ExtensionContext.Store.CloseableResource {
  public static final String ACCESS_KEY = "tributary-test-access";
  public static final String SECRET_KEY = "tributary-test-secret";
  public static final String REGION = "us-east-1";

  private final Process process;
  private final AutoCloseable container;
  private final URI endpoint;
  private final Path workDir;
  private final String kind;

  private S3Server(Process process, URI endpoint, Path workDir) {
    this.process = process;
    this.container = null;
    this.endpoint = endpoint;
    this.workDir = workDir;
    this.kind = "local";
  }

  /** A server in a container, stopped by closing {@code container}. */
  S3Server(AutoCloseable container, URI endpoint, String kind) {
    this.process = null;
    this.container = container;
    this.endpoint = endpoint;
    this.workDir = null;
    this.kind = kind;
  }

  /**
   * In a container when {@link S3Container#choose()} says so (an engine answers and has the image),
   * else a child JVM.
   */
  static S3Server start() throws IOException, InterruptedException {
    String image = S3Container.choose();
    return image != null ? S3Container.start(image) : startLocal();
  }

  /** Where the server runs: {@code local} (child JVM) or {@code container image=...}. */
  public String kind() {
    return kind;
  }

  static S3Server startLocal() throws IOException, InterruptedException {
    Path jar = Path.of(System.getProperty("tributary.s3proxy.jar", "target/s3proxy/s3proxy.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "s3proxy jar not found at "
              + jar.toAbsolutePath()
              + " (expected: run through Maven, which copies it, or set -Dtributary.s3proxy.jar)");
    }
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = freePort();
      Path work = Files.createTempDirectory("tributary-s3proxy-");
      Path props = work.resolve("s3proxy.properties");
      Files.writeString(
          props,
          String.join(
              "\n",
              "s3proxy.endpoint=http://127.0.0.1:" + port,
              "s3proxy.authorization=aws-v2-or-v4",
              "s3proxy.identity=" + ACCESS_KEY,
              "s3proxy.credential=" + SECRET_KEY,
              "jclouds.provider=transient",
              "jclouds.identity=" + ACCESS_KEY,
              "jclouds.credential=" + SECRET_KEY,
              ""),
          StandardCharsets.UTF_8);
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb =
          new ProcessBuilder(
              List.of(
                  java,
                  "-Xmx256m",
                  "-jar",
                  jar.toAbsolutePath().toString(),
                  "--properties",
                  props.toString()));
      pb.environment().put("LOG_LEVEL", "warn");
      pb.redirectErrorStream(true);
      pb.redirectOutput(work.resolve("s3proxy.log").toFile());
      Process p = pb.start();
      URI endpoint = URI.create("http://127.0.0.1:" + port);
      if (awaitHttp(endpoint, p, Duration.ofSeconds(60))) {
        S3Server server = new S3Server(p, endpoint, work);
        Runtime.getRuntime()
            .addShutdownHook(new Thread(p::destroyForcibly, "tributary-test-s3proxy-reaper-0"));
        return server;
      }
      p.destroyForcibly();
      last =
          new IOException(
              "s3proxy did not start on port "
                  + port
                  + "; log: "
                  + Files.readString(work.resolve("s3proxy.log"), StandardCharsets.UTF_8));
    }
    throw last;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * Polls the endpoint until it answers HTTP (any status), the process exits, or the timeout
   * passes.
   */
  private static boolean awaitHttp(URI endpoint, Process p, Duration timeout)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!p.isAlive()) {
        return false;
      }
      try {
        HttpURLConnection c = (HttpURLConnection) endpoint.toURL().openConnection();
        c.setConnectTimeout(500);
        c.setReadTimeout(2000);
        int code = c.getResponseCode();
        c.disconnect();
        if (code > 0) {
          return true;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      // Polling a child process's port: there is no event to wait on.
      p.waitFor(100, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    return false;
  }

  /** {@code http://127.0.0.1:<port>}. */
  public URI endpoint() {
    return endpoint;
  }

  public String accessKey() {
    return ACCESS_KEY;
  }

  public String secretKey() {
    return SECRET_KEY;
  }

  public String region() {
    return REGION;
  }

  /** Creates a bucket with a unique name starting with {@code prefix} and returns its name. */
  public String createBucket(String prefix) {
    String name = (prefix + "-" + UUID.randomUUID()).toLowerCase(java.util.Locale.ROOT);
    name = name.length() > 63 ? name.substring(0, 63) : name;
    try (S3Client s3 = client()) {
      String bucket = name;
      s3.createBucket(b -> b.bucket(bucket));
    }
    return name;
  }

  /** An AWS SDK v2 client for this server (path-style); the caller closes it. */
  public S3Client client() {
    return S3Client.builder()
        .endpointOverride(endpoint)
        .region(Region.of(REGION))
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
        .build();
  }

  /**
   * The S3A settings for this server, without the {@code hadoop.} prefix: endpoint, path-style
   * access, static credentials, no TLS, and few retries so a broken test fails fast.
   */
  public Map<String, String> hadoopSettings() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("fs.s3a.endpoint", endpoint.toString());
    m.put("fs.s3a.endpoint.region", REGION);
    m.put("fs.s3a.path.style.access", "true");
    m.put("fs.s3a.connection.ssl.enabled", "false");
    m.put("fs.s3a.access.key", ACCESS_KEY);
    m.put("fs.s3a.secret.key", SECRET_KEY);
    m.put(
        "fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    m.put("fs.s3a.bucket.probe", "0");
    m.put("fs.s3a.attempts.maximum", "2");
    m.put("fs.s3a.retry.limit", "2");
    m.put("fs.s3a.retry.interval", "100ms");
    m.put("fs.s3a.connection.establish.timeout", "5s");
    m.put("fs.s3a.connection.timeout", "20s");
    return m;
  }

  /**
   * The same settings as {@code hadoop.}-prefixed option keys, ready for a sink or checkpoint
   * config.
   */
  public Map<String, String> hadoopOptions() {
    Map<String, String> m = new LinkedHashMap<>();
    hadoopSettings().forEach((k, v) -> m.put("hadoop." + k, v));
    return m;
  }

  /** {@code s3a://<bucket>/<path>}. */
  public static URI s3a(String bucket, String path) {
    return URI.create("s3a://" + bucket + "/" + path);
  }

  @Override
  public void close() throws IOException {
    if (container != null) {
      try {
        container.close();
      } catch (Exception e) {
        throw new IOException("Could not stop the S3 container: " + e, e);
      }
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try (var s = Files.walk(workDir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
