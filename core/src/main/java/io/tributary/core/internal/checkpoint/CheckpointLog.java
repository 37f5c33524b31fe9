package io.tributary.core.internal.checkpoint;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.IncompatibleCheckpointException;
import io.tributary.core.checkpoint.CheckpointStorage;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The checkpoint protocol on top of a {@link CheckpointStorage}: {@code metadata}, {@code
 * offsets/N}, {@code commits/N}, each a human-readable JSON file with a format version, written
 * atomically.
 *
 * <p>Thread safety: used by the batch thread only.
 */
public final class CheckpointLog {
  static final String METADATA = "metadata";
  static final String OFFSETS = "offsets";
  static final String COMMITS = "commits";
  static final String POSITIONS = "positions";

  /**
   * Jackson, created on first use: a pipeline's start writes its files with {@link CheckpointJson}
   * and needs Jackson only to read an existing checkpoint.
   */
  private static final class Json {
    static final ObjectMapper MAPPER =
        new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }

  /** Content of {@code metadata}. */
  public record Metadata(
      int version, String pipelineId, String configFingerprint, long createdMs) {}

  /** Content of {@code commits/N}. */
  public record Commit(int version, long batchId, long commitTimeMs, long records) {}

  private final CheckpointStorage storage;

  /**
   * {@link #purgeBefore} keeps {@code offsets/N} from here on: their receiver positions are not yet
   * in the {@code positions} file. {@code Long.MAX_VALUE} (no limit) until a receiver calls {@link
   * #keepOffsetsFrom}.
   */
  private long keepOffsetsFrom = Long.MAX_VALUE;

  public CheckpointLog(CheckpointStorage storage) {
    this.storage = storage;
  }

  /**
   * Writes {@code metadata} on first use, else checks that the checkpoint belongs to this pipeline
   * and configuration.
   *
   * @throws IncompatibleCheckpointException when it does not
   */
  public void initialize(String pipelineId, String fingerprint) {
    Optional<byte[]> existing = readRaw(METADATA);
    if (existing.isEmpty()) {
      write(
          METADATA,
          new Metadata(
              BatchPlan.FORMAT_VERSION, pipelineId, fingerprint, System.currentTimeMillis()));
      return;
    }
    Metadata m = parse(METADATA, existing.get(), Metadata.class);
    String where = storage.describe();
    if (m.version() > BatchPlan.FORMAT_VERSION) {
      throw new IncompatibleCheckpointException(
          "Checkpoint at "
              + where
              + " has format version "
              + m.version()
              + " but this Tributary reads up to "
              + BatchPlan.FORMAT_VERSION
              + ": run the newer Tributary that wrote it, or use a new checkpoint location");
    }
    if (!pipelineId.equals(m.pipelineId())) {
      throw new IncompatibleCheckpointException(
          "Checkpoint at "
              + where
              + " belongs to pipeline '"
              + m.pipelineId()
              + "', not '"
              + pipelineId
              + "': give each pipeline its own checkpoint location");
    }
    if (!fingerprint.equals(m.configFingerprint())) {
      throw new IncompatibleCheckpointException(
          "Checkpoint at "
              + where
              + " of pipeline '"
              + pipelineId
              + "' was written with another source/sink"
              + " configuration (fingerprint "
              + m.configFingerprint()
              + ", now "
              + fingerprint
              + "): its offsets may"
              + " not mean the same thing. Restore the previous configuration, or use a new checkpoint location (or"
              + " delete this one) to start over from the source's starting position");
    }
  }

  public void writeOffsets(BatchPlan plan) {
    write(OFFSETS + "/" + plan.batchId(), plan);
  }

  public void writeCommit(Commit commit) {
    write(COMMITS + "/" + commit.batchId(), commit);
  }

  public Optional<BatchPlan> readOffsets(long batchId) {
    return readRaw(OFFSETS + "/" + batchId)
        .map(b -> parse(OFFSETS + "/" + batchId, b, BatchPlan.class));
  }

  /**
   * Writes the {@code positions} file; from then on {@link #purgeBefore} may delete {@code
   * offsets/N} up to its batch id.
   */
  public void writePositions(ReceiverPositions positions) {
    // One line: it can hold thousands of partitions, and indentation would make it 1.6x larger (jq
    // reads it fine).
    try {
      storage.writeAtomically(
          POSITIONS,
          Json.MAPPER
              .writer()
              .without(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsBytes(positions));
    } catch (IOException e) {
      throw new CheckpointException(
          "Cannot write "
              + POSITIONS
              + " to checkpoint "
              + storage.describe()
              + ": "
              + e
              + " (check free space and permissions, then restart: nothing was lost)",
          e);
    }
    keepOffsetsFrom(positions.batchId() + 1);
  }

  public Optional<ReceiverPositions> readPositions() {
    return readRaw(POSITIONS).map(b -> parse(POSITIONS, b, ReceiverPositions.class));
  }

  /** Makes {@link #purgeBefore} keep {@code offsets/N} for every {@code N >= batchId}. */
  public void keepOffsetsFrom(long batchId) {
    keepOffsetsFrom = batchId;
  }

  /** The lowest batch id in {@code offsets/}, if any. */
  public OptionalLong earliestPlanned() {
    try {
      long min = Long.MAX_VALUE;
      for (String name : storage.list(OFFSETS)) {
        Long id = parseId(name);
        if (id != null) {
          min = Math.min(min, id);
        }
      }
      return min == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(min);
    } catch (IOException e) {
      throw new CheckpointException(
          "Cannot list " + OFFSETS + " in checkpoint " + storage.describe() + ": " + e, e);
    }
  }

  /** The highest batch id in {@code offsets/}, if any. */
  public OptionalLong latestPlanned() {
    return latest(OFFSETS);
  }

  /** The highest batch id in {@code commits/}, if any. */
  public OptionalLong latestCommitted() {
    return latest(COMMITS);
  }

  /**
   * Deletes offsets and commits of batches below {@code batchId}, except offsets a receiver still
   * needs for its positions ({@link #keepOffsetsFrom}).
   */
  public void purgeBefore(long batchId) {
    for (String dir : List.of(OFFSETS, COMMITS)) {
      long below = dir.equals(OFFSETS) ? Math.min(batchId, keepOffsetsFrom) : batchId;
      try {
        for (String name : storage.list(dir)) {
          Long id = parseId(name);
          if (id != null && id < below) {
            storage.delete(dir + "/" + name);
          }
        }
      } catch (IOException e) {
        throw new CheckpointException(
            "Cannot clean up " + dir + " in checkpoint " + storage.describe() + ": " + e, e);
      }
    }
  }

  private OptionalLong latest(String dir) {
    try {
      long max = -1;
      for (String name : storage.list(dir)) {
        Long id = parseId(name);
        if (id != null) {
          max = Math.max(max, id);
        }
      }
      return max < 0 ? OptionalLong.empty() : OptionalLong.of(max);
    } catch (IOException e) {
      throw new CheckpointException(
          "Cannot list " + dir + " in checkpoint " + storage.describe() + ": " + e, e);
    }
  }

  private static Long parseId(String name) {
    try {
      return Long.parseLong(name);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private Optional<byte[]> readRaw(String path) {
    try {
      return storage.read(path);
    } catch (IOException e) {
      throw new CheckpointException(
          "Cannot read " + path + " in checkpoint " + storage.describe() + ": " + e, e);
    }
  }

  private void write(String path, Object value) {
    try {
      storage.writeAtomically(path, toJson(value));
    } catch (IOException e) {
      throw new CheckpointException(
          "Cannot write "
              + path
              + " to checkpoint "
              + storage.describe()
              + ": "
              + e
              + " (check free space and permissions; the batch will be replayed after a restart)",
          e);
    }
  }

  /** {@code value} as Jackson with {@code INDENT_OUTPUT} writes it. */
  static byte[] toJson(Object value) throws IOException {
    if (value instanceof BatchPlan p) {
      return CheckpointJson.plan(p);
    }
    if (value instanceof Commit c) {
      return CheckpointJson.commit(c);
    }
    if (value instanceof Metadata m) {
      return CheckpointJson.metadata(m);
    }
    return Json.MAPPER.writeValueAsBytes(value);
  }

  /** Jackson's own output for {@code value} (tests compare it with {@link #toJson}). */
  static byte[] toJsonWithJackson(Object value) throws IOException {
    return Json.MAPPER.writeValueAsBytes(value);
  }

  private <T> T parse(String path, byte[] data, Class<T> type) {
    try {
      return Json.MAPPER.readValue(data, type);
    } catch (IOException e) {
      throw new CheckpointException(
          "Checkpoint file "
              + path
              + " in "
              + storage.describe()
              + " is not valid JSON of a "
              + type.getSimpleName()
              + ": "
              + e.getMessage()
              + " (fix or restore it; the files are human-readable)",
          e);
    }
  }
}
