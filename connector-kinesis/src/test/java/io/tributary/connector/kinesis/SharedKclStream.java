package io.tributary.connector.kinesis;

import software.amazon.awssdk.services.kinesis.KinesisClient;

/**
 * One 4-shard stream and one KCL application shared by the {@code kinesis-kcl} tests of a test JVM
 * (a new application's first start costs a KCL lease-assignment round; paying that once keeps the
 * tests short). Each test writes its own range of values and asserts on those only, and each starts
 * from whatever the lease table holds (fresh, or checkpoints left by another test), so the tests do
 * not depend on their order.
 *
 * <p>Thread safety: {@link #get} is synchronized.
 */
final class SharedKclStream {
  static final int SHARDS = 4;
  private static SharedKclStream instance;

  final String stream;
  final String app;

  private SharedKclStream(String stream, String app) {
    this.stream = stream;
    this.app = app;
  }

  static synchronized SharedKclStream get(LocalKinesis kinesis) {
    if (instance == null) {
      String stream = "kcl-shared-" + System.nanoTime();
      try (KinesisClient k = kinesis.client()) {
        LocalKinesis.createStream(k, stream, SHARDS);
      }
      instance = new SharedKclStream(stream, "app-" + stream);
    }
    return instance;
  }
}
