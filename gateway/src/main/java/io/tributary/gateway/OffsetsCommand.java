package io.tributary.gateway;

import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Position;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.runtime.CheckpointOffsets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tributary offsets get|set|reset}: reads or moves a stopped pipeline's positions in its
 * checkpoint (local, HDFS or S3) without a running gateway, as {@code GET|PATCH|DELETE
 * /pipelines/{id}/offsets} do through a running one. See {@link CheckpointOffsets}.
 */
@Command(
    name = "offsets",
    description = {
      "Reads or moves a stopped pipeline's positions in its checkpoint (local, HDFS or S3).",
      "Stop the pipeline first (POST /pipelines/ID/stop, or stop the gateway): a running pipeline"
          + " plans over the change.",
      "A change is written as a new checkpoint entry (offsets/N+1 with an 'alteration' field), so the"
          + " history stays."
    },
    exitCodeListHeading = TributaryCli.EXIT_HEADING,
    exitCodeList = {
      "0:done",
      TributaryCli.EXIT_2,
      "3:the checkpoint cannot be read or the change is refused (receiver source, uncommitted batch)"
    })
final class OffsetsCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "ACTION",
      description =
          "get (print the positions), set (move partitions), reset (back to the source's"
              + " starting position)")
  String action;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      required = true,
      description = "YAML pipeline file")
  Path config;

  @Option(
      names = "--plugins",
      paramLabel = "DIR",
      split = ",",
      description = TributaryCli.PLUGINS_HELP)
  List<Path> plugins;

  @Option(names = "--pipeline", paramLabel = "ID", required = true, description = "Pipeline id")
  String pipeline;

  @Option(
      names = "--position",
      paramLabel = "PARTITION=POSITION",
      description =
          "set: a partition and its new position (repeatable), e.g. --position orders-0=1200")
  List<String> positions = new ArrayList<>();

  @Option(
      names = "--partition",
      paramLabel = "PARTITION",
      description = "reset: only this partition (repeatable; default: every partition)")
  List<String> partitions = new ArrayList<>();

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;

  @Override
  public Integer call() {
    GatewayConfig cfg;
    try {
      cfg = GatewayConfig.load(config, plugins);
    } catch (ConfigException e) {
      e.problems().forEach(System.err::println);
      return TributaryCli.INVALID;
    } catch (IOException e) {
      System.err.println("tributary: cannot read " + config + ": " + e);
      return TributaryCli.INVALID;
    }
    Optional<GatewayConfig.PipelineConfig> pc =
        cfg.pipelines().stream().filter(p -> p.id().equals(pipeline)).findFirst();
    if (pc.isEmpty()) {
      System.err.println(
          "tributary: no pipeline "
              + pipeline
              + " in "
              + config
              + " (expected one of: "
              + cfg.pipelines().stream().map(GatewayConfig.PipelineConfig::id).toList()
              + ")");
      return TributaryCli.INVALID;
    }
    Map<String, Position> set = new LinkedHashMap<>();
    for (String p : positions) {
      int eq = p.lastIndexOf('=');
      try {
        if (eq <= 0) {
          throw new IllegalArgumentException("expected PARTITION=POSITION");
        }
        set.put(p.substring(0, eq), Position.parse(p.substring(eq + 1)));
      } catch (IllegalArgumentException e) {
        System.err.println("tributary: invalid --position " + p + ": " + e.getMessage());
        return TributaryCli.INVALID;
      }
    }
    if (action.equals("set") && set.isEmpty()) {
      System.err.println("tributary: offsets set needs at least one --position PARTITION=POSITION");
      return TributaryCli.INVALID;
    }
    if (!List.of("get", "set", "reset").contains(action)) {
      System.err.println("tributary: unknown action " + action + " (expected: get, set or reset)");
      return TributaryCli.INVALID;
    }
    try (CheckpointStorage storage =
        Gateway.openCheckpoint(pc.get(), cfg.connectors().checkpointStorageFactories())) {
      Optional<CheckpointOffsets.Snapshot> s =
          switch (action) {
            case "get" -> CheckpointOffsets.read(storage);
            case "set" -> Optional.of(CheckpointOffsets.alter(storage, set, "cli"));
            default ->
                Optional.of(
                    CheckpointOffsets.reset(
                        storage, partitions.isEmpty() ? null : partitions, "cli"));
          };
      print(storage, s);
      return TributaryCli.OK;
    } catch (CheckpointException e) {
      System.err.println("tributary: " + cfg.scrub(e.getMessage()));
      return TributaryCli.CHECKPOINT;
    } catch (IOException e) {
      System.err.println(
          "tributary: cannot open checkpoint "
              + pc.get().checkpointLocation()
              + ": "
              + cfg.scrub(e.toString()));
      return TributaryCli.CHECKPOINT;
    }
  }

  private void print(CheckpointStorage storage, Optional<CheckpointOffsets.Snapshot> s) {
    if (s.isEmpty()) {
      System.out.println(
          "pipeline "
              + pipeline
              + ": no batch yet in "
              + storage.describe()
              + "; it starts from the source's starting position");
      return;
    }
    CheckpointOffsets.Snapshot snap = s.get();
    System.out.println(
        "pipeline "
            + pipeline
            + " checkpoint "
            + storage.describe()
            + " batch "
            + snap.batchId()
            + (snap.committed() ? " (committed)" : " (planned, not committed: replayed on start)")
            + " source "
            + snap.source()
            + " ("
            + snap.kind()
            + ")");
    if (snap.positions().isEmpty()) {
      System.out.println(
          "  (no partition: every partition starts from the source's starting position)");
    }
    snap.positions().forEach((k, v) -> System.out.println("  " + k + "\t" + v));
  }
}
