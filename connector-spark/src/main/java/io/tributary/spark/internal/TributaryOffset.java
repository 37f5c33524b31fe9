package io.tributary.spark.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.core.api.Position;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.connector.read.streaming.Offset;

/**
 * A Spark offset: the Tributary position reached in each partition, as human-readable JSON in
 * Spark's offset log, {@code {"version":1,"positions":{"topic-0":42,"shard-1":"4959...#3"}}}
 * (positions in their checkpoint form: a number, or text for 128-bit sequence numbers and
 * sub-sequences).
 *
 * <p>Thread safety: immutable.
 */
public final class TributaryOffset extends Offset {
  static final int VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<TreeMap<String, Position>> POSITIONS =
      new TypeReference<>() {};

  private final Map<String, Position> positions;

  public TributaryOffset(Map<String, Position> positions) {
    this.positions = Collections.unmodifiableMap(new TreeMap<>(positions));
  }

  /** Partition to position, sorted by partition. */
  public Map<String, Position> positions() {
    return positions;
  }

  @Override
  public String json() {
    try {
      Map<String, Object> doc = new LinkedHashMap<>(); // one text for one offset: fixed key order
      doc.put("version", VERSION);
      doc.put("positions", positions);
      return JSON.writeValueAsString(doc);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write offset " + positions, e);
    }
  }

  /**
   * Reads {@link #json()}'s form.
   *
   * @throws IllegalArgumentException naming the text when it is not such an offset
   */
  public static TributaryOffset parse(String json) {
    try {
      JsonNode root = JSON.readTree(json);
      if (root == null || !root.isObject() || !root.has("positions")) {
        throw new IllegalArgumentException(
            "Invalid tributary offset "
                + json
                + " (expected: {\"version\":1,\"positions\":{...}}; was the checkpoint written by"
                + " another source?)");
      }
      int version = root.path("version").asInt(-1);
      if (version != VERSION) {
        throw new IllegalArgumentException(
            "Invalid tributary offset "
                + json
                + ": version "
                + version
                + " (expected: "
                + VERSION
                + "; the checkpoint was written by another version of tributary-connector-spark)");
      }
      return new TributaryOffset(JSON.convertValue(root.get("positions"), POSITIONS));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "Invalid tributary offset " + json + ": " + e.getOriginalMessage(), e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TributaryOffset t && positions.equals(t.positions);
  }

  @Override
  public int hashCode() {
    return positions.hashCode();
  }

  @Override
  public String toString() {
    return json();
  }
}
