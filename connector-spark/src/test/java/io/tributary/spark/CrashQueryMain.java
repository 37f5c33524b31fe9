package io.tributary.spark;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

/**
 * The Spark query that {@link SparkQueryKillIT} runs in a child JVM and SIGKILLs: the Tributary
 * Kafka source into the Tributary Kafka sink ({@code writeStream.format("tributary")}). Arguments:
 * bootstrap servers, input topic, output topic, checkpoint directory, {@code continuous} or {@code
 * available-now}, records per trigger. Exits when its standard input closes (the test JVM died), so
 * no query outlives the test.
 */
public final class CrashQueryMain {
  private CrashQueryMain() {}

  public static void main(String[] args) throws Exception {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // the parent never writes; end of stream means it is gone
                }
              } catch (java.io.IOException ignored) {
                // same: the parent is gone
              }
              Runtime.getRuntime().halt(3);
            },
            "crash-query-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("tributary-crash-query")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    boolean availableNow = args[4].equals("available-now");
    StreamingQuery q =
        spark
            .readStream()
            .format("tributary")
            .option("source.type", "kafka")
            .option("bootstrap-servers", args[0])
            .option("topics", args[1])
            .option("starting-position", "earliest")
            .option("maxRecordsPerTrigger", args[5])
            .load()
            .writeStream()
            .format("tributary")
            .option("sink.type", "kafka")
            .option("bootstrap-servers", args[0])
            .option("topic", args[2])
            .option("partitioning", "source-partition")
            .option("checkpointLocation", args[3])
            .trigger(availableNow ? Trigger.AvailableNow() : Trigger.ProcessingTime(0))
            .start();
    q.awaitTermination();
    if (q.exception().isDefined()) {
      q.exception().get().printStackTrace();
      System.exit(2);
    }
    spark.stop();
    System.exit(0);
  }
}
