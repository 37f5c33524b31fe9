package io.tributary.core.internal.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.CheckpointException;
import io.tributary.core.api.IncompatibleCheckpointException;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkpoint files: human-readable JSON with a version, and the protocol's bookkeeping. */
class CheckpointLogTest {
  @TempDir Path dir;

  private static BatchPlan plan(long id) {
    return new BatchPlan(
        BatchPlan.FORMAT_VERSION,
        "clicks",
        id,
        1_700_000_000_000L,
        "kafka",
        BatchPlan.DIRECT,
        List.of(new OffsetRange("topic-0", 10, 20), new OffsetRange("topic-1", 5, 5)),
        null);
  }

  @Test
  void offsetsAreHumanReadableJsonWithAVersion() throws Exception {
    CheckpointLog log = new CheckpointLog(new LocalCheckpointStorage(dir));
    log.writeOffsets(plan(3));
    String json = Files.readString(dir.resolve("offsets/3"));
    assertThat(json)
        .contains("\"version\" : 2")
        .contains("\"batchId\" : 3")
        .contains("\"partition\" : \"topic-0\"")
        .contains("\"from\" : 10")
        .contains("\"until\" : 20")
        .contains("\n"); // indented, one field per line
    assertThat(log.readOffsets(3)).contains(plan(3));
    assertThat(log.readOffsets(4)).isEmpty();
  }

  @Test
  void positionsBeyond64BitsAreWrittenAsTextAndReadBack() throws Exception {
    CheckpointLog log = new CheckpointLog(new LocalCheckpointStorage(dir));
    String seq = "49590338271490256608559692538361571095921575989136588898";
    BatchPlan p =
        new BatchPlan(
            BatchPlan.FORMAT_VERSION,
            "k",
            0,
            0,
            "kinesis",
            BatchPlan.DIRECT,
            List.of(new OffsetRange("shard-0", Position.parse(seq), Position.parse(seq + "#4"))),
            null);
    log.writeOffsets(p);
    assertThat(Files.readString(dir.resolve("offsets/0")))
        .contains("\"from\" : \"" + seq + "\"")
        .contains("\"until\" : \"" + seq + "#4\"");
    assertThat(log.readOffsets(0)).contains(p);
  }

  @Test
  void aFormat1CheckpointWrittenByTheFirstReleaseStillLoads() throws Exception {
    // Byte for byte what format 1 wrote (long offsets as JSON numbers).
    Files.createDirectories(dir.resolve("offsets"));
    Files.writeString(
        dir.resolve("metadata"),
        "{\n  \"version\" : 1,\n  \"pipelineId\" : \"clicks\",\n  \"configFingerprint\" : \"fp\",\n"
            + "  \"createdMs\" : 1700000000000\n}");
    Files.writeString(
        dir.resolve("offsets/7"),
        "{\n  \"version\" : 1,\n  \"pipelineId\" : \"clicks\",\n  \"batchId\" : 7,\n"
            + "  \"batchTimeMs\" : 1700000000000,\n  \"source\" : \"kafka\",\n  \"kind\" : \"direct\",\n"
            + "  \"ranges\" : [ {\n    \"partition\" : \"topic-0\",\n    \"from\" : 10,\n    \"until\" : 20,\n"
            + "    \"empty\" : false\n  } ],\n  \"positions\" : { }\n}");
    CheckpointLog log = new CheckpointLog(new LocalCheckpointStorage(dir));
    log.initialize("clicks", "fp");
    BatchPlan p = log.readOffsets(7).orElseThrow();
    assertThat(p.version()).isEqualTo(1);
    assertThat(p.ranges()).containsExactly(new OffsetRange("topic-0", 10, 20));
  }

  @Test
  void receiverPlanKeepsItsPositions() {
    CheckpointLog log = new CheckpointLog(new LocalCheckpointStorage(dir));
    BatchPlan p =
        new BatchPlan(
            BatchPlan.FORMAT_VERSION,
            "p",
            0,
            0,
            "rx",
            BatchPlan.RECEIVER,
            List.of(new OffsetRange(BatchPlan.BLOCKS, 0, 4)),
            Map.of("sender-1", 99L));
    log.writeOffsets(p);
    assertThat(log.readOffsets(0)).contains(p);
  }

  @Test
  void commitsAndMetadataCarryAVersionToo() throws Exception {
    CheckpointLog log = new CheckpointLog(new LocalCheckpointStorage(dir));
    log.initialize("clicks", "fp-1");
    log.writeCommit(new CheckpointLog.Commit(BatchPlan.FORMAT_VERSION, 3, 123L, 10));
    assertThat(Files.readString(dir.resolve("metadata")))
        .contains("\"version\" : 2")
        .contains("\"pipelineId\" : \"clicks\"");
    assertThat(Files.readString(dir.resolve("commits/3")))
        .contains("\"version\" : 2")
        .contains("\"records\" : 10");
  }

  @Test
  void latestAndPurgeIgnoreForeignFiles() throws Exception {
    LocalCheckpointStorage storage = new LocalCheckpointStorage(dir);
    CheckpointLog log = new CheckpointLog(storage);
    assertThat(log.latestPlanned()).isEmpty();
    for (long id = 0; id < 12; id++) {
      log.writeOffsets(plan(id));
      if (id < 11) {
        log.writeCommit(new CheckpointLog.Commit(1, id, 0, 0));
      }
    }
    storage.writeAtomically("offsets/README", "notes".getBytes());
    assertThat(log.latestPlanned()).hasValue(11);
    assertThat(log.latestCommitted()).hasValue(10);

    log.purgeBefore(9);
    assertThat(storage.list("offsets")).containsExactlyInAnyOrder("9", "10", "11", "README");
    assertThat(storage.list("commits")).containsExactlyInAnyOrder("9", "10");
  }

  @Test
  void refusesANewerFormatAndReportsCorruptFiles() throws Exception {
    LocalCheckpointStorage storage = new LocalCheckpointStorage(dir);
    storage.writeAtomically(
        "metadata",
        "{\"version\": 99, \"pipelineId\": \"p\", \"configFingerprint\": \"\", \"createdMs\": 0}"
            .getBytes());
    assertThatThrownBy(() -> new CheckpointLog(storage).initialize("p", ""))
        .isInstanceOf(IncompatibleCheckpointException.class)
        .hasMessageContaining("format version 99");

    storage.writeAtomically("offsets/5", "{ not json".getBytes());
    assertThatThrownBy(() -> new CheckpointLog(storage).readOffsets(5))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("offsets/5")
        .hasMessageContaining("not valid JSON");
  }

  @Test
  void purgeKeepsOffsetsNewerThanTheReceiverPositionsFile() {
    CheckpointLog log = new CheckpointLog(new LocalCheckpointStorage(dir));
    for (long id = 0; id < 10; id++) {
      log.writeOffsets(BatchPlan.receiver("p", id, 0, "rx", id, id + 1, Map.of("producer", id)));
      log.writeCommit(new CheckpointLog.Commit(1, id, 0, 0));
    }
    log.keepOffsetsFrom(0);
    log.purgeBefore(8);
    assertThat(log.earliestPlanned()).hasValue(0);

    log.writePositions(
        new ReceiverPositions(
            ReceiverPositions.FORMAT_VERSION,
            "rx",
            4,
            Map.of("producer", new ReceiverPositions.Position(4, 0))));
    log.purgeBefore(8);

    assertThat(log.earliestPlanned())
        .as("offsets/5.. are not in the positions file yet")
        .hasValue(5);
    assertThat(log.readOffsets(7)).isPresent();
    assertThat(log.readPositions().orElseThrow().positions())
        .containsExactly(Map.entry("producer", new ReceiverPositions.Position(4, 0)));
  }
}
