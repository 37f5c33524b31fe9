package io.tributary.connector.file.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real HDFS (one name node, one data node, in this JVM) on 127.0.0.1, started by {@link
 * MiniHdfsExtension}.
 *
 * <p>Thread safety: immutable once started; the cluster itself serves any thread.
 */
public final class MiniHdfs implements ExtensionContext.Store.CloseableResource {
  private final MiniDFSCluster cluster;
  private final Path baseDir;
  private final URI uri;

  private MiniHdfs(MiniDFSCluster cluster, Path baseDir) {
    this.cluster = cluster;
    this.baseDir = baseDir;
    this.uri = URI.create("hdfs://127.0.0.1:" + cluster.getNameNodePort());
  }

  static MiniHdfs start() throws IOException {
    Path base = Files.createTempDirectory("tributary-minihdfs-");
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
    conf.set("dfs.replication", "1");
    conf.set("dfs.namenode.rpc-address", "127.0.0.1:0");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    conf.setBoolean("dfs.permissions.enabled", false);
    MiniDFSCluster cluster =
        new MiniDFSCluster.Builder(conf, base.toFile())
            .numDataNodes(1)
            .format(true)
            .checkDataNodeAddrConfig(true)
            .build();
    cluster.waitActive();
    return new MiniHdfs(cluster, base);
  }

  /** {@code hdfs://127.0.0.1:<port>}. */
  public URI uri() {
    return uri;
  }

  /** {@code hdfs://127.0.0.1:<port>/<path>} ({@code path} without a leading slash). */
  public URI uri(String path) {
    return uri.resolve("/" + path);
  }

  /**
   * A fresh directory URI for one test, so tests sharing the cluster never see each other's files.
   */
  public URI newDirectory(String name) {
    return uri("tests/" + name + "-" + UUID.randomUUID());
  }

  /**
   * Hadoop settings a client needs besides the URI (none for this cluster); for {@code hadoop.*}
   * options.
   */
  public Map<String, String> hadoopSettings() {
    return Map.of();
  }

  /** The running cluster, e.g. to stop a data node. */
  public MiniDFSCluster cluster() {
    return cluster;
  }

  @Override
  public void close() throws IOException {
    cluster.shutdown(true); // deletes the base directory too
    if (!Files.exists(baseDir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(baseDir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
