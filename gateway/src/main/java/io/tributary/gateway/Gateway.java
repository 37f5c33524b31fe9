package io.tributary.gateway;

import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Source;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineOptions;
import io.tributary.core.runtime.PipelineState;
import io.tributary.gateway.internal.AdminServer;
import io.tributary.gateway.internal.Transforms;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the pipelines of a {@link GatewayConfig}: builds each from the factories found on the
 * classpath, starts them, serves the admin endpoint, and stops them all gracefully on {@link
 * #stop()} (the CLI calls it on SIGTERM/SIGINT).
 *
 * <p>Lifecycle: {@link #start()} once; then {@link #awaitStopOrFailure()} on the owning thread;
 * {@link #stop()} (or {@link #close()}) from any thread, typically a shutdown hook. Stopping drains
 * every pipeline in parallel and blocks until all have committed or reached their graceful-stop
 * timeout.
 *
 * <p>Thread safety: {@link #stop()}, {@link #pipelines()} and {@link #adminPort()} may be called
 * from any thread.
 */
public final class Gateway implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

  /** How a run ended. */
  public enum Outcome {
    STOPPED,
    FAILED
  }

  private final GatewayConfig config;
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics jvmGc = new JvmGcMetrics();

  /** Appended by {@link #start()}, read by any thread (status, shutdown hook). */
  private final List<Pipeline> pipelines = new CopyOnWriteArrayList<>();

  private final CountDownLatch stopRequested = new CountDownLatch(1);

  /** Remote checkpoint storages the gateway opened; closed once their pipelines have stopped. */
  private final List<CheckpointStorage> storages = new CopyOnWriteArrayList<>();

  private AdminServer admin;

  /**
   * @throws IllegalStateException if another gateway was given this configuration (its sources and
   *     sinks run once)
   */
  private final CountDownLatch startDone = new CountDownLatch(1);

  private volatile boolean startBegun;

  public Gateway(GatewayConfig config) {
    config.claimForRun();
    this.config = config;
    Metrics.addRegistry(registry);
    // What an operator needs next to the pipeline figures: heap, GC pauses, threads, CPU, uptime.
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    jvmGc.bindTo(registry);
  }

  /**
   * Builds and starts every pipeline, then the admin endpoint. If one cannot start, the ones
   * started are stopped and the exception is rethrown. If {@link #stop()} is called meanwhile (a
   * signal during start), the pipeline being started finishes starting, then every started pipeline
   * is stopped gracefully and the rest are never started.
   */
  public void start() throws IOException {
    startBegun = true;
    try {
      startPipelines();
    } finally {
      startDone.countDown();
    }
  }

  private void startPipelines() throws IOException {
    for (GatewayConfig.PipelineConfig pc : config.pipelines()) {
      // One pipeline start at a time under the monitor, so stop() waits for it and then stops it
      // with the others.
      synchronized (this) {
        if (stopRequested.getCount() == 0) {
          LOG.info("event=start_abandoned reason=stop_requested started={}", pipelines.size());
          return;
        }
        try {
          Pipeline p = build(pc);
          p.start();
          pipelines.add(p);
        } catch (RuntimeException e) {
          LOG.error(
              "event=pipeline_start_failed pipeline={} error=\"{}\" action=stop_started_pipelines",
              pc.id(),
              config.scrub(e.toString()));
          stopAll();
          throw e;
        }
      }
    }
    synchronized (this) {
      if (stopRequested.getCount() == 0) {
        return;
      }
      if (config.admin() != null) {
        try {
          admin =
              new AdminServer(
                  config.admin().host(),
                  config.admin().port(),
                  List.copyOf(pipelines),
                  registry,
                  config::scrub);
        } catch (IOException e) {
          stopAll();
          throw new IOException(
              "Cannot bind the admin endpoint to "
                  + config.admin().host()
                  + ":"
                  + config.admin().port()
                  + ": "
                  + e
                  + " (choose another admin port, or 0 for a free one)",
              e);
        }
        LOG.info(
            "event=admin_listening address=http://{}:{}/",
            config.admin().host(),
            admin.address().getPort());
      }
    }
    LOG.info("event=gateway_started pipelines={} config=\"{}\"", pipelines.size(), config.origin());
  }

  private Pipeline build(GatewayConfig.PipelineConfig pc) {
    Pipeline.Builder b =
        Pipeline.builder(pc.id())
            .options(pc.options())
            .configFingerprint(pc.fingerprint())
            .secrets(pc.secretValues())
            .meterRegistry(registry);
    Source source = pc.builtSource(); // built once, by validation
    if (pc.checkpoint() == null
        && pc.walDir() == null
        && source instanceof Receiver
        && pc.options().get(PipelineOptions.WAL_ENABLED)) {
      throw new GatewayConfigException(
          List.of(
              config.origin()
                  + ": pipeline "
                  + pc.id()
                  + ": checkpoint "
                  + pc.checkpointLocation()
                  + " is not local, and the receiver's write-ahead log needs a local directory"
                  + " (expected: wal-dir: a local directory, or settings: { wal.enabled: false })"));
    }
    if (pc.checkpoint() != null) {
      b.checkpointDir(pc.checkpoint());
    } else {
      try {
        CheckpointStorage storage =
            CheckpointStorageFactory.open(pc.checkpointLocation(), pc.checkpointOptions());
        storages.add(storage);
        b.checkpoint(storage);
      } catch (IOException e) {
        throw new CheckpointException(
            "Pipeline "
                + pc.id()
                + ": cannot open checkpoint "
                + pc.checkpointLocation()
                + ": "
                + e
                + " (check that the file system is reachable and the checkpoint-options are right)",
            e);
      }
    }
    if (pc.walDir() != null) {
      b.walDir(pc.walDir());
    }
    b.source("source", source);
    for (GatewayConfig.Component t : pc.transforms()) {
      switch (t.type()) {
        case "filter" -> b.filter(Transforms.filter(t.config()));
        case "map" -> b.map(Transforms.map(t.config()));
        default -> throw new IllegalStateException("unknown transform " + t.type());
      }
    }
    for (int i = 0; i < pc.sinks().size(); i++) {
      GatewayConfig.Component s = pc.sinks().get(i);
      b.sink(s.type() + "-" + i, pc.builtSinks().get(i));
    }
    return b.build();
  }

  /**
   * Blocks until {@link #stop()} is called or a pipeline fails. On failure the other pipelines are
   * stopped gracefully.
   */
  public Outcome awaitStopOrFailure() throws InterruptedException {
    while (!stopRequested.await(200, TimeUnit.MILLISECONDS)) {
      for (Pipeline p : pipelines) {
        if (p.status().state() == PipelineState.FAILED) {
          LOG.error(
              "event=pipeline_failed pipeline={} error=\"{}\" action=stop_gateway",
              p.id(),
              config.scrub(p.status().failure()));
          stopAll();
          return Outcome.FAILED;
        }
      }
    }
    return Outcome.STOPPED;
  }

  /** Requests a graceful stop of every pipeline and waits until they drained and committed. */
  public void stop() {
    stopRequested.countDown();
    LOG.info("event=stop_requested");
    stopAll();
    // A stop during start (a signal's shutdown hook): let the starting thread notice the stop and
    // return before this returns, so the JVM does not halt in the middle of it.
    if (startBegun) {
      try {
        if (!startDone.await(60, TimeUnit.SECONDS)) {
          LOG.warn("event=stop_waited_for_start seconds=60 detail=\"start still running\"");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Stops every pipeline gracefully, in parallel (each drains up to its own graceful-stop timeout),
   * then the admin.
   */
  private synchronized void stopAll() {
    List<Thread> stoppers = new ArrayList<>();
    for (Pipeline p : pipelines) {
      Thread t = new Thread(p::stopGracefully, "tributary-" + p.id() + "-stop-0");
      t.start();
      stoppers.add(t);
    }
    boolean interrupted = false;
    for (Thread t : stoppers) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          // Keep waiting: returning early would let the JVM exit with batches half-written. Restore
          // the flag after.
          interrupted = true;
        }
      }
    }
    if (admin != null) {
      admin.close();
      admin = null;
    }
    for (CheckpointStorage s : storages) {
      try {
        s.close();
      } catch (IOException | RuntimeException e) {
        LOG.warn(
            "event=checkpoint_close_failed checkpoint={} error=\"{}\"", s.describe(), e.toString());
      }
    }
    storages.clear();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  public List<Pipeline> pipelines() {
    return List.copyOf(pipelines);
  }

  /** The admin endpoint's port, or -1 without one. */
  public int adminPort() {
    return admin == null ? -1 : admin.address().getPort();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    stop();
    Metrics.removeRegistry(registry);
    jvmGc.close();
  }
}
