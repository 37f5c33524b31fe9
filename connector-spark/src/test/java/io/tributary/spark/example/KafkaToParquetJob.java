package io.tributary.spark.example;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

/**
 * The README's example job for {@code spark-submit}: reads a Kafka topic through {@code
 * format("tributary")} to its end (Trigger.AvailableNow) and writes each record's value, partition
 * and position as parquet. It uses only Spark's API: the Tributary classes come from {@code --jars}
 * or {@code --packages}. SparkSubmitIT packs it into {@code kafka-to-parquet-job.jar}.
 *
 * <p>Arguments: {@code <bootstrap-servers> <topic> <output directory>}; the checkpoint is {@code
 * <output directory>-checkpoint}.
 */
public final class KafkaToParquetJob {
  private KafkaToParquetJob() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: KafkaToParquetJob <bootstrap-servers> <topic> <output directory>");
      System.exit(2);
    }
    SparkSession spark = SparkSession.builder().appName("kafka-to-parquet").getOrCreate();
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
            .format("parquet")
            .option("path", args[2])
            .option("checkpointLocation", args[2] + "-checkpoint")
            .trigger(Trigger.AvailableNow())
            .start();
    q.awaitTermination();
    spark.stop();
  }
}
