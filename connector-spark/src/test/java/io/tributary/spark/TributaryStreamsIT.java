package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.ConfigException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaInputDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TributaryStreams} on the shared local[2] session: a direct DStream over the files source
 * (ranges per RDD, commit and resume) and a Tributary receiver run as a Spark receiver with Spark's
 * write-ahead log.
 */
class TributaryStreamsIT {
  private static final ConcurrentLinkedQueue<String> VALUES = new ConcurrentLinkedQueue<>();
  private static final ConcurrentLinkedQueue<Long> BATCH_POSITIONS = new ConcurrentLinkedQueue<>();
  private final JavaSparkContext sc =
      JavaSparkContext.fromSparkContext(LocalSpark.session().sparkContext());
  private JavaStreamingContext jssc;
  @TempDir Path dir;

  @AfterEach
  void stop() {
    if (jssc != null) {
      jssc.stop(false, false);
    }
    VALUES.clear();
    BATCH_POSITIONS.clear();
  }

  private void write(Path in, int file) throws Exception {
    Files.createDirectories(in);
    Path tmp = dir.resolve(".tmp");
    Files.writeString(tmp, "f" + file + "-a\nf" + file + "-b\n", StandardCharsets.UTF_8);
    Files.move(tmp, in.resolve("part-" + file + ".txt"));
  }

  private JavaInputDStream<TributaryRecord> direct(Path in) {
    jssc = new JavaStreamingContext(sc, Durations.milliseconds(500));
    JavaInputDStream<TributaryRecord> stream =
        TributaryStreams.directStream(
            jssc,
            Map.of(
                "source.type",
                "files",
                "paths",
                in.toString(),
                "include-existing",
                "true",
                "stable-for",
                "0s",
                "maxRecordsPerTrigger",
                "2",
                TributaryStreams.CHECKPOINT_LOCATION,
                dir.resolve("state").toString()));
    stream.foreachRDD(
        rdd -> {
          TributaryOffsetRange[] ranges = ((HasTributaryOffsetRanges) rdd.rdd()).offsetRanges();
          long positions = 0;
          for (TributaryOffsetRange r : ranges) {
            positions += r.count();
          }
          VALUES.addAll(rdd.map(TributaryRecord::valueAsString).collect());
          if (positions > 0) {
            BATCH_POSITIONS.add(positions);
          }
          ((CanCommitTributaryPositions) stream.inputDStream()).commit(ranges);
        });
    return stream;
  }

  @Test
  void directStreamReadsInBoundedBatchesAndResumesAfterTheCommittedRanges() throws Exception {
    Path in = dir.resolve("in");
    for (int f = 0; f < 5; f++) {
      write(in, f);
    }
    direct(in);
    jssc.start();
    await().atMost(Duration.ofMinutes(2)).until(() -> VALUES.size() >= 10);
    jssc.stop(false, true);
    jssc = null;
    assertThat(new ArrayList<>(VALUES))
        .containsExactlyInAnyOrder(
            "f0-a", "f0-b", "f1-a", "f1-b", "f2-a", "f2-b", "f3-a", "f3-b", "f4-a", "f4-b");
    assertThat(BATCH_POSITIONS).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(2));
    VALUES.clear();

    write(in, 5);
    direct(in);
    jssc.start();
    await().atMost(Duration.ofMinutes(2)).until(() -> VALUES.size() >= 2);
    jssc.stop(false, true);
    jssc = null;
    assertThat(new ArrayList<>(VALUES)).containsExactlyInAnyOrder("f5-a", "f5-b");
    VALUES.clear();

    // the restarted stream's own commits are kept too: a third start reads only the newest file
    write(in, 6);
    direct(in);
    jssc.start();
    await().atMost(Duration.ofMinutes(2)).until(() -> VALUES.size() >= 2);
    jssc.stop(false, true);
    jssc = null;
    assertThat(new ArrayList<>(VALUES)).containsExactlyInAnyOrder("f6-a", "f6-b");
  }

  @Test
  void aTributaryReceiverRunsAsASparkReceiverWithTheWriteAheadLog() throws Exception {
    jssc = new JavaStreamingContext(sc, Durations.milliseconds(500));
    jssc.checkpoint(dir.resolve("spark-checkpoint").toString());
    TributaryStreams.receiverStream(
            jssc, Map.of("source.type", "test-counter", "count", "200", "prefix", "c"))
        .foreachRDD(rdd -> VALUES.addAll(rdd.map(TributaryRecord::valueAsString).collect()));
    jssc.start();
    await().atMost(Duration.ofMinutes(2)).until(() -> VALUES.size() >= 200);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      expected.add("c-" + i);
    }
    assertThat(new ArrayList<>(VALUES)).containsExactlyInAnyOrderElementsOf(expected);
    try (var wal = Files.walk(dir.resolve("spark-checkpoint"))) {
      assertThat(wal.anyMatch(p -> p.toString().contains("receivedData")))
          .as("blocks went through Spark's receiver write-ahead log")
          .isTrue();
    }
  }

  @Test
  void optionProblemsAreReportedBeforeAnythingStarts() {
    jssc = new JavaStreamingContext(sc, Durations.milliseconds(500));
    assertThatThrownBy(() -> TributaryStreams.directStream(jssc, Map.of("source.type", "files")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("checkpoint.location");
    assertThatThrownBy(
            () ->
                TributaryStreams.receiverStream(
                    jssc, Map.of("source.type", "files", "paths", "/tmp/x")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("it is a direct source");
    assertThatThrownBy(
            () ->
                TributaryStreams.receiverStream(
                    jssc, Map.of("source.type", "test-counter", "count", "many")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("for count");
  }
}
