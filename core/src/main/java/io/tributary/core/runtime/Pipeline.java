package io.tributary.core.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.Record;
import io.tributary.core.api.Sink;
import io.tributary.core.api.Source;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.internal.PipelineEngine;
import io.tributary.core.sinks.ConsoleSink;
import io.tributary.core.sinks.ForeachBatchSink;
import io.tributary.core.sinks.RollingFileSink;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One running micro-batch pipeline: a source, stateless transforms and one or more sinks, with a
 * checkpoint that makes every batch exactly-once for transactional and idempotent sinks.
 *
 * <pre>{@code
 * Pipeline p = Pipeline.builder("clicks")
 *     .checkpointDir(Path.of("/var/lib/tributary/clicks"))
 *     .batchInterval(Duration.ofSeconds(1))
 *     .source("in", new MyReceiver())
 *     .filter(r -> r.value().length > 0)
 *     .saveAsFiles(Path.of("/data/out"))
 *     .build();
 * p.start();
 * ...
 * p.stopGracefully();
 * }</pre>
 *
 * <p>Each batch N runs: plan, write {@code offsets/N}, read exactly the planned data, transform,
 * write to every sink with batch id N, write {@code commits/N}, clean up. On {@link #start()} the
 * last planned but uncommitted batch is re-run with the same plan.
 *
 * <p>Thread safety: all methods may be called from any thread. The pipeline owns its threads, named
 * {@code tributary-<pipeline>-<role>-N}.
 */
public final class Pipeline implements AutoCloseable {
  private final PipelineEngine engine;

  private Pipeline(PipelineEngine engine) {
    this.engine = engine;
  }

  public static Builder builder(String pipelineId) {
    return new Builder(pipelineId);
  }

  /**
   * Recovers from the checkpoint (re-running an uncommitted batch), opens sinks and the source, and
   * starts the batch thread. Returns once the pipeline is running.
   *
   * @throws io.tributary.core.api.TributaryException (for example {@code
   *     IncompatibleCheckpointException}) when the pipeline cannot start; nothing is then running
   */
  public void start() {
    engine.start();
  }

  /**
   * Stops receiving, then runs and commits the batches holding data already received, then closes
   * everything. Waits at most the graceful-stop timeout; what is not committed by then is replayed
   * on the next start. Loses nothing that was acknowledged. Blocks until stopped.
   */
  public void stopGracefully() {
    engine.stop(true);
  }

  /**
   * Stops at once: the batch in flight is abandoned and replayed on the next start. Blocks until
   * stopped.
   */
  public void stopNow() {
    engine.stop(false);
  }

  /** Waits until the pipeline has stopped or failed. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return engine.awaitTermination(timeout);
  }

  /** Registers a JVM shutdown hook (SIGTERM, SIGINT) that stops this pipeline gracefully. */
  public void installShutdownHook() {
    engine.installShutdownHook();
  }

  public PipelineStatus status() {
    return engine.status();
  }

  /** How many batches {@link #recentBatches()} keeps. */
  public static final int RECENT_BATCHES = PipelineEngine.RECENT_BATCHES;

  /**
   * The last committed batches of this run, oldest first (at most {@link #RECENT_BATCHES}). Does
   * not block on the batch thread.
   */
  public List<BatchInfo> recentBatches() {
    return engine.recentBatches();
  }

  /**
   * Per partition: the committed position and, where the source can tell, the latest available
   * position and the lag. Empty before the first batch. Does not call the source.
   */
  public List<PartitionStatus> partitions() {
    return engine.partitions();
  }

  /**
   * The pipeline's receivers (one for a receiver source, none for a direct source): state,
   * restarts, last error, connected clients where the receiver tells, buffered bytes. Does not
   * block on the receiver.
   */
  public List<ReceiverStatus> receivers() {
    return engine.receivers();
  }

  /**
   * What the source skipped instead of failing (a {@link io.tributary.core.api.SupportsQuarantine}
   * source, such as the files source under {@code on-bad-file: skip}); empty for other sources.
   * Asks the source, which answers from memory.
   */
  public List<io.tributary.core.api.QuarantinedItem> quarantined() {
    return engine.quarantined();
  }

  /** Records available but not yet planned, where the source can tell; else 0. */
  public long lag() {
    return engine.lag();
  }

  /**
   * Stops planning new batches until {@link #resume()}; the batch in flight completes. Receivers
   * keep receiving until their buffers are full, then backpressure their senders. Returns at once.
   */
  public void pause() {
    engine.pause();
  }

  /** Plans batches again after {@link #pause()}; returns at once. */
  public void resume() {
    engine.resume();
  }

  /** Whether {@link #pause()} is in effect. */
  public boolean paused() {
    return engine.paused();
  }

  /** The failure that stopped the pipeline, if it failed. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(engine.failure());
  }

  public String id() {
    return engine.pipelineId();
  }

  /** Same as {@link #stopGracefully()}. */
  @Override
  public void close() {
    stopGracefully();
  }

  /** Builds a {@link Pipeline}; every setting is checked in {@link #build()}. Not thread-safe. */
  public static final class Builder {
    private final String pipelineId;
    private PipelineOptions options = PipelineOptions.defaults();
    private final Map<String, Object> overrides = new LinkedHashMap<>();
    private CheckpointStorage checkpoint;
    private String sourceName;
    private Source source;
    private final List<BatchTransform> transforms = new ArrayList<>();
    private final Map<String, Sink> sinks = new LinkedHashMap<>();
    private MeterRegistry meterRegistry;
    private String configFingerprint = "";
    private Path walDir;
    private List<String> secrets = List.of();

    private Builder(String pipelineId) {
      this.pipelineId = Objects.requireNonNull(pipelineId, "pipelineId");
    }

    public Builder options(PipelineOptions pipelineOptions) {
      this.options = Objects.requireNonNull(pipelineOptions);
      return this;
    }

    public Builder batchInterval(Duration interval) {
      overrides.put(PipelineOptions.BATCH_INTERVAL.name(), interval.toMillis() + "ms");
      return this;
    }

    /** Sets one pipeline option by key, as in {@link PipelineOptions}. */
    public Builder set(String key, Object value) {
      overrides.put(key, value);
      return this;
    }

    public Builder checkpointDir(Path dir) {
      return checkpoint(new LocalCheckpointStorage(dir));
    }

    /**
     * Where receivers' write-ahead log lives. Default: {@code wal/<source>} inside a local
     * checkpoint directory; required when the checkpoint is not on the local file system and {@code
     * wal.enabled} is true.
     */
    public Builder walDir(Path dir) {
      this.walDir = Objects.requireNonNull(dir);
      return this;
    }

    public Builder checkpoint(CheckpointStorage storage) {
      this.checkpoint = Objects.requireNonNull(storage);
      return this;
    }

    /**
     * The pipeline's one source: a {@link io.tributary.core.api.DirectSource} or a {@link
     * io.tributary.core.api.Receiver}.
     */
    public Builder source(String name, Source src) {
      if (this.source != null) {
        throw new IllegalStateException(
            "Pipeline " + pipelineId + " already has source " + sourceName);
      }
      this.sourceName = Objects.requireNonNull(name);
      this.source = Objects.requireNonNull(src);
      return this;
    }

    public Builder map(Function<Record, Record> fn) {
      transforms.add(BatchTransform.perRecord(r -> List.of(fn.apply(r))));
      return this;
    }

    public Builder filter(Predicate<Record> predicate) {
      transforms.add(BatchTransform.perRecord(r -> predicate.test(r) ? List.of(r) : List.of()));
      return this;
    }

    public Builder flatMap(Function<Record, ? extends Iterable<Record>> fn) {
      transforms.add(BatchTransform.perRecord(fn));
      return this;
    }

    public Builder transform(BatchTransform transform) {
      transforms.add(Objects.requireNonNull(transform));
      return this;
    }

    public Builder sink(String name, Sink sink) {
      if (sinks.putIfAbsent(Objects.requireNonNull(name), Objects.requireNonNull(sink)) != null) {
        throw new IllegalStateException(
            "Pipeline " + pipelineId + " already has a sink named " + name);
      }
      return this;
    }

    /** Prints each batch to standard output (at-least-once). */
    public Builder print() {
      return sink("print", new ConsoleSink(System.out, 10));
    }

    /**
     * Saves each batch as files under {@code dir}, exactly-once by batch-id naming and atomic
     * rename.
     */
    public Builder saveAsFiles(Path dir) {
      return sink("files", RollingFileSink.builder(dir).build());
    }

    /**
     * Runs {@code fn} for each batch (at-least-once: make {@code fn} idempotent on the batch id).
     */
    public Builder foreachBatch(BatchFunction fn) {
      return sink("foreachBatch-" + sinks.size(), new ForeachBatchSink(fn));
    }

    public Builder meterRegistry(MeterRegistry registry) {
      this.meterRegistry = registry;
      return this;
    }

    /**
     * A fingerprint of the configuration that produced this pipeline. A checkpoint written under
     * another fingerprint is refused on start ({@code IncompatibleCheckpointException}), since its
     * plans may not mean the same thing.
     */
    public Builder configFingerprint(String fingerprint) {
      this.configFingerprint = Objects.requireNonNull(fingerprint);
      return this;
    }

    /**
     * @throws io.tributary.core.api.ConfigException listing every problem
     */
    public Pipeline build() {
      List<String> problems = new ArrayList<>();
      if (!pipelineId.matches("[A-Za-z0-9._-]+")) {
        problems.add(
            "Invalid value "
                + pipelineId
                + " for pipeline id: (expected: letters, digits, '.', '_' or '-')");
      }
      if (source == null) {
        problems.add(
            "Pipeline " + pipelineId + " has no source (expected: call source(name, source))");
      }
      if (sinks.isEmpty()) {
        problems.add(
            "Pipeline "
                + pipelineId
                + " has no sink (expected: sink(), print(), saveAsFiles() or foreachBatch())");
      }
      if (checkpoint == null) {
        problems.add(
            "Pipeline "
                + pipelineId
                + " has no checkpoint (expected: checkpointDir(path) or checkpoint(storage))");
      }
      PipelineOptions effective = options;
      if (!overrides.isEmpty()) {
        Map<String, Object> merged = new LinkedHashMap<>(options.explicitSettings());
        merged.putAll(overrides);
        try {
          effective = PipelineOptions.from(merged);
        } catch (io.tributary.core.api.ConfigException e) {
          problems.addAll(e.problems());
        }
      }
      if (!problems.isEmpty()) {
        throw new io.tributary.core.api.ConfigException(problems);
      }
      PipelineEngine engine =
          new PipelineEngine(
              pipelineId,
              effective,
              checkpoint,
              sourceName,
              source,
              List.copyOf(transforms),
              new LinkedHashMap<>(sinks),
              meterRegistry != null ? meterRegistry : new SimpleMeterRegistry(),
              configFingerprint,
              walDir);
      engine.secrets(secrets);
      return new Pipeline(engine);
    }

    /**
     * Secret values of the configuration (passwords, keys, tokens) that a failure's text may quote:
     * they are replaced with {@code ******} in the pipeline's {@code pipeline_failed} log line and
     * in its status. The gateway passes the values of every sensitive option of the pipeline.
     */
    public Builder secrets(java.util.Collection<String> values) {
      this.secrets = List.copyOf(values);
      return this;
    }
  }
}
