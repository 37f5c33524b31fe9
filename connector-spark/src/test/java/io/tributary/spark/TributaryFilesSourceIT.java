package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code format("tributary")} with {@code source.type files} on local files: executors read the
 * files the driver admitted through the source's file index, kept in the query's checkpoint.
 */
class TributaryFilesSourceIT {
  private final SparkSession spark = LocalSpark.session();
  @TempDir Path dir;

  private void write(Path in, int file) throws Exception {
    Files.createDirectories(in);
    StringBuilder sb = new StringBuilder();
    for (int line = 0; line < 3; line++) {
      sb.append("f").append(file).append("-l").append(line).append('\n');
    }
    Path tmp = dir.resolve(".tmp-" + file);
    Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
    Files.move(tmp, in.resolve(String.format("part-%03d.txt", file)));
  }

  private StreamingQuery query(Path in, Path cp, Path out) throws Exception {
    return spark
        .readStream()
        .format("tributary")
        .option("source.type", "files")
        .option("paths", in.toString())
        .option("include-existing", "true")
        .option("stable-for", "0s")
        .option("maxRecordsPerTrigger", "2")
        .load()
        .selectExpr(
            "cast(value as string) line", "partition", "position", "headers[0].key h", "timestamp")
        .writeStream()
        .format("parquet")
        .option("path", out.toString())
        .option("checkpointLocation", cp.toString())
        .trigger(Trigger.AvailableNow())
        .start();
  }

  @Test
  void readsNewFilesInBatchesOfAtMostTwoFilesAndOnlyNewOnesAfterARestart() throws Exception {
    Path in = dir.resolve("in");
    Path cp = dir.resolve("cp");
    Path out = dir.resolve("out");
    for (int f = 0; f < 5; f++) {
      write(in, f);
    }
    StreamingQuery q1 = query(in, cp, out);
    q1.awaitTermination(120_000);
    assertThat(q1.exception().isEmpty()).as("query failed: %s", q1.exception()).isTrue();
    List<Long> perBatch = new ArrayList<>();
    for (StreamingQueryProgress p : q1.recentProgress()) {
      if (p.numInputRows() > 0) {
        perBatch.add(p.numInputRows());
      }
    }
    assertThat(perBatch).containsExactly(6L, 6L, 3L); // 2 files of 3 lines, 2, then 1
    List<Row> rows = spark.read().parquet(out.toString()).orderBy("line").collectAsList();
    assertThat(rows).hasSize(15);
    assertThat(rows.get(0).getString(0)).isEqualTo("f0-l0");
    assertThat(rows.get(14).getString(0)).isEqualTo("f4-l2");
    for (Row r : rows) {
      assertThat(r.getString(1)).isEqualTo(in.toString());
      int file = Integer.parseInt(r.getString(0).substring(1, 2));
      assertThat(r.getString(2)).as("the file's sequence number").isEqualTo(Integer.toString(file));
      assertThat(r.getString(3)).isEqualTo("file");
      assertThat(r.get(4)).as("modification time").isNotNull();
    }

    write(in, 5);
    write(in, 6);
    StreamingQuery q2 = query(in, cp, out);
    q2.awaitTermination(120_000);
    assertThat(q2.exception().isEmpty()).as("query failed: %s", q2.exception()).isTrue();
    long newRows = 0;
    for (StreamingQueryProgress p : q2.recentProgress()) {
      newRows += p.numInputRows();
    }
    assertThat(newRows).as("only the two new files are read after the restart").isEqualTo(6);
    List<String> lines =
        spark.read().parquet(out.toString()).orderBy("line").collectAsList().stream()
            .map(r -> r.getString(0))
            .toList();
    assertThat(lines).hasSize(21).doesNotHaveDuplicates();
    assertThat(lines.subList(15, 21))
        .containsExactly("f5-l0", "f5-l1", "f5-l2", "f6-l0", "f6-l1", "f6-l2");
  }
}
