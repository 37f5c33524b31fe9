package io.tributary.connector.kafka;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Secrets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every configuration key of the Kafka sources ({@code type: kafka} and {@code type: kafka-group}
 * under {@code source:}) and the Kafka sinks ({@code type: kafka} and {@code kafka-at-least-once}
 * under {@code sinks:}), declared once.
 *
 * <p>Client settings that have no key of their own (TLS, SASL, timeouts) pass through to every
 * Kafka client the component creates: as {@code kafka.<name>: value} keys ({@link #KAFKA},
 * preferred; a nested YAML mapping under {@code kafka:} works too) or as {@code name=value} entries
 * of {@link #CLIENT_PROPERTIES} (older form; {@code kafka.} keys win when both set a name). Their
 * values may be secrets: both options are sensitive per entry, so wherever settings are shown
 * (errors, logs, {@code toString}) the value of every secret name ({@link Secrets#isSecretName}:
 * passwords, keys, tokens, {@code sasl.*} such as {@code sasl.jaas.config}) is masked.
 *
 * <p>Thread safety: immutable constants.
 */
public final class KafkaOptions {
  private KafkaOptions() {}

  /** Where a partition without a checkpointed position starts. */
  public enum StartingPosition {
    /** The log start offset: everything still retained. */
    EARLIEST,
    /**
     * The end of the log when the partition is first seen; partitions discovered later start at
     * earliest.
     */
    LATEST,
    /**
     * The first offset whose record timestamp is at or after {@code starting-timestamp} (the end if
     * none is).
     */
    TIMESTAMP,
    /** The offsets listed in {@code starting-offsets}; partitions not listed start at earliest. */
    OFFSETS
  }

  /** Which records the source sees. */
  public enum Isolation {
    /**
     * Only committed transactional records (and all non-transactional ones); end offsets are the
     * LSO.
     */
    READ_COMMITTED,
    /** Every record, including those of open and aborted transactions. */
    READ_UNCOMMITTED
  }

  /** How the sink picks the partition of an output record. */
  public enum Partitioning {
    /** Kafka's default partitioner: by key hash, records without key spread by the producer. */
    KEY,
    /**
     * The partition number the record was read from (its {@code SourcePosition} partition {@code
     * topic-N}).
     */
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
          .validate(
              v ->
                  v.isEmpty()
                      ? "must name at least one topic (expected: a list of topic names)"
                      : null)
          .description(
              "Topics to read; every partition of each, including partitions added later.");

  public static final ConfigOption<StartingPosition> STARTING_POSITION =
      ConfigOption.enumValue("starting-position", StartingPosition.class)
          .defaultValue(StartingPosition.LATEST)
          .description(
              "Where a partition without a checkpointed (kafka-group: committed) position starts: earliest, latest,"
                  + " timestamp (see starting-timestamp) or offsets (see starting-offsets). Partitions that appear after"
                  + " the pipeline started always start at earliest, so nothing written to them is missed.");

  public static final ConfigOption<String> STARTING_TIMESTAMP =
      ConfigOption.string("starting-timestamp")
          .validate(KafkaOptions::checkTimestamp)
          .description(
              "With starting-position: timestamp, the instant to start from: epoch milliseconds or ISO-8601 such as"
                  + " 2026-01-31T12:00:00Z. Each partition starts at its first record at or after it.");

  public static final ConfigOption<List<String>> STARTING_OFFSETS =
      ConfigOption.stringList("starting-offsets")
          .defaultValue(List.of())
          .validate(KafkaOptions::checkStartingOffsets)
          .description(
              "With starting-position: offsets, entries topic-N=offset such as clicks-0=1200; partitions not listed"
                  + " start at earliest.");

  public static final ConfigOption<String> COMMIT_GROUP_ID =
      ConfigOption.string("commit-group-id")
          .validate(ConfigOption.nonBlank())
          .description(
              "If set, the offsets of each committed batch are also committed to this consumer group, only so that"
                  + " lag monitoring tools see the progress; the checkpoint stays the truth and the group is never"
                  + " read. Unset (default): nothing is committed to Kafka.");

  public static final ConfigOption<String> GROUP_ID =
      ConfigOption.string("group-id")
          .required()
          .validate(ConfigOption.nonBlank())
          .description(
              "Consumer group whose members share the topics' partitions; every instance of the pipeline uses the"
                  + " same group-id and its own pipeline id and checkpoint.");

  public static final ConfigOption<Duration> GROUP_JOIN_TIMEOUT =
      ConfigOption.duration("group-join-timeout")
          .defaultValue(Duration.ofSeconds(30))
          .validate(ConfigOption.positive())
          .description(
              "How long open() waits for the first partition assignment (without one the source starts with no"
                  + " partitions and takes them at a later rebalance), and how long a batch whose offset commit met a"
                  + " rebalance waits for it to complete before the batch fails.");

  public static final ConfigOption<Map<String, String>> KAFKA =
      ConfigOption.prefixed("kafka.")
          .validateEachEntry(
              io.tributary.connector.kafka.internal.ClientSettingsCheck::entryProblem)
          .description(
              "Any Kafka client setting, passed to every client of this component, e.g. kafka.security.protocol:"
                  + " SASL_SSL or kafka.ssl.truststore.location. Settings Tributary fixes itself (serializers,"
                  + " transactional.id, isolation.level, enable.auto.commit, ...) cannot be overridden. Values of"
                  + " secret names (passwords, keys, tokens, sasl.*) are never shown.");

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

  public static final ConfigOption<Duration> CONNECT_TIMEOUT =
      ConfigOption.duration("connect-timeout")
          .defaultValue(Duration.ofSeconds(15))
          .validate(ConfigOption.positive())
          .description(
              "How long open() waits for a bootstrap address to answer as a Kafka listener before the start"
                  + " fails, naming each address and what it answered (connection refused, no answer). Each"
                  + " address is probed first with one Kafka ApiVersions request: a peer of the wrong kind (an"
                  + " HTTP server, a TLS listener with a plaintext kafka.security.protocol, or the reverse) fails"
                  + " the start at once.");

  public static final ConfigOption<List<String>> CLIENT_PROPERTIES =
      ConfigOption.stringList("client-properties")
          .defaultValue(List.of())
          .sensitiveEntries()
          .validate(KafkaOptions::checkClientProperties)
          .description(
              "Extra Kafka client settings as name=value entries, e.g. security.protocol=SASL_SSL (values of secret"
                  + " names are never shown).");

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

  public static final ConfigOption<Duration> MARKER_READ_TIMEOUT =
      ConfigOption.duration("marker-read-timeout")
          .defaultValue(Duration.ofSeconds(120))
          .validate(ConfigOption.positive())
          .description(
              "How long reading the marker topic (at open and after a failed transaction) waits for transactions"
                  + " of other producers on it to end: the read must see every marker committed before it, and an"
                  + " open transaction hides what follows it. Then the attempt fails as retriable, naming the"
                  + " producer that holds it. Longer than the transaction-timeout of the other sinks on the topic.");

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
          BOOTSTRAP_SERVERS,
          TOPICS,
          STARTING_POSITION,
          STARTING_TIMESTAMP,
          STARTING_OFFSETS,
          ISOLATION,
          MAX_POLL_RECORDS,
          READ_TIMEOUT,
          COMMIT_GROUP_ID,
          CONNECT_TIMEOUT,
          KAFKA,
          CLIENT_PROPERTIES);

  /** The keys of the group-managed Kafka source. */
  public static final ConfigSpec GROUP_SOURCE =
      ConfigSpec.of(
          BOOTSTRAP_SERVERS,
          TOPICS,
          GROUP_ID,
          STARTING_POSITION,
          STARTING_TIMESTAMP,
          STARTING_OFFSETS,
          ISOLATION,
          MAX_POLL_RECORDS,
          READ_TIMEOUT,
          GROUP_JOIN_TIMEOUT,
          CONNECT_TIMEOUT,
          KAFKA,
          CLIENT_PROPERTIES);

  /** The keys of the transactional Kafka sink. */
  public static final ConfigSpec SINK =
      ConfigSpec.of(
          BOOTSTRAP_SERVERS,
          TOPIC,
          PARTITIONING,
          MARKER_TOPIC,
          MARKER_READ_TIMEOUT,
          TRANSACTIONAL_ID_PREFIX,
          TRANSACTION_TIMEOUT,
          CONNECT_TIMEOUT,
          KAFKA,
          CLIENT_PROPERTIES);

  /** The keys of the at-least-once Kafka sink. */
  public static final ConfigSpec AT_LEAST_ONCE_SINK =
      ConfigSpec.of(
          BOOTSTRAP_SERVERS, TOPIC, PARTITIONING, CONNECT_TIMEOUT, KAFKA, CLIENT_PROPERTIES);

  /**
   * The pass-through client settings of {@code config} as a map, in order: {@link
   * #CLIENT_PROPERTIES} entries, then {@link #KAFKA} keys (which win).
   */
  public static Map<String, String> clientProperties(Config config) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String entry : config.get(CLIENT_PROPERTIES)) {
      int eq = entry.indexOf('=');
      out.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
    }
    out.putAll(config.get(KAFKA));
    return out;
  }

  /** Parses a {@link #STARTING_TIMESTAMP} value: epoch milliseconds or an ISO-8601 instant. */
  public static long parseTimestamp(String value) {
    String v = value.trim();
    if (v.chars().allMatch(Character::isDigit)) {
      return Long.parseLong(v);
    }
    return java.time.Instant.parse(v).toEpochMilli();
  }

  /** Parses {@link #STARTING_OFFSETS} entries into partition id ({@code topic-N}) to offset. */
  public static Map<String, Long> startingOffsets(Config config) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String e : config.get(STARTING_OFFSETS)) {
      int eq = e.lastIndexOf('=');
      out.put(e.substring(0, eq).trim(), Long.parseLong(e.substring(eq + 1).trim()));
    }
    return out;
  }

  /**
   * Cross-key checks of the starting position: timestamp needs {@link #STARTING_TIMESTAMP}, offsets
   * needs {@link #STARTING_OFFSETS}.
   *
   * @throws io.tributary.core.api.ConfigException naming the missing key
   */
  static void checkStartingPosition(Config config) {
    StartingPosition sp = config.get(STARTING_POSITION);
    if (sp == StartingPosition.TIMESTAMP && config.get(STARTING_TIMESTAMP) == null) {
      throw new io.tributary.core.api.ConfigException(
          "Missing key starting-timestamp: starting-position is timestamp (expected: epoch milliseconds or an ISO-8601"
              + " instant such as 2026-01-31T12:00:00Z)");
    }
    if (sp == StartingPosition.OFFSETS && config.get(STARTING_OFFSETS).isEmpty()) {
      throw new io.tributary.core.api.ConfigException(
          "Missing key starting-offsets: starting-position is offsets (expected: entries topic-N=offset)");
    }
  }

  private static String checkTimestamp(String v) {
    try {
      parseTimestamp(v);
      return null;
    } catch (RuntimeException e) {
      return "not a timestamp (expected: epoch milliseconds or an ISO-8601 instant such as 2026-01-31T12:00:00Z)";
    }
  }

  private static String checkStartingOffsets(List<String> entries) {
    for (String e : entries) {
      int eq = e.lastIndexOf('=');
      int dash = eq < 0 ? -1 : e.lastIndexOf('-', eq);
      boolean ok = eq > 0 && dash > 0;
      if (ok) {
        try {
          Integer.parseInt(e.substring(dash + 1, eq).trim());
          ok = Long.parseLong(e.substring(eq + 1).trim()) >= 0;
        } catch (NumberFormatException ex) {
          ok = false;
        }
      }
      if (!ok) {
        return "entry " + e + " is not topic-N=offset (expected: entries such as clicks-0=1200)";
      }
    }
    return null;
  }

  private static String checkClientProperties(List<String> entries) {
    Map<String, String> parsed = new LinkedHashMap<>();
    for (int i = 0; i < entries.size(); i++) {
      int eq = entries.get(i).indexOf('=');
      if (eq <= 0) {
        // Report the entry by position only: without '=' its name cannot be told from a secret
        // value.
        String what = "entry " + (i + 1) + (eq < 0 ? " (without '=')" : " (with an empty name)");
        return what + " is not name=value (expected: entries such as security.protocol=SSL)";
      }
      parsed.put(entries.get(i).substring(0, eq).trim(), entries.get(i).substring(eq + 1).trim());
    }
    return io.tributary.connector.kafka.internal.ClientSettingsCheck.problem(parsed);
  }
}
