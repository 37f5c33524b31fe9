package io.tributary.gateway;

import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.ConfigDocs;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.IncompatibleCheckpointException;
import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.SourceFactory;
import io.tributary.gateway.internal.Transforms;
import io.tributary.gateway.plugins.Connectors;
import io.tributary.gateway.plugins.Plugin;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The {@code tributary} command line.
 *
 * <p>Exit codes: 0 clean stop (also after SIGTERM/SIGINT, once every pipeline drained and
 * committed); 1 a pipeline failed (at start or while running); 2 invalid configuration or usage; 3
 * a checkpoint is incompatible or unusable.
 */
@Command(
    name = "tributary",
    mixinStandardHelpOptions = true,
    versionProvider = TributaryCli.Version.class,
    description =
        "Tributary ingestion gateway: runs source -> transforms -> sink pipelines from a YAML file.",
    subcommands = {
      TributaryCli.Run.class,
      TributaryCli.Validate.class,
      TributaryCli.VersionCmd.class,
      TributaryCli.Types.class,
      TributaryCli.PluginsCmd.class,
      OffsetsCommand.class
    },
    exitCodeListHeading = TributaryCli.EXIT_HEADING,
    exitCodeList = {
      TributaryCli.EXIT_0,
      TributaryCli.EXIT_1,
      TributaryCli.EXIT_2,
      TributaryCli.EXIT_3
    })
public final class TributaryCli implements Callable<Integer> {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int INVALID = 2;
  public static final int CHECKPOINT = 3;

  static final String EXIT_HEADING = "%nExit codes:%n";
  static final String EXIT_0_VALID = "0:the configuration is valid";
  static final String EXIT_0 =
      "0:clean stop (also after SIGTERM/SIGINT once every pipeline drained and committed)";
  static final String EXIT_1 =
      "1:a pipeline failed (at start or while running; the others are stopped gracefully), or a"
          + " JVM Error such as OutOfMemoryError on any thread (logged as event=fatal_error; the"
          + " process ends at once, pipelines resume from their checkpoints)";
  static final String EXIT_2 = "2:invalid configuration or usage (every problem is printed)";
  static final String EXIT_3 =
      "3:a checkpoint is incompatible (another pipeline's or source's) or unusable";

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.out);
    return INVALID;
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /**
   * Runs the command line and returns the exit code (without exiting). {@code run} in its usual
   * forms ({@link #quickRun}) starts without picocli, whose own start costs about a third of a CPU
   * second before the first pipeline can start; everything else goes through picocli.
   */
  public static int execute(String... args) {
    Run quick = quickRun(args);
    return quick != null ? runQuickly(quick) : executeWithPicocli(args);
  }

  /**
   * {@code run} parsed without picocli when {@code args} is {@code run} followed only by {@code
   * --config FILE}, {@code --log-format FORMAT} (each at most once) and {@code --plugins DIR[,DIR]}
   * (repeatable), each as {@code --name value} or {@code --name=value}, with values that are not
   * empty and do not start with {@code -} or {@code @}; else {@code null}, and picocli parses
   * (help, errors and their messages, argument files, anything unusual). Where this returns a
   * command, its fields are what picocli would have set.
   */
  static Run quickRun(String[] args) {
    if (args.length == 0 || !args[0].equals("run")) {
      return null;
    }
    Run run = new Run();
    run.options = new ConfigFileOptions();
    run.logFormat = "text";
    boolean format = false;
    for (int i = 1; i < args.length; i++) {
      String name = args[i];
      String value;
      int eq = name.indexOf('=');
      if (name.startsWith("--") && eq > 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        return null;
      }
      if (value.isEmpty() || value.startsWith("-") || value.startsWith("@")) {
        return null;
      }
      switch (name) {
        case "--config" -> {
          if (run.options.config != null) {
            return null;
          }
          run.options.config = quickPath(value);
          if (run.options.config == null) {
            return null;
          }
        }
        case "--log-format" -> {
          if (format) {
            return null;
          }
          format = true;
          run.logFormat = value;
        }
        case "--plugins" -> {
          if (value.endsWith(",") || value.indexOf('"') >= 0 || value.indexOf('\'') >= 0) {
            return null;
          }
          if (run.options.plugins == null) {
            run.options.plugins = new java.util.ArrayList<>();
          }
          for (String dir : value.split(",")) {
            Path p = dir.isEmpty() ? null : quickPath(dir);
            if (p == null) {
              return null;
            }
            run.options.plugins.add(p);
          }
        }
        default -> {
          return null;
        }
      }
    }
    return run;
  }

  private static Path quickPath(String s) {
    try {
      return Path.of(s);
    } catch (java.nio.file.InvalidPathException e) {
      return null; // picocli reports it
    }
  }

  /** Runs {@code run} as picocli would: an exception is printed and mapped to an exit code. */
  private static int runQuickly(Run run) {
    try {
      return run.call();
    } catch (Exception e) {
      e.printStackTrace(System.err);
      System.err.flush();
      return e instanceof ConfigException ? INVALID : FAILED;
    }
  }

  private static int executeWithPicocli(String... args) {
    CommandLine cl = new CommandLine(new TributaryCli());
    cl.setExitCodeExceptionMapper(t -> t instanceof ConfigException ? INVALID : FAILED);
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          PrintWriter err = ex.getCommandLine().getErr();
          err.println(ex.getMessage());
          ex.getCommandLine().usage(err);
          return INVALID;
        });
    return cl.execute(args);
  }

  static String version() {
    String v = TributaryCli.class.getPackage().getImplementationVersion();
    return v == null ? "development" : v;
  }

  /** Version from the jar manifest. */
  public static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "tributary " + version() + " (Java " + System.getProperty("java.version") + ")"
      };
    }
  }

  static final String PLUGINS_HELP =
      "Plugin directories (comma-separated or repeated): each subdirectory or jar file in one is a"
          + " plugin, loaded in its own class loader. Default: plugins.path of the configuration,"
          + " else the installation's plugins/ directory.";

  static GatewayConfig load(ConfigFileOptions o) throws java.io.IOException {
    return o.config == null
        ? GatewayConfig.loadDefault(o.plugins)
        : GatewayConfig.load(o.config, o.plugins);
  }

  /** The options {@code run} and {@code validate} share. */
  static final class ConfigFileOptions {
    @Option(
        names = "--config",
        paramLabel = "FILE",
        description =
            "YAML pipeline file (default: the embedded default configuration). Relative paths in it are"
                + " relative to the working directory.")
    Path config;

    @Option(names = "--plugins", paramLabel = "DIR", split = ",", description = PLUGINS_HELP)
    List<Path> plugins;

    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;
  }

  @Command(
      name = "run",
      description = "Runs the pipelines until SIGTERM/SIGINT (graceful: drain and commit).",
      exitCodeListHeading = EXIT_HEADING,
      exitCodeList = {EXIT_0, EXIT_1, EXIT_2, EXIT_3})
  static final class Run implements Callable<Integer> {
    @Mixin ConfigFileOptions options;

    @Option(
        names = "--log-format",
        paramLabel = "FORMAT",
        defaultValue = "text",
        description =
            "text (default) or json: one JSON object per log event, key=value pairs as fields")
    String logFormat;

    @Override
    public Integer call() throws Exception {
      if (logFormat.equals("json")) {
        io.tributary.gateway.internal.JsonLogStream.install();
      } else if (!logFormat.equals("text")) {
        System.err.println(
            "tributary: invalid --log-format " + logFormat + " (expected: text or json)");
        return INVALID;
      }
      GatewayConfig cfg;
      try {
        cfg = load(options);
      } catch (ConfigException e) {
        e.problems().forEach(System.err::println);
        return INVALID;
      }
      // A JVM Error on any thread (OutOfMemoryError on a pipeline thread) ends the process with 1.
      io.tributary.gateway.internal.FatalErrors.install(FAILED);
      Gateway gateway = new Gateway(cfg, options.config);
      // systemd Type=notify: READY=1 once started, STOPPING=1 on SIGTERM, STATUS= lines,
      // WATCHDOG=1.
      io.tributary.gateway.internal.SystemdNotify systemd =
          io.tributary.gateway.internal.SystemdNotify.fromEnvironment(System.getenv());
      gateway.systemd(systemd);
      java.util.concurrent.atomic.AtomicBoolean stopping =
          new java.util.concurrent.atomic.AtomicBoolean();
      Thread main = Thread.currentThread();
      Thread hook =
          new Thread(
              () -> {
                int code = FAILED;
                try {
                  stopping.set(true);
                  systemd.stopping(
                      "stopping: draining " + gateway.pipelines().size() + " pipelines");
                  gateway.stop();
                  code =
                      gateway.pipelines().stream().anyMatch(p -> p.failure().isPresent())
                          ? FAILED
                          : OK;
                } catch (RuntimeException | Error e) {
                  System.err.println("tributary: graceful stop failed: " + e);
                } finally {
                  System.out.flush();
                  System.err.flush();
                  // A signal ends the JVM with 128+N; a completed graceful stop is a clean exit.
                  Runtime.getRuntime().halt(code);
                }
              },
              "tributary-gateway-shutdown-0");
      // Installed before start: a signal during start stops what started (gracefully) instead of
      // killing it.
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        gateway.start();
      } catch (RuntimeException | java.io.IOException e) {
        int code = startFailure(e, cfg);
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          main.join(); // a signal arrived meanwhile: the hook halts the JVM
        }
        return code;
      }
      reloadOnSighup(gateway);
      // Started: every pipeline runs and the admin endpoint answers.
      systemd.ready(gateway.statusLine());
      startSystemdStatus(gateway, systemd, stopping);
      Gateway.Outcome outcome = gateway.awaitStopOrFailure();
      if (outcome == Gateway.Outcome.FAILED) {
        System.err.println("tributary: a pipeline failed; see the log above. Stopped the others.");
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
          return FAILED;
        } catch (IllegalStateException shuttingDown) {
          // A signal arrived meanwhile: the hook is running and halts with exit code 1 (a pipeline
          // failed).
        }
      }
      main.join(); // waits for ever: the shutdown hook halts the JVM with the exit code once every
      // pipeline stopped
      return OK;
    }
  }

  /**
   * Under systemd: a daemon thread that sends {@code STATUS=} when the pipelines' states change
   * and, when the unit sets {@code WatchdogSec}, {@code WATCHDOG=1} every half period, but only
   * while the gateway's supervision loop ({@link Gateway#awaitStopOrFailure()}) keeps turning (a
   * hung gateway is then restarted by systemd) or a graceful stop is draining (bounded by {@code
   * TimeoutStopSec}).
   */
  private static void startSystemdStatus(
      Gateway gateway,
      io.tributary.gateway.internal.SystemdNotify systemd,
      java.util.concurrent.atomic.AtomicBoolean stopping) {
    if (!systemd.enabled()) {
      return;
    }
    long watchdogMs = systemd.watchdogIntervalMillis();
    long periodMs = watchdogMs > 0 ? Math.min(watchdogMs, 1000) : 1000;
    java.util.concurrent.ScheduledExecutorService timer =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "tributary-gateway-systemd-0");
              t.setDaemon(true);
              return t;
            });
    String[] last = {gateway.statusLine()};
    timer.scheduleAtFixedRate(
        () -> {
          try {
            if (!stopping.get()) {
              String line = gateway.statusLine();
              if (!line.equals(last[0])) {
                systemd.status(line);
                last[0] = line;
              }
            }
            long sinceTickMs =
                java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(
                    System.nanoTime() - gateway.supervisionTickNanos());
            if (watchdogMs > 0 && (stopping.get() || sinceTickMs < 2 * watchdogMs)) {
              systemd.watchdog();
            }
          } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(Gateway.class)
                .warn("event=sd_status_failed error=\"{}\"", e.toString());
          }
        },
        periodMs,
        periodMs,
        java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /**
   * SIGHUP reloads the configuration file ({@link Gateway#reload()}) on a thread of its own: the
   * signal thread must not block while pipelines drain. An invalid file is logged and changes
   * nothing.
   */
  @SuppressWarnings(
      "sunapi") // sun.misc.Signal: the JDK's only way to handle SIGHUP (jdk.unsupported)
  static void reloadOnSighup(Gateway gateway) {
    try {
      sun.misc.Signal.handle(
          new sun.misc.Signal("HUP"),
          sig -> {
            Thread t = new Thread(() -> reload(gateway), "tributary-gateway-reload-0");
            t.setDaemon(true);
            t.start();
          });
    } catch (IllegalArgumentException e) {
      System.err.println(
          "tributary: SIGHUP is not available here; use POST /reload: " + e.getMessage());
    }
  }

  private static void reload(Gateway gateway) {
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Gateway.class);
    try {
      gateway.reload();
    } catch (ConfigException e) {
      log.error(
          "event=reload_refused reason=invalid_config problems={} detail=\"nothing changed\"",
          e.problems().size());
      e.problems().forEach(p -> log.error("event=reload_problem problem=\"{}\"", p));
    } catch (RuntimeException | java.io.IOException e) {
      log.error("event=reload_failed error=\"{}\"", e.toString());
    }
  }

  /** The exit code and message for a gateway that could not start; the cause chain decides. */
  static int startFailure(Exception e, GatewayConfig cfg) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof IncompatibleCheckpointException || c instanceof CheckpointException) {
        System.err.println("tributary: checkpoint unusable: " + cfg.scrub(c.getMessage()));
        return CHECKPOINT;
      }
      if (c instanceof ConfigException ce) {
        ce.problems().forEach(p -> System.err.println(cfg.scrub(p)));
        return INVALID;
      }
    }
    System.err.println("tributary: cannot start: " + cfg.scrub(e.getMessage()));
    return FAILED;
  }

  @Command(
      name = "validate",
      description = "Checks a configuration file and prints every problem.",
      exitCodeListHeading = EXIT_HEADING,
      exitCodeList = {EXIT_0_VALID, EXIT_2})
  static final class Validate implements Callable<Integer> {
    @Mixin ConfigFileOptions options;

    @Override
    public Integer call() throws Exception {
      try {
        GatewayConfig cfg = load(options);
        int n = cfg.pipelines().size();
        System.out.println(
            "OK: " + n + (n == 1 ? " pipeline" : " pipelines") + " in " + cfg.origin());
        return OK;
      } catch (ConfigException e) {
        e.problems().forEach(System.err::println);
        System.err.println(e.problems().size() + " problem(s) found");
        return INVALID;
      }
    }
  }

  @Command(name = "version", description = "Prints the version.")
  static final class VersionCmd implements Callable<Integer> {
    @Override
    public Integer call() {
      System.out.println(new Version().getVersion()[0]);
      return OK;
    }
  }

  @Command(
      name = "types",
      description = "Lists the source and sink types: the classpath's and the plugins'.")
  static final class Types implements Callable<Integer> {
    @Option(names = "--options", description = "Also list each type's options (Markdown tables).")
    boolean options;

    @Option(names = "--plugins", paramLabel = "DIR", split = ",", description = PLUGINS_HELP)
    List<Path> plugins;

    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

    @Override
    public Integer call() {
      List<SourceFactory> sourceFactories;
      List<SinkFactory> sinkFactories;
      try {
        Connectors connectors =
            Connectors.load(plugins != null ? plugins : Connectors.defaultPluginPath());
        // every plugin, also those that declare their types and are otherwise loaded on use
        sourceFactories = List.copyOf(connectors.sourceFactories().values());
        sinkFactories = List.copyOf(connectors.sinkFactories().values());
      } catch (ConfigException e) {
        e.problems().forEach(System.err::println);
        return INVALID;
      }
      System.out.println("sources:");
      for (SourceFactory f : sourceFactories) {
        System.out.printf("  %-16s %s%n", f.type(), f.description());
        printOptions(f.options());
      }
      System.out.println("sinks:");
      for (SinkFactory f : sinkFactories) {
        System.out.printf("  %-16s %-26s %s%n", f.type(), f.guarantee(), f.description());
        printOptions(f.options());
      }
      System.out.println("transforms:");
      for (String t : Transforms.types()) {
        System.out.printf("  %s%n", t);
        printOptions(Transforms.spec(t));
      }
      return OK;
    }

    private void printOptions(ConfigSpec spec) {
      if (options) {
        System.out.println();
        System.out.println(ConfigDocs.markdownTable(spec).indent(4));
      }
    }
  }

  @Command(
      name = "plugins",
      description =
          "Lists the plugins (name, version, location), the source and sink types each provides,"
              + " and any type provided twice.",
      exitCodeListHeading = EXIT_HEADING,
      exitCodeList = {
        "0:every plugin loads and no type is provided twice",
        "2:a plugin cannot load or a type is provided twice (each problem is printed)"
      })
  static final class PluginsCmd implements Callable<Integer> {
    @Option(names = "--plugins", paramLabel = "DIR", split = ",", description = PLUGINS_HELP)
    List<Path> plugins;

    @Option(
        names = "--config",
        paramLabel = "FILE",
        description = "Take the plugin path from this file's plugins.path (when no --plugins).")
    Path config;

    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

    @Override
    public Integer call() throws Exception {
      List<Path> path = plugins;
      if (path == null && config != null) {
        try {
          path = GatewayConfig.load(config).connectors().pluginPath();
        } catch (ConfigException e) {
          e.problems().forEach(System.err::println);
          return INVALID;
        }
      }
      if (path == null) {
        path = Connectors.defaultPluginPath();
      }
      Connectors.Inventory inv = Connectors.inventory(path);
      System.out.println(
          "plugin path: " + (inv.pluginPath().isEmpty() ? "(none)" : inv.pluginPath()));
      System.out.println("plugins:");
      if (inv.plugins().isEmpty()) {
        System.out.println("  (none)");
      }
      for (Plugin p : inv.plugins()) {
        System.out.printf("  %-34s %-16s %s%n", p.name(), p.version(), p.location());
        if (!p.sourceTypes().isEmpty()) {
          System.out.println("    sources: " + String.join(", ", p.sourceTypes()));
        }
        if (!p.sinkTypes().isEmpty()) {
          System.out.println("    sinks: " + String.join(", ", p.sinkTypes()));
        }
        if (!p.checkpointSchemes().isEmpty()) {
          System.out.println("    checkpoint schemes: " + String.join(", ", p.checkpointSchemes()));
        }
      }
      System.out.println("class path:");
      if (inv.classPathTypes().isEmpty()) {
        System.out.println("  (none)");
      }
      for (Connectors.Provider t : inv.classPathTypes()) {
        System.out.printf("  %-6s %-20s %s%n", t.kind(), t.type(), t.origin());
      }
      System.out.println("duplicates:");
      if (inv.duplicates().isEmpty()) {
        System.out.println("  (none)");
      }
      for (Connectors.Duplicate d : inv.duplicates()) {
        System.out.println(
            "  " + d.kind() + " " + d.type() + ": " + String.join(" and ", d.origins()));
      }
      List<String> problems = inv.allProblems();
      problems.forEach(p -> System.err.println("tributary: " + p));
      return problems.isEmpty() ? OK : INVALID;
    }
  }
}
