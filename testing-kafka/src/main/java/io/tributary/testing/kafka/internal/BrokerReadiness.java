package io.tributary.testing.kafka.internal;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;

/**
 * Waits until a broker answers a metadata request.
 *
 * <p>Thread safety: stateless; blocks the calling thread.
 */
final class BrokerReadiness {
  private BrokerReadiness() {}

  /**
   * Blocks until {@code bootstrapServers} answers {@code describeCluster} with at least one node,
   * or {@code timeout} passes, or {@code failure} returns a non-null reason (e.g. the broker
   * process died).
   *
   * @return null when ready, else why not
   */
  static String await(String bootstrapServers, Duration timeout, Supplier<String> failure)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers);
    p.put("request.timeout.ms", "2000");
    p.put("default.api.timeout.ms", "2000");
    p.put("reconnect.backoff.max.ms", "200");
    p.put("client.id", "tributary-test-broker-probe");
    String last = "no answer";
    try (Admin admin = Admin.create(p)) {
      while (System.nanoTime() < deadline) {
        String failed = failure.get();
        if (failed != null) {
          return failed;
        }
        try {
          if (!admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty()) {
            return null;
          }
        } catch (ExecutionException | TimeoutException e) {
          last = e.toString();
        }
      }
    }
    return "broker at "
        + bootstrapServers
        + " did not answer within "
        + timeout
        + " (last: "
        + last
        + ")";
  }
}
