package io.tributary.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.kinesis.KinesisMockForSpark;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;

/**
 * {@code format("tributary")} with {@code source.type kinesis} on a local[2] Spark session against
 * kinesis-mock (npm {@code kinesis-local}, a child {@code node} process: connector-kinesis's
 * LocalKinesis through its test-jar). The direct Kinesis source, its 128-bit sequence numbers in
 * Spark's offset log, admission control, a shard split while the query runs, and a restart from the
 * checkpoint after a lost commit.
 */
class TributaryKinesisSourceIT {
  /** The first hash key of the upper half of the 128-bit hash key space. */
  private static final BigInteger HALF = BigInteger.ONE.shiftLeft(127);

  private static KinesisClient kinesis;
  private final SparkSession spark = LocalSpark.session();
  @TempDir Path dir;

  @BeforeAll
  static void client() {
    kinesis = KinesisMockForSpark.client();
  }

  @AfterAll
  static void close() {
    kinesis.close();
  }

  private static String stream(TestInfo info) {
    return "spark-" + info.getTestMethod().orElseThrow().getName();
  }

  /**
   * Puts values {@code v<from>..v<until-1>}, each with the explicit hash key {@code hashKey(i)},
   * and returns each value's shard and sequence number as Kinesis reported them.
   */
  private static Map<String, PutRecordsResultEntry> put(
      String stream, int from, int until, java.util.function.IntFunction<BigInteger> hashKey) {
    List<PutRecordsRequestEntry> entries = new ArrayList<>();
    for (int i = from; i < until; i++) {
      entries.add(
          PutRecordsRequestEntry.builder()
              .data(SdkBytes.fromUtf8String("v" + i))
              .partitionKey("k" + i)
              .explicitHashKey(hashKey.apply(i).toString())
              .build());
    }
    PutRecordsResponse r = kinesis.putRecords(b -> b.streamName(stream).records(entries));
    assertThat(r.failedRecordCount()).as("failed puts: %s", r.records()).isZero();
    Map<String, PutRecordsResultEntry> out = new HashMap<>();
    for (int i = from; i < until; i++) {
      out.put("v" + i, r.records().get(i - from));
    }
    return out;
  }

  private StreamingQuery query(String stream, Path cp, Path out, long max, Trigger trigger)
      throws Exception {
    return spark
        .readStream()
        .format("tributary")
        .option("source.type", "kinesis")
        .option("stream", stream)
        .option("endpoint", KinesisMockForSpark.endpoint())
        .option("region", "us-east-1")
        .option("access-key-id", KinesisMockForSpark.ACCESS_KEY)
        .option("secret-access-key", KinesisMockForSpark.SECRET_KEY)
        .option("starting-position", "trim-horizon")
        .option("read-timeout", "10s")
        .option("maxRecordsPerTrigger", Long.toString(max))
        .load()
        .selectExpr("cast(value as string) v", "partition", "position", "timestamp")
        .writeStream()
        .format("parquet")
        .option("path", out.toString())
        .option("checkpointLocation", cp.toString())
        .trigger(trigger)
        .start();
  }

  /** Checks every row against Kinesis's answer to its put: once each, right shard and position. */
  private List<Row> assertEachRecordOnce(Path out, Map<String, PutRecordsResultEntry> put) {
    List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
    Map<String, Integer> seen = new TreeMap<>();
    for (Row r : rows) {
      String v = r.getString(0);
      seen.merge(v, 1, Integer::sum);
      PutRecordsResultEntry e = put.get(v);
      assertThat(e).as("a record nobody put: %s", v).isNotNull();
      assertThat(r.getString(1)).as("shard of %s", v).isEqualTo(e.shardId());
      // a plain (not KPL-aggregated) record's position is its sequence number
      assertThat(r.getString(2)).as("position of %s", v).isEqualTo(e.sequenceNumber());
      assertThat(r.get(3)).as("arrival time of %s", v).isNotNull();
    }
    assertThat(seen.keySet()).isEqualTo(put.keySet());
    assertThat(seen.values()).containsOnly(1);
    return rows;
  }

  @Test
  void admitsMaxRecordsPerTriggerAndLogs128BitSequenceNumbersAsOffsets(TestInfo info)
      throws Exception {
    String stream = stream(info);
    KinesisMockForSpark.createStream(kinesis, stream, 2);
    // 150 records in each shard: shard 0 holds the lower half of the hash keys, shard 1 the upper
    Map<String, PutRecordsResultEntry> put =
        put(stream, 0, 300, i -> i % 2 == 0 ? BigInteger.valueOf(i) : HALF.add(BigInteger.ONE));
    Path cp = dir.resolve("cp");
    Path out = dir.resolve("out");
    StreamingQuery q = query(stream, cp, out, 100, Trigger.AvailableNow());
    assertThat(q.awaitTermination(180_000)).as("the AvailableNow run ends").isTrue();
    assertThat(q.exception().isEmpty()).as("query failed: %s", q.exception()).isTrue();
    List<Long> perBatch = new ArrayList<>();
    for (StreamingQueryProgress p : q.recentProgress()) {
      if (p.numInputRows() > 0) {
        perBatch.add(p.numInputRows());
      }
    }
    // at most 100 a batch, split over the two shards: the end of each shard's range is fixed by
    // reading at most 50 records on the driver (the first batch takes 50 of each; later ones can
    // take one fewer a shard: the page that starts at the previous batch's last record stops the
    // read once caught up)
    assertThat(perBatch).as("rows per batch").allMatch(n -> n <= 100).hasSizeGreaterThan(2);
    assertThat(perBatch.get(0)).isEqualTo(100L);
    assertThat(perBatch.stream().mapToLong(Long::longValue).sum()).isEqualTo(300);
    assertEachRecordOnce(out, put);

    // Spark's offset log holds the Tributary positions: sequence numbers past 64 bits, as text
    long last;
    try (Stream<Path> files = Files.list(cp.resolve("offsets"))) {
      last =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.matches("\\d+"))
              .mapToLong(Long::parseLong)
              .max()
              .orElseThrow();
    }
    String log = Files.readString(cp.resolve("offsets").resolve(Long.toString(last)));
    Matcher m = Pattern.compile("\"(shardId-\\d+)\":\"(\\d+)#(\\d+)\"").matcher(log);
    Map<String, BigInteger> logged = new TreeMap<>();
    while (m.find()) {
      logged.put(m.group(1), new BigInteger(m.group(2)));
    }
    assertThat(logged).as("the offset log: %s", log).hasSize(2);
    for (BigInteger seq : logged.values()) {
      assertThat(seq).isGreaterThan(BigInteger.valueOf(Long.MAX_VALUE));
    }
  }

  @Test
  void aShardSplitWhileTheQueryRunsAndARestartAfterALostCommitReadEachRecordOnce(TestInfo info)
      throws Exception {
    String stream = stream(info);
    KinesisMockForSpark.createStream(kinesis, stream, 1);
    Map<String, PutRecordsResultEntry> put = new HashMap<>();
    put.putAll(put(stream, 0, 100, i -> BigInteger.valueOf(i)));
    Path cp = dir.resolve("cp");
    Path out = dir.resolve("out");
    StreamingQuery q1 = query(stream, cp, out, 1000, Trigger.ProcessingTime(0));
    q1.processAllAvailable();
    assertThat(spark.read().parquet(out.toString()).count()).isEqualTo(100);

    // split the only shard while the query runs: new records land in the two children
    String parent = put.get("v0").shardId();
    kinesis.splitShard(
        b -> b.streamName(stream).shardToSplit(parent).newStartingHashKey(HALF.toString()));
    KinesisMockForSpark.awaitActive(kinesis, stream);
    put.putAll(put(stream, 100, 200, i -> i % 2 == 0 ? BigInteger.valueOf(i) : HALF));
    assertThat(put.values().stream().map(PutRecordsResultEntry::shardId).distinct())
        .as("the records after the split are in both children")
        .hasSize(3);
    q1.processAllAvailable();
    assertThat(q1.exception().isEmpty()).as("query failed: %s", q1.exception()).isTrue();
    assertEachRecordOnce(out, put);
    q1.stop();

    // a crash between the sink's commit and Spark's: the last batch is run again on restart
    Path commits = cp.resolve("commits");
    long last;
    try (Stream<Path> files = Files.list(commits)) {
      last =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.matches("\\d+"))
              .mapToLong(Long::parseLong)
              .max()
              .orElseThrow();
    }
    Files.delete(commits.resolve(Long.toString(last)));
    Files.deleteIfExists(commits.resolve("." + last + ".crc"));
    put.putAll(put(stream, 200, 300, i -> i % 2 == 0 ? BigInteger.valueOf(i) : HALF));
    StreamingQuery q2 = query(stream, cp, out, 1000, Trigger.AvailableNow());
    assertThat(q2.awaitTermination(180_000)).as("the AvailableNow run ends").isTrue();
    assertThat(q2.exception().isEmpty()).as("query failed: %s", q2.exception()).isTrue();
    List<Row> rows = assertEachRecordOnce(out, put);
    assertThat(rows).hasSize(300);
  }
}
