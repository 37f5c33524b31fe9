package io.tributary.gateway;

import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.IncompatibleCheckpointException;
import io.tributary.core.api.SinkFactory;
import io.tributary.core.api.SourceFactory;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code tributary} command line.
 *
 * <p>Exit codes: 0 clean stop (also after SIGTERM/SIGINT, once every pipeline drained and committed); 1 a pipeline
 * failed (at start or while running); 2 invalid configuration or usage; 3 a checkpoint is incompatible or unusable.
 */
@Command(
    name = "tributary",
    mixinStandardHelpOptions = true,
    versionProvider = TributaryCli.Version.class,
    description = "Tributary ingestion gateway: runs source -> transforms -> sink pipelines from a YAML file.",
    subcommands = {TributaryCli.Run.class, TributaryCli.Validate.class, TributaryCli.VersionCmd.class,
      TributaryCli.Types.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:clean stop (also after SIGTERM once every pipeline drained and committed)",
      "1:a pipeline failed",
      "2:invalid configuration or usage",
      "3:checkpoint incompatible or unusable"
    })
public final class TributaryCli implements Callable<Integer> {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int INVALID = 2;
  public static final int CHECKPOINT = 3;

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.out);
    return INVALID;
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code (without exiting). */
  public static int execute(String... args) {
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
      return new String[] {"tributary " + version() + " (Java " + System.getProperty("java.version") + ")"};
    }
  }

  static GatewayConfig load(Path config) throws java.io.IOException {
    return config == null ? GatewayConfig.loadDefault() : GatewayConfig.load(config);
  }

  @Command(name = "run", description = "Runs the pipelines until SIGTERM/SIGINT (graceful: drain and commit).")
  static final class Run implements Callable<Integer> {
    @Option(names = "--config", description = "YAML pipeline file (default: the embedded default configuration)")
    Path config;

    @Override
    public Integer call() throws Exception {
      GatewayConfig cfg;
      try {
        cfg = load(config);
      } catch (ConfigException e) {
        e.problems().forEach(System.err::println);
        return INVALID;
      }
      Gateway gateway = new Gateway(cfg);
      try {
        gateway.start();
      } catch (IncompatibleCheckpointException | CheckpointException e) {
        System.err.println("tributary: " + e.getMessage());
        return CHECKPOINT;
      } catch (ConfigException e) {
        e.problems().forEach(System.err::println);
        return INVALID;
      } catch (RuntimeException | java.io.IOException e) {
        System.err.println("tributary: cannot start: " + e.getMessage());
        return FAILED;
      }
      Thread main = Thread.currentThread();
      Thread hook =
          new Thread(
              () -> {
                gateway.stop();
                System.out.flush();
                System.err.flush();
                // A signal ends the JVM with 128+N; a completed graceful stop is a clean exit.
                Runtime.getRuntime().halt(gateway.pipelines().stream()
                    .anyMatch(p -> p.failure().isPresent()) ? FAILED : OK);
              },
              "tributary-gateway-shutdown-0");
      Runtime.getRuntime().addShutdownHook(hook);
      Gateway.Outcome outcome = gateway.awaitStopOrFailure();
      if (outcome == Gateway.Outcome.FAILED) {
        Runtime.getRuntime().removeShutdownHook(hook);
        System.err.println("tributary: a pipeline failed; see the log above. Stopped the others.");
        return FAILED;
      }
      main.join(); // the shutdown hook halts the JVM
      return OK;
    }
  }

  @Command(name = "validate", description = "Checks a configuration file and prints every problem.")
  static final class Validate implements Callable<Integer> {
    @Option(names = "--config", description = "YAML pipeline file (default: the embedded default configuration)")
    Path config;

    @Override
    public Integer call() throws Exception {
      try {
        GatewayConfig cfg = load(config);
        System.out.println("OK: " + cfg.pipelines().size() + " pipeline(s) in " + cfg.origin());
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

  @Command(name = "types", description = "Lists the source and sink types found on the classpath.")
  static final class Types implements Callable<Integer> {
    @Override
    public Integer call() {
      System.out.println("sources:");
      for (SourceFactory f : GatewayConfig.sourceFactories().values()) {
        System.out.printf("  %-16s %s%n", f.type(), f.description());
      }
      System.out.println("sinks:");
      for (SinkFactory f : GatewayConfig.sinkFactories().values()) {
        System.out.printf("  %-16s %-26s %s%n", f.type(), f.guarantee(), f.description());
      }
      return OK;
    }
  }
}
