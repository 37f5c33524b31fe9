package io.tributary.connector.kinesis;

import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * connector-spark's door to connector-kinesis's test server: {@link LocalKinesis} (kinesis-mock,
 * npm {@code kinesis-local}, as a child {@code node} process, one per test JVM) is package-private
 * in connector-kinesis's test-jar, and this class, in the same package on the test class path,
 * exposes what connector-spark's tests use. The {@code tributary.kinesis.testservers} system
 * property (connector-spark's pom) points at connector-kinesis's {@code testservers/}.
 *
 * <p>Thread safety: as {@link LocalKinesis}; the server starts once.
 */
public final class KinesisMockForSpark {
  public static final String ACCESS_KEY = LocalKinesis.ACCESS_KEY;
  public static final String SECRET_KEY = LocalKinesis.SECRET_KEY;

  private KinesisMockForSpark() {}

  /** The plain-HTTP endpoint of the run's kinesis-mock, started on first use. */
  public static String endpoint() {
    return LocalKinesis.get().endpoint();
  }

  /** A new synchronous client of the run's kinesis-mock; the caller closes it. */
  public static KinesisClient client() {
    return LocalKinesis.get().client();
  }

  /** Creates {@code stream} with {@code shards} shards and waits until it is ACTIVE. */
  public static void createStream(KinesisClient k, String stream, int shards) {
    LocalKinesis.createStream(k, stream, shards);
  }

  /** Waits until {@code stream} is ACTIVE (after a split or merge). */
  public static void awaitActive(KinesisClient k, String stream) {
    LocalKinesis.awaitActive(k, stream);
  }
}
