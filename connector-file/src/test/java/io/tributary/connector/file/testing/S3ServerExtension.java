package io.tributary.connector.file.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.LoggerFactory;

/**
 * Starts one S3-compatible server (s3proxy, in-memory, on 127.0.0.1 at a free port; in a container
 * when an engine answers, see {@link S3Container}) for the whole test run and injects it as an
 * {@link S3Server} parameter (constructor, lifecycle or test method). The server stops when the run
 * ends. Each test class should create its own bucket with {@link S3Server#createBucket}.
 *
 * <pre>{@code
 * @ExtendWith(S3ServerExtension.class)
 * class MyS3IT {
 *   @Test
 *   void writes(S3Server s3) {
 *     String bucket = s3.createBucket("out");
 *     URI dir = S3Server.s3a(bucket, "out");            // s3a://out-<uuid>/out
 *     Map<String, String> opts = s3.hadoopOptions();   // hadoop.fs.s3a.endpoint, credentials, path style, ...
 *   }
 * }
 * }</pre>
 *
 * <p>Thread safety: JUnit calls it; the server is started once even with parallel test classes.
 */
public final class S3ServerExtension implements BeforeAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(S3ServerExtension.class);

  /** Starts (or reuses) the run's server and logs which one this test class gets. */
  @Override
  public void beforeAll(ExtensionContext context) {
    S3Server server = server(context);
    LoggerFactory.getLogger(S3ServerExtension.class)
        .info(
            "event=s3_server_for_test_class class={} kind={} endpoint={}",
            context.getRequiredTestClass().getName(),
            server.kind(),
            server.endpoint());
  }

  /** The run's server, started on first use. */
  public static S3Server server(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NS)
        .getOrComputeIfAbsent(
            "server",
            k -> {
              try {
                return S3Server.start();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while starting s3proxy", e);
              } catch (Exception e) {
                throw new IllegalStateException("Cannot start s3proxy: " + e, e);
              }
            },
            S3Server.class);
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
    return p.getParameter().getType() == S3Server.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext c) {
    return server(c);
  }
}
