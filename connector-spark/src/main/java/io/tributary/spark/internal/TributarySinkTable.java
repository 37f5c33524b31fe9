package io.tributary.spark.internal;

import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.streaming.ReportsSinkMetrics;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.connector.write.streaming.StreamingWrite;
import org.apache.spark.sql.types.StructType;

/**
 * The table behind {@code writeStream.format("tributary")}: a streaming write in append mode only
 * (a Tributary sink appends records; there is nothing to update or truncate).
 *
 * <p>Thread safety: Spark calls it from the query thread; {@link #metrics()} may be read from any.
 */
public final class TributarySinkTable implements SupportsWrite, ReportsSinkMetrics {
  private final SinkSpec spec;
  private volatile Map<String, String> lastEpoch = Map.of();

  public TributarySinkTable(SinkSpec spec) {
    this.spec = spec;
  }

  @Override
  public String name() {
    return "tributary-sink:" + spec.type();
  }

  @Override
  @SuppressWarnings("deprecation")
  public StructType schema() {
    return Rows.SCHEMA;
  }

  @Override
  public Set<TableCapability> capabilities() {
    return Set.of(TableCapability.STREAMING_WRITE);
  }

  /**
   * The last committed epoch's {@code recordsWritten} and {@code recordsSkippedAsCommitted} (rows
   * of a re-run epoch whose partition had committed before), in the query progress.
   */
  @Override
  public Map<String, String> metrics() {
    return lastEpoch;
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    SinkRows rows = SinkRows.of(info.schema()); // column problems fail start(), not a task
    String queryId = info.queryId();
    return new WriteBuilder() {
      @Override
      public Write build() {
        return new Write() {
          @Override
          public String description() {
            return spec.toString();
          }

          @Override
          public StreamingWrite toStreaming() {
            return new TributaryStreamingWrite(spec, rows, queryId, m -> lastEpoch = m);
          }
        };
      }
    };
  }
}
