package io.tributary.spark.example;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

/**
 * The README's example job for {@code spark-submit}: reads a Kafka topic through {@code
 * format("tributary")} to its end (Trigger.AvailableNow) and writes each record's value, partition
 * and position as JSON lines (Spark's file sink: exactly-once through its {@code _spark_metadata}
 * log). It uses only Spark's API: the Tributary classes come from {@code --jars} or {@code
 * --packages}. SparkSubmitIT packs it into {@code kafka-to-json-job.jar}.
 *
 * <p>Arguments: {@code <bootstrap-servers> <topic> <output directory>}; the checkpoint is {@code
 * <output directory>-checkpoint}.
 */
public final class KafkaToJsonJob {
  private KafkaToJsonJob() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: KafkaToJsonJob <bootstrap-servers> <topic> <output directory>");
      System.exit(2);
    }
    SparkSession spark = SparkSession.builder().appName("kafka-to-json").getOrCreate();
    StreamingQuery q =
        spark
            .readStream()
            .format("tributary")
            .option("source.type", "kafka")
            .option("bootstrap-servers", args[0])
            .option("topics", args[1])
            .option("starting-position", "earliest")
            .load()
            .selectExpr("cast(value as string) value", "partition", "position")
            .writeStream()
            .format("json")
            .option("path", args[2])
            .option("checkpointLocation", args[2] + "-checkpoint")
            .trigger(Trigger.AvailableNow())
            .start();
    q.awaitTermination();
    spark.stop();
  }
}
