package io.tributary.spark;

import io.tributary.core.api.ConfigException;
import io.tributary.spark.internal.Rows;
import io.tributary.spark.internal.SinkSpec;
import io.tributary.spark.internal.SourceSpec;
import io.tributary.spark.internal.TributarySinkTable;
import io.tributary.spark.internal.TributaryTable;
import java.util.Map;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * {@code spark.readStream.format("tributary")}: any Tributary direct source (kafka, files, kinesis,
 * ...) as a Structured Streaming source. Registered with Spark through {@code
 * META-INF/services/org.apache.spark.sql.sources.DataSourceRegister}.
 *
 * <pre>{@code
 * Dataset<Row> df = spark.readStream().format("tributary")
 *     .option("source.type", "kafka")
 *     .option("bootstrap-servers", "broker:9092")
 *     .option("topics", "clicks")
 *     .option("maxRecordsPerTrigger", "100000")
 *     .load();   // key, value, partition, position, timestamp, headers
 * }</pre>
 *
 * <p>Options are {@link TributarySparkOptions} plus the source type's own, checked by the
 * connector's declarations when {@code load()} is called: every problem is reported at once in a
 * {@link ConfigException}, in the same words as the gateway's.
 *
 * <p>Guarantee: the ranges of each micro-batch are in Spark's offset log before any task reads
 * them, and a Tributary direct source reads the same records for the same range every time, so a
 * query restarted from its checkpoint writes each record exactly once into an idempotent sink
 * (Spark's file sink, or {@code foreachBatch} writing by batch id).
 *
 * <p>{@code df.writeStream().format("tributary").option("sink.type", "kafka")} writes a streaming
 * query's rows ({@code value}, optional {@code key}, {@code headers}, {@code timestamp}) through a
 * Tributary sink, each task in its own transaction with a {@code (query, partition) -> epoch}
 * marker: exactly-once into Kafka for a query whose epochs are deterministic (see the module's
 * README for the exact guarantee). Append mode only.
 *
 * <p>Thread safety: stateless; Spark may call it from any thread.
 */
public final class TributaryDataSource implements TableProvider, DataSourceRegister {
  @Override
  public String shortName() {
    return "tributary";
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    if (SinkSpec.isSink(options.asCaseSensitiveMap())) {
      SinkSpec.parse(options.asCaseSensitiveMap());
      return Rows.SCHEMA;
    }
    SourceSpec.parse(options.asCaseSensitiveMap());
    return Rows.SCHEMA;
  }

  @Override
  public Table getTable(
      StructType schema, Transform[] partitioning, Map<String, String> properties) {
    if (SinkSpec.isSink(properties)) {
      return new TributarySinkTable(SinkSpec.parse(properties));
    }
    if (schema != null && !schema.equals(Rows.SCHEMA)) {
      throw new ConfigException(
          "Invalid schema "
              + schema.simpleString()
              + " for format(\"tributary\"): the schema is fixed (expected: no .schema(...), the"
              + " columns are "
              + Rows.SCHEMA.simpleString()
              + ")");
    }
    return new TributaryTable(SourceSpec.parse(properties));
  }
}
