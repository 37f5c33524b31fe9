package io.tributary.spark.internal;

import io.tributary.core.api.Record;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The rows of {@code format("tributary")}, shaped like Spark's Kafka source: {@code key} and {@code
 * value} as binary, the Tributary {@code partition} and {@code position} (the position's text form,
 * e.g. {@code 42} or {@code 4959...#3}), the event {@code timestamp} (null when the source has
 * none) and {@code headers}.
 *
 * <p>Thread safety: stateless.
 */
public final class Rows {
  private Rows() {}

  /** The fixed schema. */
  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("key", DataTypes.BinaryType, true),
            DataTypes.createStructField("value", DataTypes.BinaryType, false),
            DataTypes.createStructField("partition", DataTypes.StringType, false),
            DataTypes.createStructField("position", DataTypes.StringType, false),
            DataTypes.createStructField("timestamp", DataTypes.TimestampType, true),
            DataTypes.createStructField(
                "headers",
                new ArrayType(
                    new StructType(
                        new StructField[] {
                          DataTypes.createStructField("key", DataTypes.StringType, false),
                          DataTypes.createStructField("value", DataTypes.BinaryType, true)
                        }),
                    false),
                false)
          });

  private static final GenericArrayData NO_HEADERS = new GenericArrayData(new Object[0]);

  static InternalRow toRow(Record r, String partition) {
    Object[] headers;
    GenericArrayData h;
    if (r.headers().isEmpty()) {
      h = NO_HEADERS;
    } else {
      headers = new Object[r.headers().size()];
      int i = 0;
      for (Map.Entry<String, byte[]> e : r.headers().entrySet()) {
        headers[i++] =
            new GenericInternalRow(new Object[] {UTF8String.fromString(e.getKey()), e.getValue()});
      }
      h = new GenericArrayData(headers);
    }
    boolean none = r.position().isNone();
    String position = none ? "" : r.position().position().toString();
    String part = none || r.position().partition().isEmpty() ? partition : r.position().partition();
    return new GenericInternalRow(
        new Object[] {
          r.key(),
          r.value(),
          UTF8String.fromString(part),
          UTF8String.fromString(position),
          r.timestamp() < 0 ? null : r.timestamp() * 1000L,
          h
        });
  }
}
