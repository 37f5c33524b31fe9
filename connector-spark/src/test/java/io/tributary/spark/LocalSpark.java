package io.tributary.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/**
 * One local[2] Spark session per test JVM, shared by every test class (a session costs seconds and
 * hundreds of MB; the machine has two cores). Spark stops it in its shutdown hook.
 */
final class LocalSpark {
  private static SparkSession session;

  private LocalSpark() {}

  static synchronized SparkSession session() {
    if (session == null) {
      try {
        Path warehouse = Files.createTempDirectory("tributary-spark-warehouse");
        session =
            SparkSession.builder()
                .master("local[2]")
                .appName("tributary-connector-spark-tests")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.warehouse.dir", warehouse.toString())
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.streaming.stopTimeout", "30s")
                // receivers' reliable stores go through Spark's write-ahead log
                .config("spark.streaming.receiver.writeAheadLog.enable", "true")
                .getOrCreate();
        session.sparkContext().setLogLevel("WARN");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return session;
  }
}
