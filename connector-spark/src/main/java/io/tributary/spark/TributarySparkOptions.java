package io.tributary.spark;

import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.util.Set;

/**
 * The options of {@code spark.readStream.format("tributary")} and {@code
 * writeStream.format("tributary")} themselves. Every other option is the chosen source or sink
 * type's own, declared by its connector and validated by the same declarations as in the gateway.
 *
 * <p>Thread safety: constants only.
 */
public final class TributarySparkOptions {
  private TributarySparkOptions() {}

  /** The Tributary source type. */
  public static final ConfigOption<String> SOURCE_TYPE =
      ConfigOption.string("source.type")
          .required()
          .validate(ConfigOption.nonBlank())
          .description(
              "The Tributary source type, e.g. kafka, files, kinesis: any direct source whose"
                  + " connector jar is on the class path");

  /** The source's name: names its state and its client ids. */
  public static final ConfigOption<String> SOURCE_NAME =
      ConfigOption.string("source.name")
          .defaultValue("tributary")
          .validate(ConfigOption.nonBlank())
          .description(
              "The source's name, as in a gateway pipeline: names its client ids and meters; its"
                  + " state lives in the query's checkpoint");

  /** The pipeline id the source sees (client ids, meters). */
  public static final ConfigOption<String> PIPELINE_ID =
      ConfigOption.string("pipeline.id")
          .defaultValue("spark")
          .validate(ConfigOption.nonBlank())
          .description("The pipeline id the source sees (client ids, meter tags)");

  /** Admission control: positions per micro-batch. */
  public static final ConfigOption<Long> MAX_RECORDS_PER_TRIGGER =
      ConfigOption.longValue("maxRecordsPerTrigger")
          .validate(ConfigOption.atLeast(1))
          .description(
              "At most this many positions per micro-batch over all partitions, split by lag (a"
                  + " position is a record for kafka and kinesis, a file or file split for files);"
                  + " unset: no limit");

  /** Admission control: approximate bytes per micro-batch. */
  public static final ConfigOption<Long> MAX_BYTES_PER_TRIGGER =
      ConfigOption.size("maxBytesPerTrigger")
          .validate(ConfigOption.atLeast(1))
          .description(
              "About this many bytes (keys, values, headers) per micro-batch: exact for sources that"
                  + " fix a range's end by reading (kinesis), else converted to positions with the average bytes per"
                  + " position read so far; unset: no limit");

  /** Every option of the adapter. */
  public static final ConfigSpec SPEC =
      ConfigSpec.of(
          SOURCE_TYPE, SOURCE_NAME, PIPELINE_ID, MAX_RECORDS_PER_TRIGGER, MAX_BYTES_PER_TRIGGER);

  /** The Tributary sink type of {@code writeStream.format("tributary")}. */
  public static final ConfigOption<String> SINK_TYPE =
      ConfigOption.string("sink.type")
          .required()
          .validate(ConfigOption.nonBlank())
          .description(
              "The Tributary sink type, e.g. kafka (exactly-once, transactional) or"
                  + " kafka-at-least-once: a transactional or at-least-once sink whose connector jar is"
                  + " on the class path");

  /** The sink's name: part of its transactional ids and markers. */
  public static final ConfigOption<String> SINK_NAME =
      ConfigOption.string("sink.name")
          .defaultValue("tributary")
          .validate(ConfigOption.nonBlank())
          .description(
              "The sink's name: each task writes as sink <sink.name>-p<partition> of pipeline"
                  + " spark-<query id> (the Kafka sink's transactional.id and marker key); keep it"
                  + " stable across restarts of the query");

  /** Every option of {@code writeStream.format("tributary")} itself. */
  public static final ConfigSpec SINK_SPEC = ConfigSpec.of(SINK_TYPE, SINK_NAME);

  /** Names of the sink adapter's own options (never passed to the sink). */
  public static final Set<String> SINK_NAMES = Set.of(SINK_TYPE.name(), SINK_NAME.name());

  /** Names of the adapter's own options (never passed to the source). */
  public static final Set<String> NAMES =
      Set.of(
          SOURCE_TYPE.name(),
          SOURCE_NAME.name(),
          PIPELINE_ID.name(),
          MAX_RECORDS_PER_TRIGGER.name(),
          MAX_BYTES_PER_TRIGGER.name());
}
