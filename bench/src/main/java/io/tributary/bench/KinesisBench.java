package io.tributary.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kinesis read benchmark (issue 8): one stream of N records of S bytes on 4 shards in a local
 * kinesis-mock (npm {@code kinesis-local}, a child {@code node} process; dynalite for KCL's lease
 * table), read from TRIM_HORIZON to the last record by four readers, one after the other, each in
 * its own JVM:
 *
 * <ol>
 *   <li><b>GetRecords loop</b> (the baseline): one thread per shard, GetRecords of up to 10,000,
 *       each value and a newline written to one file;
 *   <li><b>bare KCL 3</b>: a Scheduler (polling) whose ShardRecordProcessor writes each value and a
 *       newline to a file per shard and checkpoints after each batch;
 *   <li><b>Tributary {@code kinesis}</b> (direct) → {@code files} sink, the packaged gateway;
 *   <li><b>Tributary {@code kinesis-kcl}</b> → {@code files} sink, the packaged gateway.
 * </ol>
 *
 * The peers (1, 2) are {@code io.tributary.connector.kinesis.KinesisBenchPeer} on
 * connector-kinesis' test class path. Times: from the process launch to the last record ({@code
 * launch → all}), and from the first record out to the last ({@code first → all}, which leaves out
 * JVM start and KCL 3's hard-coded random 1-30 s wait before a new application's first shard sync);
 * records/s and the ratio use {@code first → all}. Peak RSS is the JVM's VmHWM. Not a test: it
 * prints figures.
 *
 * <p>Usage: {@code KinesisBench <gateway.jar> <kinesis-test-classpath-file> <testservers-dir>
 * [records] [bytes] [get-records-limit]}.
 */
public final class KinesisBench {
  private static final List<String> JVM = List.of("-Xmx512m", "-XX:+UseParallelGC");
  private static final String KEY = "AKIAIOSFODNN7EXAMPLE";
  private static final String SECRET = "local-test-secret";
  private static final Pattern PEER =
      Pattern.compile("first-record-ms=(\\d+) done-ms=(\\d+) peak-rss-kb=(\\d+)");

  private final Path gatewayJar;
  private final String peerClasspath;
  private final Path testServers;
  private final long records;
  private final int bytes;
  private final int limit;
  private final Path work;
  private final List<Process> processes = new ArrayList<>();
  private String kinesis;
  private String dynamo;

  private KinesisBench(Path jar, String cp, Path testServers, long records, int bytes, int limit)
      throws IOException {
    this.limit = limit;
    this.gatewayJar = jar;
    this.peerClasspath = cp;
    this.testServers = testServers;
    this.records = records;
    this.bytes = bytes;
    this.work = Files.createTempDirectory("tributary-kinesis-bench-");
  }

  /** One case's result. */
  private record Result(String name, double launchToAll, double firstToAll, long peakRssKb) {}

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]);
    String cp = Files.readString(Path.of(args[1])).trim();
    Path servers = Path.of(args[2]).toAbsolutePath();
    long records = args.length > 3 ? Long.parseLong(args[3]) : 200_000;
    int bytes = args.length > 4 ? Integer.parseInt(args[4]) : 100;
    int limit = args.length > 5 ? Integer.parseInt(args[5]) : 10_000;
    KinesisBench b = new KinesisBench(jar, cp, servers, records, bytes, limit);
    System.out.printf(
        "Kinesis read: %,d records of %d bytes on 4 shards (kinesis-mock), at most %,d records per"
            + " GetRecords; load average before: %s%n",
        records, bytes, limit, Machine.loadAverage());
    try {
      b.startServers();
      String stream = "bench";
      b.peer("put", List.of("put", b.kinesis, stream, "4", Long.toString(records), "" + bytes));
      List<Result> rs = new ArrayList<>();
      rs.add(b.getRecords(stream));
      rs.add(b.bareKcl(stream));
      rs.add(b.gatewayDirect(stream));
      rs.add(b.gatewayKcl(stream));
      // the first reader meets a cold mock (its first GetRecords of each shard are the slowest):
      // the baseline again, last, on the mock as warm as the others found it; the ratios use it
      rs.add(b.getRecordsAgain(stream));
      // launch -> all is the comparable time (every reader's clock starts the same way);
      // first -> all starts at different points (the loop's first page, KCL's first processRecords
      // after its
      // prefetch, the gateway's first committed output file), so its ratio is printed but weaker
      Result base = rs.get(rs.size() - 1);
      System.out.println();
      System.out.println(
          "| reader | s launch → all | records/s | vs GetRecords (last run) | s first → all |"
              + " records/s | vs GetRecords | peak RSS MB |");
      System.out.println("|---|---|---|---|---|---|---|---|");
      for (Result r : rs) {
        System.out.printf(
            "| %s | %.1f | %,.0f | %.2fx | %.1f | %,.0f | %.2fx | %d |%n",
            r.name,
            r.launchToAll,
            records / r.launchToAll,
            base.launchToAll / r.launchToAll,
            r.firstToAll,
            records / r.firstToAll,
            base.firstToAll / r.firstToAll,
            r.peakRssKb / 1024);
      }
      System.out.println("load average after: " + Machine.loadAverage());
      System.out.println("work directory (logs): " + b.work);
    } finally {
      ChildProcesses.stopAll(b.processes);
    }
  }

  private void startServers() throws Exception {
    Path nm = testServers.resolve("node_modules");
    if (!Files.isDirectory(nm.resolve("kinesis-local"))
        || !Files.isDirectory(nm.resolve("dynalite"))) {
      throw new IllegalStateException(
          "run `npm ci` in " + testServers + " first (kinesis-mock and dynalite)");
    }
    int plain = ChildProcesses.freePort();
    ProcessBuilder km =
        new ProcessBuilder("node", nm.resolve("kinesis-local/main.js").toString())
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("kinesis-mock.log").toFile());
    km.environment().put("KINESIS_MOCK_TLS_PORT", Integer.toString(ChildProcesses.freePort()));
    km.environment().put("KINESIS_MOCK_PLAIN_PORT", Integer.toString(plain));
    km.environment()
        .put("KINESIS_MOCK_CERT_PATH", nm.resolve("kinesis-local/server.json").toString());
    km.environment().put("LOG_LEVEL", "WARN");
    km.environment().put("CREATE_STREAM_DURATION", "50ms");
    processes.add(km.start());
    int dport = ChildProcesses.freePort();
    processes.add(
        new ProcessBuilder(
                "node",
                nm.resolve("../dynalite-server.js").normalize().toString(),
                "--host",
                "127.0.0.1",
                "--port",
                Integer.toString(dport),
                "--createTableMs",
                "50")
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("dynalite.log").toFile())
            .start());
    ChildProcesses.awaitPort(plain);
    ChildProcesses.awaitPort(dport);
    kinesis = "http://127.0.0.1:" + plain;
    dynamo = "http://127.0.0.1:" + dport;
  }

  /** Runs a peer JVM to its end; returns its output. */
  private String peer(String name, List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ChildProcesses.java());
    cmd.addAll(JVM);
    cmd.add("-Daws.cborEnabled=false");
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    cmd.add("-cp");
    cmd.add(peerClasspath);
    cmd.add("io.tributary.connector.kinesis.KinesisBenchPeer");
    cmd.addAll(args);
    Path log = work.resolve(name + ".log");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(name + " failed; see " + log);
    }
    String out = Files.readString(log);
    for (String line : out.split("\n")) {
      if (line.startsWith("put ")) {
        System.out.println(line);
      }
    }
    return out;
  }

  private Result peerResult(String name, String caseName, List<String> args) throws Exception {
    long t0 = System.currentTimeMillis();
    String out = peer(name, args);
    Matcher m = PEER.matcher(out);
    if (!m.find()) {
      throw new IllegalStateException(
          name + ": no result line; see " + work.resolve(name + ".log"));
    }
    long first = Long.parseLong(m.group(1));
    long done = Long.parseLong(m.group(2));
    Result r =
        new Result(caseName, (done - t0) / 1e3, (done - first) / 1e3, Long.parseLong(m.group(3)));
    System.out.printf(
        "%s: %.1f s from launch, %.1f s first → all%n", caseName, r.launchToAll, r.firstToAll);
    return r;
  }

  private Result getRecords(String stream) throws Exception {
    Path out = work.resolve("getrecords.txt");
    Result r =
        peerResult(
            "getrecords",
            "GetRecords loop (baseline)",
            List.of(
                "getrecords", kinesis, stream, Long.toString(records), out.toString(), "" + limit));
    checkBytes(out);
    return r;
  }

  private Result getRecordsAgain(String stream) throws Exception {
    Path out = work.resolve("getrecords-again.txt");
    Result r =
        peerResult(
            "getrecords-again",
            "GetRecords loop again, last (baseline of the ratios)",
            List.of(
                "getrecords", kinesis, stream, Long.toString(records), out.toString(), "" + limit));
    checkBytes(out);
    return r;
  }

  private Result bareKcl(String stream) throws Exception {
    Path out = work.resolve("kcl-out");
    Result r =
        peerResult(
            "kcl",
            "bare KCL 3 app (polling, file per shard)",
            List.of(
                "kcl",
                kinesis,
                dynamo,
                stream,
                "bench-kcl",
                Long.toString(records),
                out.toString()));
    checkBytes(out);
    return r;
  }

  private Result gatewayDirect(String stream) throws Exception {
    return gateway(
        "direct",
        "Tributary `kinesis` → files",
        String.join(
            "\n",
            "    source:",
            "      type: kinesis",
            "      stream: " + stream,
            "      endpoint: " + kinesis,
            "      access-key-id: " + KEY,
            "      secret-access-key: " + SECRET,
            "      starting-position: trim-horizon",
            "      get-records-limit: " + limit));
  }

  private Result gatewayKcl(String stream) throws Exception {
    return gateway(
        "kcl-gw",
        "Tributary `kinesis-kcl` → files",
        String.join(
            "\n",
            "    source:",
            "      type: kinesis-kcl",
            "      application-name: bench-gateway-kcl",
            "      stream: " + stream,
            "      endpoint: " + kinesis,
            "      dynamodb-endpoint: " + dynamo,
            "      access-key-id: " + KEY,
            "      secret-access-key: " + SECRET,
            "      starting-position: trim-horizon",
            "      poll-interval: 200ms",
            "      get-records-limit: " + limit));
  }

  private Result gateway(String name, String caseName, String source) throws Exception {
    Path dir = Files.createDirectories(work.resolve(name));
    Path out = dir.resolve("out");
    Path config = dir.resolve("gateway.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: kinesis-bench-" + name,
            "    settings:",
            "      batch-interval: 200ms",
            "      direct.max-records-per-partition: 10000",
            "    checkpoint: " + dir.resolve("checkpoint"),
            source,
            "    sinks:",
            "      - { type: files, path: " + out + ", max-file-size: 64mb }",
            ""));
    List<String> cmd = new ArrayList<>();
    cmd.add(ChildProcesses.java());
    cmd.addAll(JVM);
    cmd.add("-Daws.cborEnabled=false");
    cmd.addAll(List.of("-jar", gatewayJar.toString(), "run", "--config", config.toString()));
    long t0 = System.currentTimeMillis();
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("gateway.log").toFile())
            .start();
    processes.add(p);
    long want = records * (bytes + 1L);
    long first = 0;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
    long peak = 0;
    while (true) {
      long have = ChildProcesses.size(out);
      long now = System.currentTimeMillis();
      if (have > 0 && first == 0) {
        first = now;
      }
      peak = Math.max(peak, vmHwm(p.pid()));
      if (have >= want) {
        if (have > want) {
          throw new IllegalStateException(
              caseName + ": " + have + " bytes, more than every record once (" + want + ")");
        }
        Result r = new Result(caseName, (now - t0) / 1e3, (now - first) / 1e3, peak);
        System.out.printf(
            "%s: %.1f s from launch, %.1f s first → all%n", caseName, r.launchToAll, r.firstToAll);
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
        processes.remove(p);
        return r;
      }
      if (!p.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            caseName + ": " + have + " of " + want + " bytes; see " + dir.resolve("gateway.log"));
      }
      // polling the output directory's size: no event to wait on
      Thread.sleep(20);
    }
  }

  private void checkBytes(Path out) throws IOException {
    long have = ChildProcesses.size(out);
    if (have != records * (bytes + 1L)) {
      throw new IllegalStateException(
          out + " holds " + have + " bytes, expected " + records * (bytes + 1L));
    }
  }

  private static long vmHwm(long pid) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (l.startsWith("VmHWM:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException gone) {
      // the process exited
    }
    return 0;
  }
}
