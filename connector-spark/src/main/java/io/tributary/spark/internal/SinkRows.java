package io.tributary.spark.internal;

import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Position;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Turns the rows a query writes into {@code writeStream.format("tributary")} into Tributary {@link
 * Record}s. Accepted columns, by name (like Spark's Kafka sink): {@code value} (binary or string,
 * required), {@code key} (binary or string), {@code headers} ({@code array<struct<key: string,
 * value: binary>>}), {@code timestamp} (timestamp), {@code partition} and {@code position}
 * (strings; the record's source position, which the Kafka sink's {@code partitioning:
 * source-partition} routes by). The rows of {@code readStream.format("tributary")} have exactly
 * these columns.
 *
 * <p>Thread safety: immutable; {@link #toRecord} may run on many threads.
 */
public final class SinkRows implements Serializable {
  private static final long serialVersionUID = 1L;

  static final String ACCEPTED =
      "value (binary or string, required), key (binary or string), headers (array<struct<key:"
          + " string, value: binary>>), timestamp (timestamp), partition (string), position"
          + " (string)";

  private static final DataType HEADERS =
      new ArrayType(
          new StructType(
              new StructField[] {
                DataTypes.createStructField("key", DataTypes.StringType, true),
                DataTypes.createStructField("value", DataTypes.BinaryType, true)
              }),
          true);

  private final int value;
  private final boolean valueIsString;
  private final int key;
  private final boolean keyIsString;
  private final int headers;
  private final int timestamp;
  private final int partition;
  private final int position;

  private SinkRows(
      int value,
      boolean valueIsString,
      int key,
      boolean keyIsString,
      int headers,
      int timestamp,
      int partition,
      int position) {
    this.value = value;
    this.valueIsString = valueIsString;
    this.key = key;
    this.keyIsString = keyIsString;
    this.headers = headers;
    this.timestamp = timestamp;
    this.partition = partition;
    this.position = position;
  }

  /**
   * Checks the query's output schema, reporting every problem at once.
   *
   * @throws ConfigException naming each column that does not fit, with what is accepted
   */
  public static SinkRows of(StructType schema) {
    List<String> problems = new ArrayList<>();
    Map<String, Integer> index = new LinkedHashMap<>();
    StructField[] fields = schema.fields();
    for (int i = 0; i < fields.length; i++) {
      String name = fields[i].name().toLowerCase(java.util.Locale.ROOT);
      DataType t = fields[i].dataType();
      boolean ok =
          switch (name) {
            case "value", "key" -> t == DataTypes.BinaryType || t == DataTypes.StringType;
            case "headers" -> sameShape(t, HEADERS);
            case "timestamp" -> t == DataTypes.TimestampType;
            case "partition", "position" -> t == DataTypes.StringType;
            default -> false;
          };
      if (!ok) {
        problems.add(
            "Invalid column "
                + fields[i].name()
                + " "
                + t.simpleString()
                + " for writeStream.format(\"tributary\"): "
                + (isKnown(name) ? "wrong type" : "unknown column")
                + " (expected: the columns "
                + ACCEPTED
                + "; select or cast them, e.g. selectExpr(\"cast(id as string) key\","
                + " \"to_json(struct(*)) value\"))");
      } else {
        index.put(name, i);
      }
    }
    if (!index.containsKey("value") && problems.isEmpty()) {
      problems.add(
          "Missing column value for writeStream.format(\"tributary\") (expected: the columns "
              + ACCEPTED
              + ")");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    int v = index.get("value");
    int k = index.getOrDefault("key", -1);
    return new SinkRows(
        v,
        fields[v].dataType() == DataTypes.StringType,
        k,
        k >= 0 && fields[k].dataType() == DataTypes.StringType,
        index.getOrDefault("headers", -1),
        index.getOrDefault("timestamp", -1),
        index.getOrDefault("partition", -1),
        index.getOrDefault("position", -1));
  }

  private static boolean isKnown(String name) {
    return List.of("value", "key", "headers", "timestamp", "partition", "position").contains(name);
  }

  private static boolean sameShape(DataType a, DataType b) {
    // nullability does not matter
    return a.asNullable().sameType(b.asNullable())
        || (a instanceof ArrayType at
            && b instanceof ArrayType bt
            && at.elementType().asNullable().sameType(bt.elementType().asNullable()));
  }

  /**
   * The record of one row.
   *
   * @throws IllegalArgumentException when the row's value is null (a Tributary record always has a
   *     value)
   */
  public Record toRecord(InternalRow row) {
    if (row.isNullAt(value)) {
      throw new IllegalArgumentException(
          "A row written to writeStream.format(\"tributary\") has a null value (expected: a"
              + " non-null value in every row; filter them out, e.g. where(\"value is not null\"))");
    }
    byte[] v = valueIsString ? row.getUTF8String(value).getBytes() : row.getBinary(value);
    byte[] k = null;
    if (key >= 0 && !row.isNullAt(key)) {
      k = keyIsString ? row.getUTF8String(key).getBytes() : row.getBinary(key);
    }
    long ts = -1L;
    if (timestamp >= 0 && !row.isNullAt(timestamp)) {
      ts = Math.floorDiv(row.getLong(timestamp), 1000L); // microseconds to milliseconds
    }
    Map<String, byte[]> h = Map.of();
    if (headers >= 0 && !row.isNullAt(headers)) {
      ArrayData a = row.getArray(headers);
      if (a.numElements() > 0) {
        h = new LinkedHashMap<>();
        for (int i = 0; i < a.numElements(); i++) {
          InternalRow e = a.getStruct(i, 2);
          if (!e.isNullAt(0)) {
            h.put(e.getUTF8String(0).toString(), e.isNullAt(1) ? null : e.getBinary(1));
          }
        }
      }
    }
    SourcePosition pos = SourcePosition.NONE;
    if (partition >= 0 && !row.isNullAt(partition)) {
      Position p = Position.ZERO;
      if (position >= 0 && !row.isNullAt(position)) {
        String text = row.getUTF8String(position).toString();
        if (!text.isEmpty()) {
          p = Position.parse(text);
        }
      }
      pos = new SourcePosition("spark", row.getUTF8String(partition).toString(), p);
    }
    return new Record(k, v, ts, h, pos);
  }
}
