package io.tributary.gateway.internal;

import io.tributary.core.runtime.CheckpointOffsets;
import io.tributary.core.runtime.Pipeline;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What the admin endpoint may ask of the gateway: its pipelines, their control, their offsets and a
 * configuration reload. The gateway implements it; the admin server only translates HTTP.
 *
 * <p>Thread safety: implementations are thread-safe. Control calls may block (a graceful stop
 * drains up to the pipeline's graceful-stop timeout), so the admin server calls them off its event
 * loop.
 */
public interface AdminControl {
  /**
   * One pipeline as configured and as running.
   *
   * @param pipeline the current run, or {@code null} when it was never started
   * @param sourceType the source's type ({@code kafka}, {@code socket}...)
   * @param sourceKind {@code direct} (replayable, offsets) or {@code receiver}
   * @param sinks type and guarantee of each sink, in order
   * @param stoppedByOperator stopped through the API (not unhealthy)
   */
  record Entry(
      String id,
      Pipeline pipeline,
      String sourceType,
      String sourceKind,
      List<Map.Entry<String, String>> sinks,
      boolean stoppedByOperator) {}

  /** A refused control call: {@code status} is the HTTP status to answer with. */
  final class ControlException extends RuntimeException {
    private final int status;

    public ControlException(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** What a reload did, by pipeline id. */
  record ReloadResult(
      List<String> added, List<String> removed, List<String> restarted, List<String> unchanged) {}

  List<Entry> entries();

  Entry pause(String id);

  Entry resume(String id);

  Entry restart(String id);

  Entry stop(String id);

  CheckpointOffsets.Snapshot offsets(String id);

  CheckpointOffsets.Snapshot alterOffsets(String id, Map<String, String> positions);

  /** {@code partitions} empty: every partition. */
  CheckpointOffsets.Snapshot resetOffsets(String id, Collection<String> partitions);

  /**
   * Loads the configuration file again and applies it.
   *
   * @throws ControlException 400 with every problem when the new file is invalid (nothing changed)
   */
  ReloadResult reload();

  /** {@code text} without any secret value of the configuration. */
  String scrub(String text);
}
