package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tributary offsets get|set|reset} on a stopped pipeline's checkpoint, and a gateway run
 * that resumes from the moved position.
 */
class OffsetsCliTest {
  @TempDir Path tmp;

  private record Result(int code, String out, String err) {}

  private static Result cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = TributaryCli.execute(args);
      return new Result(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  private Path config() throws Exception {
    Path file = tmp.resolve("offsets.yaml");
    Files.writeString(
        file,
        """
        pipelines:
          - id: seq
            settings: { batch-interval: 50ms }
            checkpoint: %s
            source: { type: test-sequence, count: 40, prefix: cli- }
            sinks: [ { type: files, path: %s } ]
        """
            .formatted(tmp.resolve("cp"), tmp.resolve("out")));
    return file;
  }

  private long runUntilRead(Path file, long records) throws Exception {
    try (Gateway gw = new Gateway(GatewayConfig.load(file), file)) {
      gw.start();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gw.pipelines().get(0).status().recordsIn() >= records);
      return gw.pipelines().get(0).status().recordsIn();
    }
  }

  @Test
  void getsSetsAndResetsAStoppedPipelinesPositions() throws Exception {
    Path file = config();
    String cfg = file.toString();
    Result empty = cli("offsets", "get", "--config", cfg, "--pipeline", "seq");
    assertThat(empty.code()).isZero();
    assertThat(empty.out()).contains("no batch yet");

    assertThat(runUntilRead(file, 40)).isEqualTo(40);
    Result got = cli("offsets", "get", "--config", cfg, "--pipeline", "seq");
    assertThat(got.code()).as(got.err()).isZero();
    assertThat(got.out()).contains("(committed)").containsPattern("seq\\t40");

    Result set =
        cli("offsets", "set", "--config", cfg, "--pipeline", "seq", "--position", "seq=25");
    assertThat(set.code()).as(set.err()).isZero();
    assertThat(set.out()).containsPattern("seq\\t25");
    try (var files = Files.list(tmp.resolve("cp").resolve("offsets"))) {
      String latest =
          Files.readString(
              files
                  .max(
                      java.util.Comparator.comparingLong(
                          p -> Long.parseLong(p.getFileName().toString())))
                  .orElseThrow());
      assertThat(latest)
          .contains("\"alteration\"")
          .contains("\"by\" : \"cli\"")
          .contains("\"action\" : \"alter\"");
    }
    assertThat(runUntilRead(file, 15)).as("offsets 25..39 again").isEqualTo(15);

    Result reset = cli("offsets", "reset", "--config", cfg, "--pipeline", "seq");
    assertThat(reset.code()).as(reset.err()).isZero();
    assertThat(runUntilRead(file, 40)).as("from the source's starting position").isEqualTo(40);

    Result unknown = cli("offsets", "get", "--config", cfg, "--pipeline", "nope");
    assertThat(unknown.code()).isEqualTo(TributaryCli.INVALID);
    assertThat(unknown.err()).contains("no pipeline nope").contains("[seq]");
    Result badPosition =
        cli("offsets", "set", "--config", cfg, "--pipeline", "seq", "--position", "seq=abc");
    assertThat(badPosition.code()).isEqualTo(TributaryCli.INVALID);
    Result badPartition =
        cli("offsets", "reset", "--config", cfg, "--pipeline", "seq", "--partition", "zzz");
    assertThat(badPartition.code()).isEqualTo(TributaryCli.CHECKPOINT);
    assertThat(badPartition.err()).contains("Unknown partition(s) [zzz]");
  }
}
