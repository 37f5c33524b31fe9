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
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Position;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.Source;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import io.tributary.core.runtime.CheckpointOffsets;
import io.tributary.core.runtime.Pipeline;
import io.tributary.core.runtime.PipelineOptions;
import io.tributary.core.runtime.PipelineState;
import io.tributary.gateway.internal.AdminControl;
import io.tributary.gateway.internal.AdminControl.ControlException;
import io.tributary.gateway.internal.AdminServer;
import io.tributary.gateway.internal.SystemdNotify;
import io.tributary.gateway.internal.Transforms;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

  /** The configuration in effect (replaced by {@link #reload()}). */
  private volatile GatewayConfig config;

  /** Where {@link #reload()} reads the configuration again; {@code null}: the embedded default. */
  private final Path configFile;

  /**
   * Per pipeline id, in configuration order: its configuration and current run. Guarded by this.
   */
  private final Map<String, Slot> slots = new LinkedHashMap<>();

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  /** Bound by {@link #bindJvmMetrics()} once the pipelines have started; closed by close(). */
  private volatile JvmGcMetrics jvmGc;

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
    this(config, null);
  }

  /**
   * @param configFile the file {@code config} was loaded from, read again by {@link #reload()}
   *     (SIGHUP, {@code POST /reload}); {@code null} for the embedded default
   */
  public Gateway(GatewayConfig config, Path configFile) {
    config.claimForRun();
    this.config = config;
    this.configFile = configFile;
    Metrics.addRegistry(registry);
  }

  /**
   * What an operator needs next to the pipeline figures: heap, GC pauses, threads, CPU, uptime.
   * Bound once the pipelines have started and before the admin endpoint serves {@code /metrics}:
   * the JVM's management beans they read take CPU that the first batch needs more at start.
   */
  private synchronized void bindJvmMetrics() {
    if (jvmGc != null) {
      return;
    }
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    jvmGc = gc;
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
          Slot slot = new Slot(pc);
          slots.put(pc.id(), slot);
          Pipeline p = build(slot);
          slot.pipeline = p;
          publish();
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
      bindJvmMetrics();
      if (config.admin() != null) {
        try {
          GatewayConfig.Admin a = config.admin();
          SslContext ssl =
              a.tlsCert() == null
                  ? null
                  : SslContextBuilder.forServer(a.tlsCert().toFile(), a.tlsKey().toFile()).build();
          admin =
              new AdminServer(
                  new AdminServer.Settings(a.host(), a.port(), a.token(), ssl, a.readIdleTimeout()),
                  new Control(),
                  registry);
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

  /**
   * Builds the slot's next run: with the instances validation built the first time, with new ones
   * from the factories after (a restart; sources and sinks run once).
   */
  private Pipeline build(Slot slot) {
    GatewayConfig.PipelineConfig pc = slot.pc;
    Source source;
    List<Sink> sinks;
    if (!slot.builtUsed) {
      slot.builtUsed = true;
      source = pc.builtSource(); // built once, by validation
      sinks = pc.builtSinks();
    } else {
      source =
          config
              .connectors()
              .sourceFactories()
              .get(pc.source().type())
              .create("source", pc.source().config());
      sinks = new ArrayList<>();
      for (int i = 0; i < pc.sinks().size(); i++) {
        GatewayConfig.Component c = pc.sinks().get(i);
        sinks.add(
            config
                .connectors()
                .sinkFactories()
                .get(c.type())
                .create(c.type() + "-" + i, c.config()));
      }
    }
    return build(pc, source, sinks, slot);
  }

  private Pipeline build(
      GatewayConfig.PipelineConfig pc, Source source, List<Sink> sinks, Slot slot) {
    Pipeline.Builder b =
        Pipeline.builder(pc.id())
            .options(pc.options())
            .configFingerprint(pc.fingerprint())
            .secrets(pc.secretValues())
            .meterRegistry(registry);
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
            CheckpointStorageFactory.open(
                pc.checkpointLocation(),
                pc.checkpointOptions(),
                config.connectors().checkpointStorageFactories());
        storages.add(storage);
        slot.storage = storage;
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
      b.sink(s.type() + "-" + i, sinks.get(i));
    }
    return b.build();
  }

  /**
   * Blocks until {@link #stop()} is called or a pipeline failure ends the run. What a failure of a
   * running pipeline does is the configuration's {@code on-pipeline-failure}: {@code stop-gateway}
   * stops the other pipelines gracefully and returns {@link Outcome#FAILED}; {@code keep-running}
   * (the default) logs it and keeps the others running (the failed one stays FAILED in the status
   * and the page), and returns {@link Outcome#FAILED} only once every pipeline has failed.
   */
  public Outcome awaitStopOrFailure() throws InterruptedException {
    java.util.Set<Pipeline> reported =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    while (!stopRequested.await(200, TimeUnit.MILLISECONDS)) {
      supervisionTickNanos = System.nanoTime();
      boolean keepRunning =
          config.onPipelineFailure() == GatewayConfig.OnPipelineFailure.KEEP_RUNNING;
      int failed = 0;
      List<Slot> slotsNow = view;
      for (Slot slot : slotsNow) {
        Pipeline p = slot.pipeline;
        if (p != null) {
          reportStall(p);
        }
        // A run an operator started (restart, reload) that could not start is reported to them and
        // does not stop the gateway; a failure while running does, unless keep-running.
        if (p != null && !slot.startFailed && p.status().state() == PipelineState.FAILED) {
          failed++;
          if (!keepRunning) {
            LOG.error(
                "event=pipeline_failed pipeline={} error=\"{}\" action=stop_gateway",
                p.id(),
                config.scrub(p.status().failure()));
            stopAll();
            return Outcome.FAILED;
          }
          if (reported.add(p)) {
            LOG.error(
                "event=pipeline_failed pipeline={} error=\"{}\" action=keep_running"
                    + " hint=\"the other pipelines keep running (on-pipeline-failure: keep-running);"
                    + " fix the cause and restart this one (POST /pipelines/{}/restart or a"
                    + " restart of the gateway)\"",
                p.id(),
                config.scrub(p.status().failure()),
                p.id());
          }
        }
      }
      if (keepRunning && failed > 0 && failed == slotsNow.size()) {
        LOG.error("event=all_pipelines_failed pipelines={} action=stop_gateway", failed);
        stopAll();
        return Outcome.FAILED;
      }
    }
    return Outcome.STOPPED;
  }

  /** Pipelines whose current stall was logged (stall-timeout), by identity. */
  private final java.util.Set<Pipeline> stallLogged =
      java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

  /** Logs once when a pipeline's listing or batch stalls, and once when it moves again. */
  private void reportStall(Pipeline p) {
    long stalled = p.status().stalledMillis();
    if (stalled > 0 && stallLogged.add(p)) {
      LOG.warn(
          "event=pipeline_stalled pipeline={} no_progress_ms={} hint=\"the listing or batch in"
              + " progress has made no progress for stall-timeout: a source or sink call is"
              + " blocked (see a thread dump of tributary-{}-*)\"",
          p.id(),
          stalled,
          p.id());
    } else if (stalled == 0 && stallLogged.remove(p)) {
      LOG.info("event=pipeline_progress_resumed pipeline={}", p.id());
    }
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

  /** sd_notify for a {@code Type=notify} unit, set by the CLI; does nothing without one. */
  private volatile SystemdNotify systemd = SystemdNotify.fromEnvironment(Map.of());

  /** When {@link #awaitStopOrFailure()} last looked at the pipelines (the watchdog's liveness). */
  private volatile long supervisionTickNanos = System.nanoTime();

  void systemd(SystemdNotify notify) {
    this.systemd = notify;
  }

  long supervisionTickNanos() {
    return supervisionTickNanos;
  }

  /**
   * One line for {@code systemctl status} ({@code STATUS=}): pipelines by state, failed ones named,
   * and the admin address.
   */
  String statusLine() {
    Map<String, Integer> byState = new java.util.TreeMap<>();
    List<String> failed = new ArrayList<>();
    for (Slot s : view) {
      Pipeline p = s.pipeline;
      String st = p == null ? "CREATED" : p.status().state().name();
      byState.merge(st, 1, Integer::sum);
      if (p != null && p.status().state() == PipelineState.FAILED) {
        failed.add(s.pc.id());
      }
    }
    StringBuilder sb = new StringBuilder().append(view.size()).append(" pipelines");
    byState.forEach((st, n) -> sb.append(", ").append(n).append(' ').append(st));
    if (!failed.isEmpty()) {
      sb.append(" (failed: ").append(String.join(", ", failed)).append(')');
    }
    AdminServer a = admin;
    if (a != null && config.admin() != null) {
      sb.append("; admin http://")
          .append(config.admin().host())
          .append(':')
          .append(a.address().getPort())
          .append('/');
    }
    return sb.toString();
  }

  /** The admin endpoint's port, or -1 without one. */
  public int adminPort() {
    return admin == null ? -1 : admin.address().getPort();
  }

  /**
   * The gateway's meter registry: the pipelines' meters, and the JVM's (heap, GC, threads, class
   * loading, CPU, uptime) once {@link #start()} has started the pipelines.
   */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    stop();
    Metrics.removeRegistry(registry);
    JvmGcMetrics gc = jvmGc;
    if (gc != null) {
      gc.close();
    }
  }

  /** One configured pipeline and its current run. */
  private static final class Slot {
    final GatewayConfig.PipelineConfig pc;
    volatile Pipeline pipeline;
    volatile boolean operatorStopped;
    volatile boolean startFailed;
    boolean builtUsed;
    CheckpointStorage storage;

    Slot(GatewayConfig.PipelineConfig pc) {
      this.pc = pc;
    }
  }

  /**
   * What readers see of {@link #slots} without the monitor (the status must not wait for a drain).
   */
  private volatile List<Slot> view = List.of();

  private void publish() {
    view = List.copyOf(slots.values());
  }

  /**
   * Loads the configuration file again and applies it: added pipelines start, removed ones stop
   * gracefully, changed ones (any setting, source, transform or sink) restart, the others keep
   * running. An invalid file is refused whole and nothing changes. Blocks while pipelines drain.
   * Admin settings are not reloaded (restart the gateway for them). Called on SIGHUP and by {@code
   * POST /reload}.
   *
   * @throws GatewayConfigException with every problem of the new file (nothing changed)
   * @throws IllegalStateException when the gateway is not running
   */
  public AdminControl.ReloadResult reload() throws IOException {
    GatewayConfig next =
        configFile == null
            ? GatewayConfig.loadDefault(config.pluginPathOverride())
            : GatewayConfig.load(configFile, config.pluginPathOverride());
    next.claimForRun();
    SystemdNotify notify = systemd;
    notify.reloading("reloading " + next.origin());
    try {
      return apply(next);
    } finally {
      if (stopRequested.getCount() > 0) {
        notify.ready(statusLine()); // ends RELOADING=1, applied or not
      }
    }
  }

  private AdminControl.ReloadResult apply(GatewayConfig next) {
    List<String> added = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    List<String> restarted = new ArrayList<>();
    List<String> unchanged = new ArrayList<>();
    synchronized (this) {
      if (stopRequested.getCount() == 0 || startDone.getCount() > 0) {
        throw new IllegalStateException("the gateway is starting or stopping: reload refused");
      }
      if (!java.util.Objects.equals(String.valueOf(config.admin()), String.valueOf(next.admin()))) {
        LOG.warn(
            "event=reload_admin_ignored detail=\"admin settings changed; they apply after a gateway restart\"");
      }
      Map<String, Slot> old = new LinkedHashMap<>(slots);
      Set<String> nextIds = new java.util.HashSet<>();
      next.pipelines().forEach(pc -> nextIds.add(pc.id()));
      for (Slot s : old.values()) {
        if (!nextIds.contains(s.pc.id())) {
          stopSlot(s);
          pipelines.remove(s.pipeline);
          slots.remove(s.pc.id());
          removed.add(s.pc.id());
        }
      }
      config = next;
      Map<String, Slot> ordered = new LinkedHashMap<>();
      for (GatewayConfig.PipelineConfig pc : next.pipelines()) {
        Slot previous = old.get(pc.id());
        if (previous != null && same(previous.pc, pc)) {
          ordered.put(pc.id(), previous);
          unchanged.add(pc.id());
          continue;
        }
        if (previous != null) {
          stopSlot(previous);
          restarted.add(pc.id());
        } else {
          added.add(pc.id());
        }
        Slot slot = new Slot(pc);
        ordered.put(pc.id(), slot);
        startSlot(slot, previous == null ? null : previous.pipeline);
      }
      slots.clear();
      slots.putAll(ordered);
      publish();
    }
    LOG.info(
        "event=config_reloaded config=\"{}\" added={} removed={} restarted={} unchanged={}",
        next.origin(),
        added,
        removed,
        restarted,
        unchanged);
    return new AdminControl.ReloadResult(added, removed, restarted, unchanged);
  }

  /** Whether two configurations of a pipeline would run the same. */
  private static boolean same(GatewayConfig.PipelineConfig a, GatewayConfig.PipelineConfig b) {
    return a.fingerprint().equals(b.fingerprint())
        && a.options().explicitSettings().equals(b.options().explicitSettings())
        && a.checkpointLocation().equals(b.checkpointLocation())
        && a.checkpointOptions().equals(b.checkpointOptions())
        && java.util.Objects.equals(a.walDir(), b.walDir())
        && a.source().raw().equals(b.source().raw())
        && a.transforms().stream()
            .map(GatewayConfig.Component::raw)
            .toList()
            .equals(b.transforms().stream().map(GatewayConfig.Component::raw).toList())
        && a.sinks().stream()
            .map(GatewayConfig.Component::raw)
            .toList()
            .equals(b.sinks().stream().map(GatewayConfig.Component::raw).toList());
  }

  /** Stops the slot's run gracefully (blocks) and closes its remote checkpoint storage. */
  private void stopSlot(Slot s) {
    Pipeline p = s.pipeline;
    if (p != null) {
      p.stopGracefully();
    }
    if (s.storage != null) {
      try {
        s.storage.close();
      } catch (IOException | RuntimeException e) {
        LOG.warn(
            "event=checkpoint_close_failed checkpoint={} error=\"{}\"",
            s.storage.describe(),
            e.toString());
      }
      storages.remove(s.storage);
      s.storage = null;
    }
  }

  /**
   * Builds and starts the slot's next run in place of {@code previous} (or appended). A start
   * failure is logged and thrown; the failed run stays visible in the status.
   */
  private void startSlot(Slot slot, Pipeline previous) {
    String id = slot.pc.id();
    // The engine registers its gauges per pipeline; drop the previous run's so they follow this
    // one.
    registry.getMeters().stream()
        .filter(m -> id.equals(m.getId().getTag("pipeline")))
        .toList()
        .forEach(registry::remove);
    Pipeline p;
    try {
      p = build(slot);
    } catch (RuntimeException e) {
      slot.startFailed = true;
      throw e;
    }
    slot.pipeline = p;
    slot.operatorStopped = false;
    slot.startFailed = false;
    if (previous != null && pipelines.contains(previous)) {
      pipelines.replaceAll(x -> x == previous ? p : x);
    } else {
      pipelines.add(p);
    }
    try {
      p.start();
    } catch (RuntimeException e) {
      slot.startFailed = true;
      LOG.error(
          "event=pipeline_start_failed pipeline={} error=\"{}\"", id, config.scrub(e.toString()));
      throw e;
    }
  }

  /** Opens the checkpoint of {@code pc} for reading or moving its offsets; the caller closes it. */
  static CheckpointStorage openCheckpoint(
      GatewayConfig.PipelineConfig pc, List<CheckpointStorageFactory> factories)
      throws IOException {
    return pc.checkpoint() != null
        ? new LocalCheckpointStorage(pc.checkpoint())
        : CheckpointStorageFactory.open(pc.checkpointLocation(), pc.checkpointOptions(), factories);
  }

  /** The admin endpoint's view of this gateway. */
  private final class Control implements AdminControl {
    @Override
    public List<Entry> entries() {
      List<Entry> out = new ArrayList<>();
      for (Slot s : view) {
        out.add(entry(s));
      }
      return out;
    }

    private Entry entry(Slot s) {
      List<Map.Entry<String, String>> sinks = new ArrayList<>();
      Map<String, SinkFactory> factories = config.connectors().sinkFactories();
      for (GatewayConfig.Component c : s.pc.sinks()) {
        SinkFactory f = factories.get(c.type());
        sinks.add(Map.entry(c.type(), f == null ? "unknown" : f.guarantee().name()));
      }
      return new Entry(
          s.pc.id(),
          s.pipeline,
          s.pc.source().type(),
          s.pc.builtSource() instanceof Receiver ? "receiver" : "direct",
          sinks,
          s.operatorStopped);
    }

    private Slot slot(String id) {
      for (Slot s : view) {
        if (s.pc.id().equals(id)) {
          return s;
        }
      }
      throw new ControlException(404, "no pipeline " + id + " (GET /pipelines lists them)");
    }

    private Slot running(String id) {
      Slot s = slot(id);
      Pipeline p = s.pipeline;
      if (p == null || p.status().state() != PipelineState.RUNNING) {
        throw new ControlException(
            409,
            "pipeline "
                + id
                + " is "
                + (p == null ? "not started" : p.status().state())
                + " (expected: RUNNING; POST /pipelines/"
                + id
                + "/restart starts it)");
      }
      return s;
    }

    private void checkGatewayRunning() {
      if (stopRequested.getCount() == 0) {
        throw new ControlException(409, "the gateway is stopping");
      }
    }

    @Override
    public Entry pause(String id) {
      Slot s = running(id);
      s.pipeline.pause();
      return entry(s);
    }

    @Override
    public Entry resume(String id) {
      Slot s = running(id);
      s.pipeline.resume();
      return entry(s);
    }

    @Override
    public Entry restart(String id) {
      synchronized (Gateway.this) {
        checkGatewayRunning();
        Slot s = slot(id);
        Pipeline previous = s.pipeline;
        stopSlot(s);
        LOG.info("event=pipeline_restart pipeline={} by=admin", id);
        try {
          startSlot(s, previous);
        } catch (RuntimeException e) {
          throw new ControlException(500, "pipeline " + id + " could not start: " + e.getMessage());
        }
        publish();
        return entry(s);
      }
    }

    @Override
    public Entry stop(String id) {
      synchronized (Gateway.this) {
        checkGatewayRunning();
        Slot s = slot(id);
        LOG.info("event=pipeline_stop pipeline={} by=admin", id);
        s.operatorStopped = true;
        stopSlot(s);
        return entry(s);
      }
    }

    private Slot stopped(String id) {
      Slot s = slot(id);
      Pipeline p = s.pipeline;
      PipelineState st = p == null ? PipelineState.CREATED : p.status().state();
      if (st == PipelineState.RUNNING
          || st == PipelineState.STARTING
          || st == PipelineState.STOPPING) {
        throw new ControlException(
            409,
            "pipeline "
                + id
                + " is "
                + st
                + ": offsets change only on a stopped pipeline (POST /pipelines/"
                + id
                + "/stop first)");
      }
      return s;
    }

    private interface OffsetsCall {
      CheckpointOffsets.Snapshot run(CheckpointStorage storage);
    }

    private CheckpointOffsets.Snapshot withCheckpoint(Slot s, OffsetsCall call) {
      try (CheckpointStorage storage =
          openCheckpoint(s.pc, config.connectors().checkpointStorageFactories())) {
        return call.run(storage);
      } catch (IOException e) {
        throw new ControlException(
            503, "cannot open checkpoint " + s.pc.checkpointLocation() + ": " + e);
      }
    }

    @Override
    public CheckpointOffsets.Snapshot offsets(String id) {
      return withCheckpoint(slot(id), st -> CheckpointOffsets.read(st).orElse(null));
    }

    @Override
    public CheckpointOffsets.Snapshot alterOffsets(String id, Map<String, String> positions) {
      synchronized (Gateway.this) {
        Slot s = stopped(id);
        Map<String, Position> parsed = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : positions.entrySet()) {
          try {
            parsed.put(e.getKey(), Position.parse(e.getValue()));
          } catch (IllegalArgumentException ex) {
            throw new ControlException(400, "partition " + e.getKey() + ": " + ex.getMessage());
          }
        }
        CheckpointOffsets.Snapshot r =
            withCheckpoint(s, st -> CheckpointOffsets.alter(st, parsed, "admin-api"));
        LOG.info(
            "event=offsets_altered pipeline={} batch={} partitions={} by=admin-api",
            id,
            r.batchId(),
            parsed.keySet());
        return r;
      }
    }

    @Override
    public CheckpointOffsets.Snapshot resetOffsets(String id, Collection<String> partitions) {
      synchronized (Gateway.this) {
        Slot s = stopped(id);
        CheckpointOffsets.Snapshot r =
            withCheckpoint(
                s,
                st ->
                    CheckpointOffsets.reset(
                        st, partitions.isEmpty() ? null : List.copyOf(partitions), "admin-api"));
        LOG.info(
            "event=offsets_reset pipeline={} batch={} partitions={} by=admin-api",
            id,
            r.batchId(),
            partitions.isEmpty() ? "all" : partitions);
        return r;
      }
    }

    @Override
    public ReloadResult reload() {
      try {
        return Gateway.this.reload();
      } catch (ConfigException e) {
        throw new ControlException(
            400, "configuration refused, nothing changed: " + String.join("; ", e.problems()));
      } catch (IOException e) {
        throw new ControlException(400, "configuration refused, nothing changed: " + e);
      } catch (IllegalStateException e) {
        throw new ControlException(409, e.getMessage());
      }
    }

    @Override
    public String scrub(String text) {
      return config.scrub(text);
    }
  }
}
