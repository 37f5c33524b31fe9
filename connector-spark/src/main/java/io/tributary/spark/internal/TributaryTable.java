package io.tributary.spark.internal;

import java.util.Set;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.streaming.MicroBatchStream;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * The table behind {@code format("tributary")}: readable as a micro-batch stream only, fixed schema
 * ({@link Rows#SCHEMA}).
 *
 * <p>Thread safety: immutable.
 */
public final class TributaryTable implements SupportsRead {
  private final SourceSpec spec;

  public TributaryTable(SourceSpec spec) {
    this.spec = spec;
  }

  @Override
  public String name() {
    return "tributary:" + spec.type();
  }

  @Override
  @SuppressWarnings("deprecation")
  public StructType schema() {
    return Rows.SCHEMA;
  }

  @Override
  public Set<TableCapability> capabilities() {
    return Set.of(TableCapability.MICRO_BATCH_READ);
  }

  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
    return () ->
        new Scan() {
          @Override
          public StructType readSchema() {
            return Rows.SCHEMA;
          }

          @Override
          public String description() {
            return spec.toString();
          }

          @Override
          public MicroBatchStream toMicroBatchStream(String checkpointLocation) {
            return new TributaryMicroBatchStream(spec, checkpointLocation);
          }
        };
  }
}
