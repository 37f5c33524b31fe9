package io.tributary.core.runtime;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import java.time.Duration;
import java.util.Map;

/**
 * The runtime settings of one pipeline, declared once. Defaults follow Spark Streaming's where it
 * had one (block interval 200 ms, receiver restart delay 2 s, PID backpressure 1.0 / 0.2 / 0, min
 * rate 100 records/s, graceful stop timeout 10 x batch interval).
 *
 * <p>Thread safety: immutable.
 */
public final class PipelineOptions {
  public static final ConfigOption<Duration> BATCH_INTERVAL =
      ConfigOption.duration("batch-interval")
          .defaultValue(Duration.ofSeconds(1))
          .validate(ConfigOption.positive())
          .description("How often a micro-batch is planned and run.");
  public static final ConfigOption<Duration> BLOCK_INTERVAL =
      ConfigOption.duration("block-interval")
          .defaultValue(Duration.ofMillis(200))
          .validate(ConfigOption.positive())
          .description("How often records stored unreliably by a receiver are cut into a block.");
  public static final ConfigOption<Duration> RECEIVER_RESTART_DELAY =
      ConfigOption.duration("receiver.restart-delay")
          .defaultValue(Duration.ofSeconds(2))
          .validate(ConfigOption.positive())
          .description(
              "First delay before a failed receiver is started again; doubles per failure up to"
                  + " receiver.max-restart-delay.");
  public static final ConfigOption<Duration> RECEIVER_MAX_RESTART_DELAY =
      ConfigOption.duration("receiver.max-restart-delay")
          .defaultValue(Duration.ofSeconds(60))
          .validate(ConfigOption.positive())
          .description(
              "Upper bound of the receiver restart backoff. The backoff starts over at receiver.restart-delay once a"
                  + " receiver that started stayed up for twice this long.");
  public static final ConfigOption<Long> RECEIVER_MAX_RATE =
      ConfigOption.longValue("receiver.max-rate")
          .defaultValue(0L)
          .validate(ConfigOption.atLeast(0))
          .description("Maximum records per second a receiver may store; 0 means unlimited.");
  public static final ConfigOption<Long> RECEIVER_BUFFER_BYTES =
      ConfigOption.size("receiver.buffer-size")
          .defaultValue(64L * 1024 * 1024)
          .validate(ConfigOption.atLeast(1024))
          .description("Bytes of received data held in memory before store blocks (backpressure).");
  public static final ConfigOption<Long> MAX_RECORDS_PER_PARTITION =
      ConfigOption.longValue("direct.max-records-per-partition")
          .defaultValue(100_000L)
          .validate(ConfigOption.atLeast(0))
          .description(
              "Most records read from one partition of a direct source per batch; 0 means unlimited (a first start"
                  + " on a large backlog then plans it all as one batch).");
  public static final ConfigOption<Long> BATCH_MAX_BYTES =
      ConfigOption.size("batch.max-bytes")
          .defaultValue(256L * 1024 * 1024)
          .validate(ConfigOption.atLeast(0))
          .description(
              "About how many bytes (keys and values) one batch of a direct source reads; 0 means unlimited. Sources"
                  + " that know no sizes before reading are planned with the average record size seen so far. Memory"
                  + " does not grow with it: batches stream to sinks in chunks.");
  public static final ConfigOption<Long> BATCH_INITIAL_RECORDS =
      ConfigOption.longValue("batch.initial-records")
          .defaultValue(10_000L)
          .validate(ConfigOption.atLeast(0))
          .description(
              "Slow start of a direct source: the first batch after a start plans at most this many records in all,"
                  + " and each batch that reached the limit doubles it until the other limits bound the batches. The"
                  + " first output of a start on a backlog then appears after a small batch rather than a full one,"
                  + " and connections and the JIT warm up on it. 0 turns it off.");
  public static final ConfigOption<Integer> BATCH_READ_PARALLELISM =
      ConfigOption.integer("batch.read-parallelism")
          .validate(ConfigOption.atLeast(1))
          .description(
              "How many planned ranges of a direct source are read at once (records of one partition stay in"
                  + " order). Default: the number of processors.");
  public static final ConfigOption<Long> BATCH_CHUNK_BYTES =
      ConfigOption.size("batch.chunk-size")
          .defaultValue(256L * 1024)
          .validate(ConfigOption.atLeast(1))
          .description(
              "About how many bytes of records reach the sinks at a time. A batch in flight holds about"
                  + " batch.read-parallelism x 2 chunks in memory.");
  public static final ConfigOption<Long> MAX_RATE_PER_PARTITION =
      ConfigOption.longValue("direct.max-rate-per-partition")
          .defaultValue(0L)
          .validate(ConfigOption.atLeast(0))
          .description(
              "Most records per second read from one partition of a direct source; 0 means unlimited.");
  public static final ConfigOption<Boolean> BACKPRESSURE =
      ConfigOption.bool("backpressure.enabled")
          .defaultValue(false)
          .description(
              "Adapt receiver rates and direct-source admission to the processing speed (PID estimator).");
  public static final ConfigOption<Long> BACKPRESSURE_MIN_RATE =
      ConfigOption.longValue("backpressure.min-rate")
          .defaultValue(100L)
          .validate(ConfigOption.atLeast(1))
          .description("The estimator never goes below this many records per second.");
  public static final ConfigOption<Long> BACKPRESSURE_INITIAL_RATE =
      ConfigOption.longValue("backpressure.initial-rate")
          .defaultValue(0L)
          .validate(ConfigOption.atLeast(0))
          .description("Rate used before the first estimate; 0 means unlimited.");
  public static final ConfigOption<Boolean> WAL_ENABLED =
      ConfigOption.bool("wal.enabled")
          .defaultValue(true)
          .description(
              "Write receivers' data to a write-ahead log under the checkpoint directory before acknowledging it."
                  + " Without it a crash loses received but unprocessed data.");
  public static final ConfigOption<FsyncPolicy> WAL_FSYNC =
      ConfigOption.enumValue("wal.fsync", FsyncPolicy.class)
          .defaultValue(FsyncPolicy.ALWAYS)
          .description(
              "When the WAL forces writes to disk: always (each group commit), interval, never.");
  public static final ConfigOption<Duration> WAL_FSYNC_INTERVAL =
      ConfigOption.duration("wal.fsync-interval")
          .defaultValue(Duration.ofMillis(100))
          .validate(ConfigOption.positive())
          .description("With wal.fsync=interval, the longest time between two fsyncs.");
  public static final ConfigOption<Long> WAL_SEGMENT_BYTES =
      ConfigOption.size("wal.segment-size")
          .defaultValue(64L * 1024 * 1024)
          .validate(ConfigOption.atLeast(4096))
          .description("Size at which the WAL rolls to a new segment file.");
  public static final ConfigOption<Duration> GRACEFUL_STOP_TIMEOUT =
      ConfigOption.duration("graceful-stop-timeout")
          .description(
              "Longest graceful stop before in-flight batches are abandoned (replayed on restart)."
                  + " Default: 10 x batch-interval.");
  public static final ConfigOption<Duration> STALL_TIMEOUT =
      ConfigOption.duration("stall-timeout")
          .defaultValue(Duration.ofMinutes(5))
          .description(
              "A listing or batch that makes no progress (no plan, no chunk of records read or"
                  + " written) for this long shows as stalled: PipelineStatus#stalledMillis, the gauge"
                  + " tributary.batch.stalled.seconds, the gateway's status and /health (STALLED)."
                  + " Nothing is cancelled. 0s turns the detection off.");
  public static final ConfigOption<Integer> RETAINED_BATCHES =
      ConfigOption.integer("checkpoint.retained-batches")
          .defaultValue(100)
          .validate(ConfigOption.atLeast(2))
          .description("How many offsets/ and commits/ files the checkpoint keeps.");
  // Retry defaults: a broker restart or an object-store brownout lasts seconds to a few minutes
  // (a broker SIGKILLed on a loaded machine took up to 60 s to come back in KafkaGatewayCrashIT,
  // and log recovery after an unclean shutdown can take longer). Thirty attempts with a backoff
  // doubling from 100 ms to 10 s wait about 4.5 minutes in all, so with short client timeouts too
  // the 5-minute bound is what ends the retries: a real outage is ridden out, a permanent one fails
  // within minutes instead of hanging, and the first retry comes quickly for a one-off blip.
  public static final ConfigOption<Integer> RETRY_MAX_ATTEMPTS =
      ConfigOption.integer("retry.max-attempts")
          .defaultValue(30)
          .validate(ConfigOption.atLeast(1))
          .description(
              "Attempts in all (the first included) of a batch step that fails with a retriable error (listing"
                  + " partitions, reading, a sink write, a checkpoint write) before the pipeline fails; 1 means no"
                  + " retry.");
  public static final ConfigOption<Duration> RETRY_INITIAL_BACKOFF =
      ConfigOption.duration("retry.initial-backoff")
          .defaultValue(Duration.ofMillis(100))
          .validate(ConfigOption.positive())
          .description(
              "Wait before the first retry of a failed batch step; doubles per retry up to retry.max-backoff.");
  public static final ConfigOption<Duration> RETRY_MAX_BACKOFF =
      ConfigOption.duration("retry.max-backoff")
          .defaultValue(Duration.ofSeconds(10))
          .validate(ConfigOption.positive())
          .description("Longest wait between two attempts of a batch step.");
  public static final ConfigOption<Duration> RETRY_TIMEOUT =
      ConfigOption.duration("retry.timeout")
          .defaultValue(Duration.ofMinutes(5))
          .validate(ConfigOption.positive())
          .description(
              "No retry of a batch step starts later than this after its first attempt; whichever of this and"
                  + " retry.max-attempts is reached first fails the pipeline.");

  public static final ConfigSpec SPEC =
      ConfigSpec.of(
          BATCH_INTERVAL,
          BLOCK_INTERVAL,
          RECEIVER_RESTART_DELAY,
          RECEIVER_MAX_RESTART_DELAY,
          RECEIVER_MAX_RATE,
          RECEIVER_BUFFER_BYTES,
          MAX_RECORDS_PER_PARTITION,
          BATCH_MAX_BYTES,
          BATCH_INITIAL_RECORDS,
          BATCH_READ_PARALLELISM,
          BATCH_CHUNK_BYTES,
          MAX_RATE_PER_PARTITION,
          BACKPRESSURE,
          BACKPRESSURE_MIN_RATE,
          BACKPRESSURE_INITIAL_RATE,
          WAL_ENABLED,
          WAL_FSYNC,
          WAL_FSYNC_INTERVAL,
          WAL_SEGMENT_BYTES,
          GRACEFUL_STOP_TIMEOUT,
          STALL_TIMEOUT,
          RETAINED_BATCHES,
          RETRY_MAX_ATTEMPTS,
          RETRY_INITIAL_BACKOFF,
          RETRY_MAX_BACKOFF,
          RETRY_TIMEOUT);

  private final Config config;

  private PipelineOptions(Config config) {
    this.config = config;
  }

  /** All defaults. */
  public static PipelineOptions defaults() {
    return new PipelineOptions(SPEC.parse(Map.of()));
  }

  /**
   * Parses settings by key (as in a YAML {@code settings:} block).
   *
   * @throws io.tributary.core.api.ConfigException with every problem
   */
  public static PipelineOptions from(Map<String, ?> raw) {
    return new PipelineOptions(SPEC.parse(raw));
  }

  public <T> T get(ConfigOption<T> option) {
    return config.get(option);
  }

  public Duration gracefulStopTimeout() {
    Duration d = config.get(GRACEFUL_STOP_TIMEOUT);
    return d != null ? d : config.get(BATCH_INTERVAL).multipliedBy(10);
  }

  /** {@link #BATCH_READ_PARALLELISM}, or the number of processors when not set. */
  public int readParallelism() {
    Integer p = config.get(BATCH_READ_PARALLELISM);
    return p != null ? p : Runtime.getRuntime().availableProcessors();
  }

  /** Settings the user chose explicitly (used for the checkpoint fingerprint where relevant). */
  public Map<String, Object> explicitSettings() {
    return config.asMap();
  }

  /** The settings chosen explicitly, secrets masked. */
  @Override
  public String toString() {
    return "PipelineOptions" + config;
  }
}
