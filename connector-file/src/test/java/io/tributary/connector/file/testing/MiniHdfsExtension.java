package io.tributary.connector.file.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one real HDFS ({@code MiniDFSCluster}: a name node and a data node on 127.0.0.1, free
 * ports) for the whole test run and injects it as a {@link MiniHdfs} parameter (constructor,
 * lifecycle or test method). The cluster is shut down when the test run ends. Use {@link
 * MiniHdfs#newDirectory} to keep tests apart.
 *
 * <pre>{@code
 * @ExtendWith(MiniHdfsExtension.class)
 * class MyHdfsIT {
 *   @Test
 *   void writes(MiniHdfs hdfs) {
 *     URI dir = hdfs.newDirectory("out");   // hdfs://127.0.0.1:<port>/tests/out-<uuid>
 *   }
 * }
 * }</pre>
 *
 * <p>Thread safety: JUnit calls it; the cluster is started once even with parallel test classes.
 */
public final class MiniHdfsExtension implements BeforeAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(MiniHdfsExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    hdfs(context);
  }

  /** The run's cluster, started on first use. */
  public static MiniHdfs hdfs(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NS)
        .getOrComputeIfAbsent(
            "cluster",
            k -> {
              try {
                return MiniHdfs.start();
              } catch (Exception e) {
                throw new IllegalStateException(
                    "Cannot start MiniDFSCluster on 127.0.0.1: " + e, e);
              }
            },
            MiniHdfs.class);
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
    return p.getParameter().getType() == MiniHdfs.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext c) {
    return hdfs(c);
  }
}
