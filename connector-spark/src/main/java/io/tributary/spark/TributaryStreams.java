package io.tributary.spark;

import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Receiver;
import io.tributary.spark.internal.SourceSpec;
import io.tributary.spark.internal.SparkReceiverAdapter;
import io.tributary.spark.internal.TributaryDirectDStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.streaming.api.java.JavaInputDStream;
import org.apache.spark.streaming.api.java.JavaReceiverInputDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;

/**
 * Tributary sources as Spark Streaming DStreams (the {@code spark-streaming} API, still shipped in
 * Spark 4): a direct stream over any direct source ({@code KafkaUtils.createDirectStream}'s shape)
 * and any Tributary {@link Receiver} as a Spark receiver.
 *
 * <p>Thread safety: static factory methods; call them on the driver before {@code jssc.start()}.
 */
public final class TributaryStreams {
  /** The direct stream's option naming where its positions and the source's state are kept. */
  public static final String CHECKPOINT_LOCATION = "checkpoint.location";

  private TributaryStreams() {}

  /**
   * A direct stream: each batch interval reads the ranges the driver planned from the positions
   * reached, on the executors. Each RDD implements {@link HasTributaryOffsetRanges}; the stream
   * implements {@link CanCommitTributaryPositions}.
   *
   * @param options {@code source.type}, the source's own options, optionally {@code
   *     maxRecordsPerTrigger} / {@code maxBytesPerTrigger} (per batch), and {@value
   *     #CHECKPOINT_LOCATION}: a directory (local, or hdfs/s3a with tributary-connector-file) for
   *     the committed positions and the source's state
   * @throws ConfigException listing every problem with the options
   */
  public static JavaInputDStream<TributaryRecord> directStream(
      JavaStreamingContext jssc, Map<String, String> options) {
    Map<String, String> rest = new LinkedHashMap<>(options);
    String location = rest.remove(CHECKPOINT_LOCATION);
    if (location == null || location.isBlank()) {
      throw new ConfigException(
          "Missing required key "
              + CHECKPOINT_LOCATION
              + " for TributaryStreams.directStream (expected: a directory where the stream keeps"
              + " its committed positions and the source's state, e.g. /var/lib/app/tributary)");
    }
    SourceSpec spec = SourceSpec.parse(rest);
    TributaryDirectDStream stream = new TributaryDirectDStream(jssc.ssc(), spec, location);
    return new JavaInputDStream<>(stream, ClassTags.RECORD);
  }

  /**
   * Runs a Tributary receiver (socket, Flume, one written with the SDK) as a Spark receiver.
   * Reliable stores complete once Spark stored the block (and wrote it to its write-ahead log when
   * {@code spark.streaming.receiver.writeAheadLog.enable} is true); see {@link
   * SparkReceiverAdapter} for what Spark does not offer.
   *
   * @param receiver builds the receiver on the executor that runs it
   */
  public static JavaReceiverInputDStream<TributaryRecord> receiverStream(
      JavaStreamingContext jssc, SerializableReceiverSupplier receiver) {
    return receiverStream(jssc, receiver, StorageLevel.MEMORY_AND_DISK_SER_2());
  }

  /** As {@link #receiverStream(JavaStreamingContext, SerializableReceiverSupplier)}. */
  public static JavaReceiverInputDStream<TributaryRecord> receiverStream(
      JavaStreamingContext jssc, SerializableReceiverSupplier receiver, StorageLevel level) {
    return jssc.receiverStream(new SparkReceiverAdapter(receiver, level));
  }

  /**
   * Runs an installed receiver type ({@code source.type} plus its options, checked on the driver
   * with the connector's declarations).
   *
   * @throws ConfigException listing every problem with the options
   */
  public static JavaReceiverInputDStream<TributaryRecord> receiverStream(
      JavaStreamingContext jssc, Map<String, String> options) {
    SourceSpec.ReceiverSpec spec = SourceSpec.parseReceiver(options);
    return receiverStream(jssc, spec::build);
  }

  private static final class ClassTags {
    static final scala.reflect.ClassTag<TributaryRecord> RECORD =
        scala.reflect.ClassTag$.MODULE$.apply(TributaryRecord.class);
  }
}
