package io.tributary.connector.kinesis;

import io.tributary.core.runtime.Pipeline;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A separate JVM running one pipeline {@code kinesis-kcl} → files until it is killed, for {@link
 * KinesisKclProcessKillIT}. Arguments: pipeline id, application, stream, Kinesis endpoint, DynamoDB
 * endpoint, work directory.
 */
public final class KclWorkerMain {
  private KclWorkerMain() {}

  public static void main(String[] args) throws Exception {
    String id = args[0];
    Map<String, Object> c = new java.util.LinkedHashMap<>();
    c.put("application-name", args[1]);
    c.put("stream", args[2]);
    c.put("endpoint", args[3]);
    c.put("dynamodb-endpoint", args[4]);
    c.put("access-key-id", LocalKinesis.ACCESS_KEY);
    c.put("secret-access-key", LocalKinesis.SECRET_KEY);
    c.put("starting-position", "trim-horizon");
    c.put("failover-time", "3s");
    c.put("shard-sync-interval", "2s");
    c.put("leader-lease-duration", "10s");
    c.put("poll-interval", "200ms");
    Path dir = Path.of(args[5]);
    KinesisKclSource source = new KinesisKclSource(KinesisOptions.KCL_SOURCE.parse(c));
    Pipeline p =
        Pipeline.builder(id)
            .checkpointDir(dir.resolve("checkpoint-" + id))
            .batchInterval(Duration.ofMillis(200))
            .set("direct.max-records-per-partition", 40)
            .source("in", source)
            .saveAsFiles(dir.resolve("out-" + id))
            .build();
    p.start();
    System.out.println("started " + id);
    new CountDownLatch(1).await(); // runs until the test kills this JVM
  }
}
