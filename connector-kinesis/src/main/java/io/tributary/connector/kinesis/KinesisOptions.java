package io.tributary.connector.kinesis;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every configuration key of the Kinesis source ({@code type: kinesis} under {@code source:}) and
 * the Kinesis sink ({@code type: kinesis} under {@code sinks:}), declared once.
 *
 * <p>Thread safety: immutable constants.
 */
public final class KinesisOptions {
  private KinesisOptions() {}

  /** Where a shard without a checkpointed position starts. */
  public enum StartingPosition {
    /** The oldest record still retained in each shard. */
    TRIM_HORIZON,
    /**
     * Records that arrive after the pipeline first lists the shard (fixed as the listing's time, so
     * a replayed first batch reads the same records).
     */
    LATEST,
    /** The first record whose arrival time is at or after {@code starting-timestamp}. */
    AT_TIMESTAMP,
    /**
     * The sequence numbers of {@code starting-sequence-numbers} (inclusive); shards not listed
     * start at trim-horizon.
     */
    SEQUENCE_NUMBERS
  }

  /** What the source does when a planned position is older than the stream's retention. */
  public enum OnExpired {
    /** Fail the batch with DataUnavailableException (nothing is skipped silently). */
    FAIL,
    /** Continue at the oldest retained record, log a warning and count the gap. */
    SKIP
  }

  /** How the {@code kinesis} source receives records. */
  public enum Consumer {
    /** GetRecords (shared throughput of 2 MB/s and 5 calls/s per shard across all readers). */
    POLLING,
    /**
     * Enhanced fan-out: a registered stream consumer with SubscribeToShard over HTTP/2 (its own 2
     * MB/s per shard, records pushed as they arrive).
     */
    EFO
  }

  /** How the sink picks each record's partition key. */
  public enum PartitionKeySource {
    /** The record key (UTF-8); records without a key get a hash of their value. */
    KEY,
    /** The value of the header named by {@code partition-key-header}; a hash when absent. */
    HEADER,
    /** A hash of the record's value. */
    HASH
  }

  public static final ConfigOption<String> STREAM =
      ConfigOption.string("stream")
          .required()
          .validate(ConfigOption.nonBlank())
          .description("Name of the Kinesis data stream.");

  public static final ConfigOption<String> REGION =
      ConfigOption.string("region")
          .defaultValue("us-east-1")
          .validate(ConfigOption.nonBlank())
          .description("AWS region of the stream.");

  public static final ConfigOption<String> ENDPOINT =
      ConfigOption.string("endpoint")
          .validate(KinesisOptions::checkEndpoint)
          .description(
              "Endpoint URL instead of the region's (a VPC endpoint, a local Kinesis-compatible server such as"
                  + " http://127.0.0.1:4567). Unset: the region's AWS endpoint.");

  public static final ConfigOption<String> ACCESS_KEY_ID =
      ConfigOption.string("access-key-id")
          .validate(ConfigOption.nonBlank())
          .description(
              "Static credentials: access key id (with secret-access-key). Unset: the AWS SDK's default"
                  + " credentials chain (environment, profile, instance or container role).");

  public static final ConfigOption<String> SECRET_ACCESS_KEY =
      ConfigOption.string("secret-access-key")
          .sensitive()
          .validate(ConfigOption.nonBlank())
          .description("Static credentials: secret access key (never shown).");

  public static final ConfigOption<StartingPosition> STARTING_POSITION =
      ConfigOption.enumValue("starting-position", StartingPosition.class)
          .defaultValue(StartingPosition.LATEST)
          .description(
              "Where a shard without a checkpointed position starts: trim-horizon, latest, at-timestamp (see"
                  + " starting-timestamp) or sequence-numbers (see starting-sequence-numbers). It applies to the shards"
                  + " of the first listing; shards created later by resharding start at trim-horizon, after their"
                  + " parents are read to their end.");

  public static final ConfigOption<String> STARTING_TIMESTAMP =
      ConfigOption.string("starting-timestamp")
          .validate(KinesisOptions::checkTimestamp)
          .description(
              "With starting-position: at-timestamp, epoch milliseconds or ISO-8601 such as 2026-01-31T12:00:00Z.");

  public static final ConfigOption<List<String>> STARTING_SEQUENCE_NUMBERS =
      ConfigOption.stringList("starting-sequence-numbers")
          .defaultValue(List.of())
          .validate(KinesisOptions::checkSequenceNumbers)
          .description(
              "With starting-position: sequence-numbers, entries shardId=sequenceNumber (the record with that"
                  + " sequence number is the first read).");

  public static final ConfigOption<OnExpired> ON_EXPIRED =
      ConfigOption.enumValue("on-expired", OnExpired.class)
          .defaultValue(OnExpired.FAIL)
          .description(
              "A planned position past the stream's retention: fail (DataUnavailableException, the default) or"
                  + " skip to the oldest retained record with a warning, counted in"
                  + " tributary.kinesis.expired.gaps.");

  public static final ConfigOption<Integer> GET_RECORDS_LIMIT =
      ConfigOption.integer("get-records-limit")
          .defaultValue(10_000)
          .validate(ConfigOption.between(1, 10_000))
          .description(
              "Most records one GetRecords call returns (Kinesis's own maximum is 10000).");

  public static final ConfigOption<Duration> THROTTLE_BACKOFF =
      ConfigOption.duration("throttle-backoff")
          .defaultValue(Duration.ofMillis(200))
          .validate(ConfigOption.positive())
          .description(
              "First wait after a throttled call (ProvisionedThroughputExceeded, LimitExceeded); doubled per"
                  + " repeat up to 5 s. Throttled calls are counted (source: tributary.kinesis.throttled, sink: tributary.kinesis.sink.throttled).");

  public static final ConfigOption<Duration> READ_TIMEOUT =
      ConfigOption.duration("read-timeout")
          .defaultValue(Duration.ofSeconds(120))
          .validate(ConfigOption.positive())
          .description(
              "How long reading a planned range may make no progress (throttling, errors) before the batch"
                  + " fails; the batch is then retried or replayed with the same plan.");

  public static final ConfigOption<Duration> DEDUP_WINDOW =
      ConfigOption.duration("dedup-window")
          .defaultValue(Duration.ZERO)
          .description(
              "Drop records whose Tributary dedup id (written by the kinesis sink with dedup-ids: true) was seen"
                  + " earlier in the same shard, or in its parent shards (a copy written after a split or merge),"
                  + " within this span of arrival time; 0 (default) keeps every record."
                  + " Duplicates arise when the writing pipeline replays a batch after a crash.");

  public static final ConfigOption<Consumer> CONSUMER =
      ConfigOption.enumValue("consumer", Consumer.class)
          .defaultValue(Consumer.POLLING)
          .description(
              "polling (default): GetRecords. efo: enhanced fan-out, the source registers consumer-name on the"
                  + " stream and receives the open shards' records by SubscribeToShard over HTTP/2 (renewed every 5"
                  + " minutes from the last event); closed shards (after a split or merge) and replays of planned"
                  + " ranges are read with GetRecords. The endpoint must serve RegisterStreamConsumer and"
                  + " SubscribeToShard; the identity needs kinesis:RegisterStreamConsumer, DescribeStreamConsumer"
                  + " and SubscribeToShard.");

  public static final ConfigOption<String> CONSUMER_NAME =
      ConfigOption.string("consumer-name")
          .validate(KinesisOptions::checkConsumerName)
          .description(
              "With consumer: efo, the stream consumer's name (registered at open when missing, kept"
                  + " afterwards: deregister it yourself when the pipeline is retired). Unset: tributary-<pipeline"
                  + " id>. Two pipelines reading the same stream need different names (Kinesis allows one"
                  + " subscription per consumer and shard).");

  public static final ConfigOption<PartitionKeySource> PARTITION_KEY =
      ConfigOption.enumValue("partition-key", PartitionKeySource.class)
          .defaultValue(PartitionKeySource.KEY)
          .description(
              "Partition key of each record: key (the record key), header (see partition-key-header) or hash (of"
                  + " the value). Records with the same partition key keep their order.");

  public static final ConfigOption<String> PARTITION_KEY_HEADER =
      ConfigOption.string("partition-key-header")
          .validate(ConfigOption.nonBlank())
          .description("With partition-key: header, the header whose value is the partition key.");

  public static final ConfigOption<Boolean> DEDUP_IDS =
      ConfigOption.bool("dedup-ids")
          .defaultValue(false)
          .description(
              "Write each record as a one-record KPL aggregate whose tags carry a dedup id (pipeline, batch, index)"
                  + " and the record's headers; KPL-aware readers (KCL) see the plain record, a kinesis source with"
                  + " dedup-window drops replayed copies. Off (default): the record value is written as is.");

  /** Whether the sink keeps the order of records with the same partition key. */
  public enum Ordering {
    /**
     * A PutRecords request holds at most one pending record per partition key, and a failed entry
     * is retried before any later record of its key is sent: per-key order is kept even when
     * entries fail. Streams with few keys send small requests.
     */
    PER_KEY,
    /** Full requests; a retried entry may land after a later record of its key. */
    NONE
  }

  public static final ConfigOption<Ordering> ORDERING =
      ConfigOption.enumValue("ordering", Ordering.class)
          .defaultValue(Ordering.PER_KEY)
          .description(
              "per-key: records with the same partition key arrive in order even when PutRecords entries fail"
                  + " (a request holds one record per key); none: full requests of up to 500 records, a retried"
                  + " entry may overtake.");

  public static final ConfigOption<Integer> MAX_ATTEMPTS =
      ConfigOption.integer("max-put-attempts")
          .defaultValue(20)
          .validate(ConfigOption.atLeast(1))
          .description(
              "PutRecords attempts per request; each retry resends only the entries that failed. After the"
                  + " last attempt the batch fails as retriable (the runtime retries it).");

  /** Where a shard without a KCL checkpoint starts ({@code kinesis-kcl} source). */
  public enum KclStartingPosition {
    /** The oldest record still retained in the shard. */
    TRIM_HORIZON,
    /** Records that arrive after the shard's lease is first taken. */
    LATEST,
    /** The first record whose arrival time is at or after {@code starting-timestamp}. */
    AT_TIMESTAMP
  }

  /** What the KCL publishes to CloudWatch ({@code kinesis-kcl} source). */
  public enum CloudWatchMetrics {
    /** Nothing: KCL makes no CloudWatch calls (Tributary's own metrics go to its registry). */
    NONE,
    /** KCL's summary metrics. */
    SUMMARY,
    /** KCL's detailed metrics (per shard). */
    DETAILED
  }

  public static final ConfigOption<String> APPLICATION_NAME =
      ConfigOption.string("application-name")
          .required()
          .validate(KinesisOptions::checkTableName)
          .description(
              "KCL application name, shared by every instance that splits the stream's shards; it is the name of"
                  + " the DynamoDB lease table (KCL 3.5 keeps its coordinator state and worker metrics there too)."
                  + " Each application reads every record of the stream once.");

  public static final ConfigOption<String> WORKER_ID =
      ConfigOption.string("worker-id")
          .validate(ConfigOption.nonBlank())
          .description(
              "This instance's KCL worker id (owner of its leases). Unset: the pipeline id, so a restarted"
                  + " instance takes its own leases back at once. Must differ between instances.");

  public static final ConfigOption<String> DYNAMODB_ENDPOINT =
      ConfigOption.string("dynamodb-endpoint")
          .validate(KinesisOptions::checkEndpoint)
          .description(
              "DynamoDB endpoint URL for the lease tables instead of the region's (a VPC endpoint, a local"
                  + " server). Unset: the region's AWS endpoint.");

  public static final ConfigOption<CloudWatchMetrics> CLOUDWATCH_METRICS =
      ConfigOption.enumValue("cloudwatch-metrics", CloudWatchMetrics.class)
          .defaultValue(CloudWatchMetrics.NONE)
          .description(
              "KCL's own metrics to CloudWatch: none (default, no CloudWatch calls), summary or detailed."
                  + " Tributary's metrics (tributary.kinesis.kcl.*) go to the pipeline's registry either way.");

  public static final ConfigOption<String> CLOUDWATCH_ENDPOINT =
      ConfigOption.string("cloudwatch-endpoint")
          .validate(KinesisOptions::checkEndpoint)
          .description(
              "CloudWatch endpoint URL (with cloudwatch-metrics: summary or detailed) instead of the region's.");

  public static final ConfigOption<KclStartingPosition> KCL_STARTING_POSITION =
      ConfigOption.enumValue("starting-position", KclStartingPosition.class)
          .defaultValue(KclStartingPosition.LATEST)
          .description(
              "Where a shard without a KCL checkpoint in the lease table starts: trim-horizon, latest or"
                  + " at-timestamp (see starting-timestamp). Shards with a checkpoint continue after it; child"
                  + " shards of a split or merge start at their beginning once their parents are done.");

  public static final ConfigOption<Duration> FAILOVER_TIME =
      ConfigOption.duration("failover-time")
          .defaultValue(Duration.ofSeconds(10))
          .validate(ConfigOption.positive())
          .description(
              "KCL failoverTimeMillis: a lease not renewed for this long counts as expired and is given to"
                  + " another instance (leases are renewed every third of it). Shorter: faster takeover after a"
                  + " crash, more DynamoDB writes.");

  public static final ConfigOption<Duration> LEADER_LEASE_DURATION =
      ConfigOption.duration("leader-lease-duration")
          .defaultValue(Duration.ofMinutes(2))
          .validate(ConfigOption.positive())
          .description(
              "KCL 3 leader lock lease (the leader assigns every lease): after the leader dies, no lease moves"
                  + " until this ran out; its heartbeat is a fifth of it. KCL's default is 2 minutes.");

  public static final ConfigOption<Duration> LEASE_ASSIGNMENT_INTERVAL =
      ConfigOption.duration("lease-assignment-interval")
          .validate(ConfigOption.positive())
          .description(
              "How often KCL 3's leader assigns leases (expired ones of a lost instance, new ones after a"
                  + " reshard, rebalancing); each instance looks for leases assigned to it twice as often."
                  + " A lease of a lost instance moves at the first assignment at least failover-time after"
                  + " its last renewal. Unset: KCL's default, twice failover-time. Shorter: faster takeover,"
                  + " more DynamoDB reads (a scan of the lease table per assignment).");

  public static final ConfigOption<Duration> SHARD_SYNC_INTERVAL =
      ConfigOption.duration("shard-sync-interval")
          .defaultValue(Duration.ofSeconds(60))
          .validate(ConfigOption.positive())
          .description(
              "How often the KCL leader lists the stream's shards to create leases for new ones (resharding).");

  public static final ConfigOption<Duration> POLL_INTERVAL =
      ConfigOption.duration("poll-interval")
          .defaultValue(Duration.ofSeconds(1))
          .validate(ConfigOption.positive())
          .description(
              "Polling retrieval: wait between two GetRecords calls of a shard that returned no records"
                  + " (KCL idleTimeBetweenReadsInMillis; Kinesis allows 5 GetRecords per second per shard).");

  public static final ConfigOption<Integer> MAX_BUFFERED_RECORDS =
      ConfigOption.integer("max-buffered-records")
          .defaultValue(10_000)
          .validate(ConfigOption.atLeast(1))
          .description(
              "Records per shard that KCL may hand over before the pipeline plans them; KCL's record processor"
                  + " waits when the buffer is full (backpressure, bounded memory).");

  public static final ConfigOption<Duration> SHUTDOWN_TIMEOUT =
      ConfigOption.duration("shutdown-timeout")
          .defaultValue(Duration.ofSeconds(30))
          .validate(ConfigOption.positive())
          .description(
              "How long closing the source waits for KCL's graceful shutdown (final checkpoints of what"
                  + " committed) before it stops the scheduler at once; the leases expire after failover-time.");

  public static final ConfigOption<Boolean> EXACTLY_ONCE =
      ConfigOption.bool("exactly-once")
          .defaultValue(false)
          .description(
              "Refuse to start unless the pipeline's only sink commits the shards' positions with its output"
                  + " (the kafka sink, in its marker topic), which makes the pipeline exactly-once across crashes"
                  + " and lease moves. false (default): such a sink carries them anyway; with any other sink"
                  + " (files, several sinks) a crash can repeat a shard's last committed batch (at-least-once).");

  public static final ConfigSpec KCL_SOURCE =
      ConfigSpec.of(
          APPLICATION_NAME,
          STREAM,
          REGION,
          ENDPOINT,
          DYNAMODB_ENDPOINT,
          CLOUDWATCH_METRICS,
          CLOUDWATCH_ENDPOINT,
          ACCESS_KEY_ID,
          SECRET_ACCESS_KEY,
          KCL_STARTING_POSITION,
          STARTING_TIMESTAMP,
          WORKER_ID,
          FAILOVER_TIME,
          LEADER_LEASE_DURATION,
          LEASE_ASSIGNMENT_INTERVAL,
          SHARD_SYNC_INTERVAL,
          POLL_INTERVAL,
          GET_RECORDS_LIMIT,
          MAX_BUFFERED_RECORDS,
          THROTTLE_BACKOFF,
          READ_TIMEOUT,
          SHUTDOWN_TIMEOUT,
          EXACTLY_ONCE);

  public static final ConfigSpec SOURCE =
      ConfigSpec.of(
          STREAM,
          REGION,
          ENDPOINT,
          ACCESS_KEY_ID,
          SECRET_ACCESS_KEY,
          STARTING_POSITION,
          STARTING_TIMESTAMP,
          STARTING_SEQUENCE_NUMBERS,
          ON_EXPIRED,
          GET_RECORDS_LIMIT,
          THROTTLE_BACKOFF,
          READ_TIMEOUT,
          DEDUP_WINDOW,
          CONSUMER,
          CONSUMER_NAME);

  public static final ConfigSpec SINK =
      ConfigSpec.of(
          STREAM,
          REGION,
          ENDPOINT,
          ACCESS_KEY_ID,
          SECRET_ACCESS_KEY,
          PARTITION_KEY,
          PARTITION_KEY_HEADER,
          DEDUP_IDS,
          ORDERING,
          MAX_ATTEMPTS,
          THROTTLE_BACKOFF);

  static String checkEndpoint(String v) {
    try {
      URI u = new URI(v);
      if (u.getScheme() == null
          || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
          || u.getHost() == null) {
        return "not an http(s) URL (expected: e.g. https://kinesis.eu-west-1.amazonaws.com)";
      }
      return null;
    } catch (Exception e) {
      return "not a URL (expected: e.g. https://kinesis.eu-west-1.amazonaws.com)";
    }
  }

  static String checkConsumerName(String v) {
    if (v.isEmpty() || v.length() > 128 || !v.matches("[a-zA-Z0-9_.-]+")) {
      return "not a valid Kinesis consumer name (expected: 1 to 128 characters of A-Z, a-z, 0-9, '_', '-' or"
          + " '.')";
    }
    return null;
  }

  static String checkTableName(String v) {
    if (v.length() < 3 || v.length() > 200 || !v.matches("[A-Za-z0-9_.-]+")) {
      return "not a valid DynamoDB table name (expected: 3 to 200 characters of A-Z, a-z, 0-9, '_', '-' or '.')";
    }
    return null;
  }

  static void checkKclSource(Config config) {
    if (config.get(KCL_STARTING_POSITION) == KclStartingPosition.AT_TIMESTAMP
        && config.get(STARTING_TIMESTAMP) == null) {
      throw new ConfigException(
          "Invalid value at-timestamp for starting-position: starting-timestamp is not set (expected:"
              + " starting-timestamp: epoch milliseconds or ISO-8601)");
    }
    checkCredentials(config);
  }

  static String checkTimestamp(String v) {
    try {
      parseTimestamp(v);
      return null;
    } catch (RuntimeException e) {
      return "not a timestamp (expected: epoch milliseconds or ISO-8601 such as 2026-01-31T12:00:00Z)";
    }
  }

  static long parseTimestamp(String v) {
    String s = v.trim();
    if (!s.isEmpty() && s.chars().allMatch(Character::isDigit)) {
      return Long.parseLong(s);
    }
    return Instant.parse(s).toEpochMilli();
  }

  static String checkSequenceNumbers(List<String> entries) {
    for (String e : entries) {
      int eq = e.indexOf('=');
      if (eq <= 0 || eq == e.length() - 1) {
        return "entry '" + e + "' is not shardId=sequenceNumber";
      }
      try {
        if (new BigInteger(e.substring(eq + 1).trim()).signum() < 0) {
          return "entry '" + e + "' has a negative sequence number";
        }
      } catch (NumberFormatException x) {
        return "entry '" + e + "' has a sequence number that is not a decimal number";
      }
    }
    return null;
  }

  static Map<String, BigInteger> startingSequenceNumbers(Config config) {
    Map<String, BigInteger> out = new LinkedHashMap<>();
    for (String e : config.get(STARTING_SEQUENCE_NUMBERS)) {
      int eq = e.indexOf('=');
      out.put(e.substring(0, eq).trim(), new BigInteger(e.substring(eq + 1).trim()));
    }
    return out;
  }

  /** Cross-option checks the single-option validators cannot make. */
  static void checkSource(Config config) {
    StartingPosition sp = config.get(STARTING_POSITION);
    if (sp == StartingPosition.AT_TIMESTAMP && config.get(STARTING_TIMESTAMP) == null) {
      throw new ConfigException(
          "Invalid value at-timestamp for starting-position: starting-timestamp is not set (expected:"
              + " starting-timestamp: epoch milliseconds or ISO-8601)");
    }
    if (sp == StartingPosition.SEQUENCE_NUMBERS
        && config.get(STARTING_SEQUENCE_NUMBERS).isEmpty()) {
      throw new ConfigException(
          "Invalid value sequence-numbers for starting-position: starting-sequence-numbers is empty"
              + " (expected: entries shardId=sequenceNumber)");
    }
    if (config.get(CONSUMER_NAME) != null && config.get(CONSUMER) != Consumer.EFO) {
      throw new ConfigException(
          "consumer-name is set but consumer is polling: the name is only used for enhanced fan-out (expected:"
              + " consumer: efo, or no consumer-name)");
    }
    checkCredentials(config);
  }

  static void checkSink(Config config) {
    if (config.get(PARTITION_KEY) == PartitionKeySource.HEADER
        && config.get(PARTITION_KEY_HEADER) == null) {
      throw new ConfigException(
          "Invalid value header for partition-key: partition-key-header is not set (expected: the name of"
              + " the header that holds the partition key)");
    }
    checkCredentials(config);
  }

  private static void checkCredentials(Config config) {
    if ((config.get(ACCESS_KEY_ID) == null) != (config.get(SECRET_ACCESS_KEY) == null)) {
      throw new ConfigException(
          "Invalid credentials: access-key-id and secret-access-key must be set together (expected: both,"
              + " or neither for the AWS default credentials chain)");
    }
  }
}
