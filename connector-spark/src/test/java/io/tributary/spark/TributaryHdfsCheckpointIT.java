package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A query whose checkpoint, input and output are on a real HDFS (MiniDFSCluster: one name node and
 * one data node in this JVM, from hadoop-client-minicluster): Spark's offset and commit logs, and
 * the Tributary {@code files} source's own state (its file index, written by the driver, read by
 * the executors) and first-start positions, all under the {@code hdfs://} checkpoint location.
 * Stopped, its last commit lost, restarted: every line once.
 */
class TributaryHdfsCheckpointIT {
  private static MiniDFSCluster cluster;
  private static FileSystem fs;
  private static URI root;
  private final SparkSession spark = LocalSpark.session();

  @BeforeAll
  static void startHdfs() throws IOException {
    java.nio.file.Path base = Files.createTempDirectory("tributary-spark-minihdfs-");
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
    conf.set("dfs.replication", "1");
    conf.set("dfs.namenode.rpc-address", "127.0.0.1:0");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    conf.setBoolean("dfs.permissions.enabled", false);
    cluster =
        new MiniDFSCluster.Builder(conf, base.toFile())
            .numDataNodes(1)
            .format(true)
            .checkDataNodeAddrConfig(true)
            .build();
    cluster.waitActive();
    root = URI.create("hdfs://127.0.0.1:" + cluster.getNameNodePort());
    fs = FileSystem.get(root, new Configuration());
  }

  @AfterAll
  static void stopHdfs() throws IOException {
    if (cluster != null) {
      cluster.shutdown(true);
    }
  }

  private static org.apache.hadoop.fs.Path path(String p) {
    return new org.apache.hadoop.fs.Path(root.resolve(p));
  }

  /** Writes file {@code n} of 3 lines as a hidden temp file, then renames it into {@code in}. */
  private static void write(String in, int n) throws IOException {
    org.apache.hadoop.fs.Path tmp = path("/tmp-" + n);
    try (OutputStream out = fs.create(tmp, true)) {
      for (int line = 0; line < 3; line++) {
        out.write(("f" + n + "-l" + line + "\n").getBytes(StandardCharsets.UTF_8));
      }
    }
    fs.mkdirs(path(in));
    assertThat(fs.rename(tmp, path(in + String.format("/part-%03d.txt", n)))).isTrue();
  }

  private StreamingQuery query(String in, String cp, String out) throws Exception {
    return spark
        .readStream()
        .format("tributary")
        .option("source.type", "files")
        .option("paths", root.resolve(in).toString())
        .option("include-existing", "true")
        .option("stable-for", "0s")
        .option("maxRecordsPerTrigger", "2")
        .load()
        .selectExpr("cast(value as string) line", "position")
        .writeStream()
        .format("parquet")
        .option("path", root.resolve(out).toString())
        .option("checkpointLocation", root.resolve(cp).toString())
        .trigger(Trigger.AvailableNow())
        .start();
  }

  private static List<String> names(String dir) throws IOException {
    List<String> out = new ArrayList<>();
    for (FileStatus s : fs.listStatus(path(dir))) {
      out.add(s.getPath().getName());
    }
    return out;
  }

  @Test
  void aQueryCheckpointedOnHdfsRestartsAfterALostCommitAndWritesEachLineOnce() throws Exception {
    String in = "/in";
    String cp = "/cp";
    String out = "/out";
    for (int f = 0; f < 5; f++) {
      write(in, f);
    }
    StreamingQuery q1 = query(in, cp, out);
    assertThat(q1.awaitTermination(120_000)).as("the AvailableNow run ends").isTrue();
    assertThat(q1.exception().isEmpty()).as("query failed: %s", q1.exception()).isTrue();
    List<Long> perBatch = new ArrayList<>();
    for (StreamingQueryProgress p : q1.recentProgress()) {
      if (p.numInputRows() > 0) {
        perBatch.add(p.numInputRows());
      }
    }
    assertThat(perBatch).containsExactly(6L, 6L, 3L);

    // Spark's logs and the source's own state are on HDFS, under the checkpoint location
    assertThat(names(cp)).contains("offsets", "commits", "sources", "metadata");
    assertThat(names(cp + "/sources/0")).contains("initial-offset.json", "state");
    List<String> stateFiles = new ArrayList<>();
    long stateBytes = 0;
    var it = fs.listFiles(path(cp + "/sources/0/state/tributary"), true);
    while (it.hasNext()) {
      LocatedFileStatus f = it.next();
      stateFiles.add(f.getPath().getName());
      stateBytes += f.getLen();
    }
    assertThat(stateFiles).as("the files source's file index on HDFS").isNotEmpty();
    assertThat(stateBytes).as("bytes of %s", stateFiles).isPositive();

    // a crash between the parquet sink's commit and Spark's: the last commit is gone
    long last =
        names(cp + "/commits").stream()
            .filter(n -> n.matches("\\d+"))
            .mapToLong(Long::parseLong)
            .max()
            .orElseThrow();
    assertThat(fs.delete(path(cp + "/commits/" + last), false)).isTrue();
    fs.delete(path(cp + "/commits/." + last + ".crc"), false);

    write(in, 5);
    write(in, 6);
    StreamingQuery q2 = query(in, cp, out);
    assertThat(q2.awaitTermination(120_000)).as("the AvailableNow run ends").isTrue();
    assertThat(q2.exception().isEmpty()).as("query failed: %s", q2.exception()).isTrue();
    List<String> lines =
        spark.read().parquet(root.resolve(out).toString()).orderBy("line").collectAsList().stream()
            .map(r -> r.getString(0))
            .toList();
    List<String> expected = new ArrayList<>();
    for (int f = 0; f < 7; f++) {
      for (int l = 0; l < 3; l++) {
        expected.add("f" + f + "-l" + l);
      }
    }
    assertThat(lines).containsExactlyElementsOf(expected);
  }
}
