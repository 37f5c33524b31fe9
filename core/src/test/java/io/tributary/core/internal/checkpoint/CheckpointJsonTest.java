package io.tributary.core.internal.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint files a pipeline writes on its way to its first output, written without Jackson
 * ({@link CheckpointJson}): byte for byte what Jackson wrote before, so every reader (this one, an
 * older release, {@code jq}) sees the same files, and read back by Jackson unchanged.
 */
class CheckpointJsonTest {
  @TempDir Path dir;

  /** Names that need every kind of escaping Jackson does, and some it does not. */
  private static final List<String> NAMES =
      List.of(
          "clicks",
          "",
          "topic-0",
          "with \"quotes\" and \\ backslash",
          "tab\tnew\nline\rcr\bbs\fff",
          "ctl \u0000 \u0001 \u001f \u007f end",
          "slash / and unicode é 中 \u2028 \ud83d\ude00",
          "lone surrogates \ud83d x \ude00 y \ud800",
          "{\"json\": [1, 2]}");

  private static void sameAsJackson(Object value) throws Exception {
    byte[] ours = CheckpointLog.toJson(value);
    byte[] jackson = CheckpointLog.toJsonWithJackson(value);
    assertThat(new String(ours, StandardCharsets.UTF_8))
        .as("%s", value)
        .isEqualTo(new String(jackson, StandardCharsets.UTF_8));
    assertThat(Arrays.equals(ours, jackson)).isTrue();
  }

  @Test
  void metadataAndCommitsAreWhatJacksonWrote() throws Exception {
    for (String name : NAMES) {
      sameAsJackson(new CheckpointLog.Metadata(2, name, "fp-" + name, 1_700_000_000_000L));
    }
    sameAsJackson(new CheckpointLog.Metadata(1, null, null, 0));
    sameAsJackson(new CheckpointLog.Metadata(Integer.MIN_VALUE, "p", "", Long.MIN_VALUE));
    sameAsJackson(new CheckpointLog.Commit(2, 0, 0, 0));
    sameAsJackson(new CheckpointLog.Commit(2, Long.MAX_VALUE, -1, Long.MIN_VALUE));
  }

  @Test
  void plansAreWhatJacksonWrote() throws Exception {
    for (String name : NAMES) {
      sameAsJackson(
          new BatchPlan(
              BatchPlan.FORMAT_VERSION,
              name,
              7,
              1_700_000_000_000L,
              name,
              BatchPlan.DIRECT,
              List.of(new OffsetRange(name, 10, 20), new OffsetRange(name + "-1", 5, 5)),
              Map.of(name, 3L)));
    }
    // null fields are left out (NON_NULL), empty lists and maps written as such
    sameAsJackson(new BatchPlan(1, null, 0, 0, null, null, List.of(), null));
    sameAsJackson(
        new BatchPlan(2, "p", -1, Long.MIN_VALUE, "s", "direct", List.of(), Map.of("a", 1L)));
    sameAsJackson(BatchPlan.receiver("p", 3, 4, "rx", 10, 12, Map.of("x", 1L, "y", 2L, "z", 3L)));
    // positions beyond 64 bits and with a sub-sequence number are text
    String seq = "49590338271490256608559692538361571095921575989136588898";
    sameAsJackson(
        new BatchPlan(
            2,
            "k",
            0,
            0,
            "kinesis",
            BatchPlan.DIRECT,
            List.of(
                new OffsetRange("shard-0", Position.parse(seq), Position.parse(seq + "#4")),
                new OffsetRange("shard-1", Position.of(5), Position.of(BigInteger.TEN, 3)),
                new OffsetRange("shard-2", Position.ZERO, Position.of(Long.MAX_VALUE))),
            null));
  }

  @Test
  void randomPlansAreWhatJacksonWroteAndReadBackEqual() throws Exception {
    Random random = new Random(20261208);
    ObjectMapper reader = new ObjectMapper();
    CheckpointLog log = new CheckpointLog(new LocalCheckpointStorage(dir));
    for (int i = 0; i < 300; i++) {
      List<OffsetRange> ranges = new ArrayList<>();
      int n = random.nextInt(20);
      for (int r = 0; r < n; r++) {
        long from =
            random.nextBoolean() ? random.nextInt(1000) : random.nextLong() & Long.MAX_VALUE;
        Position f =
            random.nextInt(5) == 0
                ? Position.of(BigInteger.valueOf(from).shiftLeft(70), random.nextInt(9))
                : Position.of(from);
        ranges.add(new OffsetRange(randomName(random), f, f.plus(random.nextInt(100))));
      }
      Map<String, Long> positions = new LinkedHashMap<>();
      for (int k = random.nextInt(4); k > 0; k--) {
        positions.put(randomName(random), random.nextLong());
      }
      BatchPlan plan =
          new BatchPlan(
              1 + random.nextInt(2),
              random.nextInt(10) == 0 ? null : randomName(random),
              i,
              random.nextLong(),
              random.nextInt(10) == 0 ? null : randomName(random),
              random.nextBoolean() ? BatchPlan.DIRECT : BatchPlan.RECEIVER,
              ranges,
              positions);
      sameAsJackson(plan);
      log.writeOffsets(plan);
      assertThat(log.readOffsets(i)).contains(plan);
      // valid JSON for any reader, not only for this one
      assertThat(reader.readTree(dir.resolve("offsets/" + i).toFile()).get("batchId").asLong())
          .isEqualTo(i);
    }
  }

  private static String randomName(Random random) {
    StringBuilder s = new StringBuilder();
    for (int n = random.nextInt(12); n > 0; n--) {
      int kind = random.nextInt(10);
      s.append(
          kind == 0
              ? (char) random.nextInt(0x20)
              : kind == 1 ? "\"\\/é中\ud83d\ude00".charAt(random.nextInt(7)) : (char) ('a' + kind));
    }
    return s.toString();
  }

  @Test
  void filesWrittenThisWayStillReportCorruptionWhenDamaged() throws Exception {
    LocalCheckpointStorage storage = new LocalCheckpointStorage(dir);
    CheckpointLog log = new CheckpointLog(storage);
    BatchPlan plan =
        new BatchPlan(
            2, "p", 4, 0, "kafka", BatchPlan.DIRECT, List.of(new OffsetRange("t-0", 1, 9)), null);
    log.writeOffsets(plan);
    byte[] whole = Files.readAllBytes(dir.resolve("offsets/4"));
    // truncated at every length, and garbage: a CheckpointException naming the file, never a
    // plan that reads differently
    for (int len = 0; len < whole.length; len++) {
      storage.writeAtomically("offsets/4", Arrays.copyOf(whole, len));
      try {
        assertThat(log.readOffsets(4)).as("truncated to %d bytes", len).isEmpty();
      } catch (CheckpointException e) {
        assertThat(e).hasMessageContaining("offsets/4");
      }
    }
    storage.writeAtomically("offsets/4", "\u0000\u00ff garbage {".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> log.readOffsets(4))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("not valid JSON");
  }

  /**
   * A new pipeline's start (metadata, its first plan and commit) in a JVM of its own: Jackson's
   * {@code ObjectMapper} is not loaded on the way.
   */
  @Test
  void aFreshCheckpointIsWrittenWithoutLoadingJackson() throws Exception {
    Path classes = dir.resolve("classes.log");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + classes,
                "-cp",
                System.getProperty("java.class.path"),
                FirstBatchMain.class.getName(),
                dir.resolve("ckpt").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("out.log").toFile())
            .start();
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("out.log"))).isZero();
    String loaded = Files.readString(classes);
    assertThat(loaded).contains(CheckpointJson.class.getName());
    assertThat(loaded).doesNotContain("com.fasterxml.jackson.databind.ObjectMapper ");
    CheckpointLog log = new CheckpointLog(new LocalCheckpointStorage(dir.resolve("ckpt")));
    log.initialize("p", "fp");
    assertThat(log.readOffsets(0)).contains(FirstBatchMain.PLAN);
    assertThat(log.latestCommitted()).hasValue(0);
  }

  /** What a pipeline writes to a new checkpoint up to its first output. */
  static final class FirstBatchMain {
    static final BatchPlan PLAN =
        new BatchPlan(
            2, "p", 0, 1, "kafka", BatchPlan.DIRECT, List.of(new OffsetRange("t-0", 0, 9)), null);

    public static void main(String[] args) {
      CheckpointLog log = new CheckpointLog(new LocalCheckpointStorage(Path.of(args[0])));
      log.initialize("p", "fp");
      log.writeOffsets(PLAN);
      log.writeCommit(new CheckpointLog.Commit(2, 0, 2, 9));
    }
  }
}
