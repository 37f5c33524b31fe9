package io.tributary.connector.kinesis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * kinesalite (npm, pinned in {@code testservers/package.json}, in memory) as a child {@code node}
 * process on a free loopback port, through {@code testservers/kinesalite-server.js}: the wrapper
 * that binds it to 127.0.0.1, survives clients dropping requests and adds the {@code ChildShards}
 * kinesalite leaves out of a closed shard's last GetRecords (KCL needs them to end a parent and
 * create its children's leases). Always a child process (the container image holds kinesis-mock and
 * dynalite only). Its clients must use JSON ({@code aws.cborEnabled=false}, set for this module's
 * tests by the pom).
 *
 * <p>Thread safety: immutable once started; {@link #close()} once.
 */
final class LocalKinesalite implements AutoCloseable {
  private final Process process;
  private final int port;

  private LocalKinesalite(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts a fresh server (quick stream operations, room for the tests' shards). */
  static LocalKinesalite start() throws IOException, InterruptedException {
    Path nm = LocalKinesis.nodeModules();
    Path logDir = Path.of("target").toAbsolutePath();
    Files.createDirectories(logDir);
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = LocalKinesis.freePort();
      Path log = logDir.resolve("kinesalite-" + port + ".log");
      Process p =
          new ProcessBuilder(
                  "node",
                  nm.resolve("../kinesalite-server.js").normalize().toString(),
                  "--port",
                  Integer.toString(port),
                  "--shardLimit",
                  "100",
                  "--createStreamMs",
                  "50",
                  "--updateStreamMs",
                  "50",
                  "--deleteStreamMs",
                  "50")
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      IOException refused = LocalKinesis.awaitPort(p, port, Duration.ofSeconds(30));
      if (refused == null) {
        return new LocalKinesalite(p, port);
      }
      p.destroyForcibly();
      last = new IOException("kinesalite did not open port " + port + "; log: " + log, refused);
    }
    throw last;
  }

  String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    LocalKinesis.stop(process);
  }
}
