package io.tributary.connector.kafka;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every configuration key of the Kafka source ({@code type: kafka} under {@code source:}) and the Kafka sink ({@code
 * type: kafka} under {@code sinks:}), declared once.
 *
 * <p>Client settings that have no key of their own (TLS, SASL, timeouts) are passed through {@link #CLIENT_PROPERTIES}
 * as {@code name=value} entries. Their values may be secrets: Tributary never logs them.
 *
 * <p>Thread safety: immutable constants.
 */
public final class KafkaOptions {
  private KafkaOptions() {}

  /** Where a partition without a checkpointed position starts. */
  public enum StartingPosition {
    /** The log start offset: everything still retained. */
    EARLIEST,
    /** The end of the log when the partition is first seen; partitions discovered later start at earliest. */
    LATEST
  }

  /** Which records the source sees. */
  public enum Isolation {
    /** Only committed transactional records (and all non-transactional ones); end offsets are the LSO. */
    READ_COMMITTED,
    /** Every record, including those of open and aborted transactions. */
    READ_UNCOMMITTED
  }

  /** How the sink picks the partition of an output record. */
  public enum Partitioning {
    /** Kafka's default partitioner: by key hash, records without key spread by the producer. */
    KEY,
    /** The partition number the record was read from (its {@code SourcePosition} partition {@code topic-N}). */
    SOURCE_PARTITION
  }

  public static final ConfigOption<String> BOOTSTRAP_SERVERS =
      ConfigOption.string("bootstrap-servers")
          .required()
          .validate(ConfigOption.nonBlank())
          .description("Comma-separated host:port list of Kafka brokers to bootstrap from.");

  public static final ConfigOption<List<String>> TOPICS =
      ConfigOption.stringList("topics")
          .required()
          .validate(v -> v.isEmpty() ? "must name at least one topic (expected: a list of topic names)" : null)
          .description("Topics to read; every partition of each, including partitions added later.");

  public static final ConfigOption<StartingPosition> STARTING_POSITION =
      ConfigOption.enumValue("starting-position", StartingPosition.class)
          .defaultValue(StartingPosition.LATEST)
          .description(
              "Where a partition without a checkpointed position starts: earliest or latest. Partitions that appear"
                  + " after the pipeline started always start at earliest, so nothing written to them is missed.");

  public static final ConfigOption<Isolation> ISOLATION =
      ConfigOption.enumValue("isolation", Isolation.class)
          .defaultValue(Isolation.READ_COMMITTED)
          .description(
              "read_committed skips aborted transactions and plans only up to the last stable offset;"
                  + " read_uncommitted reads everything.");

  public static final ConfigOption<Integer> MAX_POLL_RECORDS =
      ConfigOption.integer("max-poll-records")
          .defaultValue(2000)
          .validate(ConfigOption.atLeast(1))
          .description("Most records one consumer poll returns while reading a planned range.");

  public static final ConfigOption<Duration> READ_TIMEOUT =
      ConfigOption.duration("read-timeout")
          .defaultValue(Duration.ofSeconds(120))
          .validate(ConfigOption.positive())
          .description(
              "How long reading a planned range may make no progress before the batch fails (the batch is then"
                  + " replayed on restart).");

  public static final ConfigOption<List<String>> CLIENT_PROPERTIES =
      ConfigOption.stringList("client-properties")
          .defaultValue(List.of())
          .validate(KafkaOptions::checkClientProperties)
          .description(
              "Extra Kafka client settings as name=value entries, e.g. security.protocol=SASL_SSL (values are never"
                  + " logged).");

  public static final ConfigOption<String> TOPIC =
      ConfigOption.string("topic")
          .required()
          .validate(ConfigOption.nonBlank())
          .description("Topic the sink writes to.");

  public static final ConfigOption<Partitioning> PARTITIONING =
      ConfigOption.enumValue("partitioning", Partitioning.class)
          .defaultValue(Partitioning.KEY)
          .description(
              "key: by record key (Kafka's default partitioner); source-partition: the partition number the record"
                  + " was read from (the output topic needs at least as many partitions).");

  public static final ConfigOption<String> MARKER_TOPIC =
      ConfigOption.string("marker-topic")
          .defaultValue("__tributary_markers")
          .validate(ConfigOption.nonBlank())
          .description(
              "Compacted topic where each transaction also writes (pipeline, sink, batch id); created with one"
                  + " partition if missing.");

  public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
      ConfigOption.string("transactional-id-prefix")
          .defaultValue("tributary")
          .validate(ConfigOption.nonBlank())
          .description(
              "Prefix of the producer's transactional.id, which is <prefix>-<pipeline>-<sink>. Must be stable across"
                  + " restarts and unique per running pipeline.");

  public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
      ConfigOption.duration("transaction-timeout")
          .defaultValue(Duration.ofSeconds(60))
          .validate(ConfigOption.positive())
          .description(
              "transaction.timeout.ms of the producer: longer than the slowest batch write, at most the broker's"
                  + " transaction.max.timeout.ms.");

  /** The keys of the Kafka direct source. */
  public static final ConfigSpec SOURCE =
      ConfigSpec.of(
          BOOTSTRAP_SERVERS, TOPICS, STARTING_POSITION, ISOLATION, MAX_POLL_RECORDS, READ_TIMEOUT, CLIENT_PROPERTIES);

  /** The keys of the transactional Kafka sink. */
  public static final ConfigSpec SINK =
      ConfigSpec.of(
          BOOTSTRAP_SERVERS,
          TOPIC,
          PARTITIONING,
          MARKER_TOPIC,
          TRANSACTIONAL_ID_PREFIX,
          TRANSACTION_TIMEOUT,
          CLIENT_PROPERTIES);

  /** The keys of the at-least-once Kafka sink. */
  public static final ConfigSpec AT_LEAST_ONCE_SINK = ConfigSpec.of(BOOTSTRAP_SERVERS, TOPIC, PARTITIONING, CLIENT_PROPERTIES);

  /** The {@link #CLIENT_PROPERTIES} of {@code config} as a map, in order. */
  public static Map<String, String> clientProperties(Config config) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String entry : config.get(CLIENT_PROPERTIES)) {
      int eq = entry.indexOf('=');
      out.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
    }
    return out;
  }

  private static String checkClientProperties(List<String> entries) {
    for (String e : entries) {
      int eq = e.indexOf('=');
      if (eq <= 0) {
        // Report only the name part: the value may be a secret.
        String name = eq < 0 ? "(entry without '=')" : "(entry with empty name)";
        return name + " is not name=value (expected: entries such as security.protocol=SSL)";
      }
    }
    return null;
  }
}
