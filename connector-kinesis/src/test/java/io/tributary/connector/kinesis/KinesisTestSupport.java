package io.tributary.connector.kinesis;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.Config;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.internal.DirectPlanner;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;

/** Helpers shared by the Kinesis tests. */
final class KinesisTestSupport {
  private KinesisTestSupport() {}

  static Map<String, Object> baseConfig(String endpoint, String stream) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("stream", stream);
    m.put("endpoint", endpoint);
    m.put("access-key-id", LocalKinesis.ACCESS_KEY);
    m.put("secret-access-key", LocalKinesis.SECRET_KEY);
    return m;
  }

  static Config sourceConfig(Map<String, Object> m) {
    Map<String, Object> c = new LinkedHashMap<>(m);
    c.putIfAbsent("read-timeout", "20s");
    return KinesisOptions.SOURCE.parse(c);
  }

  static SourceContext context(String pipeline, MeterRegistry registry) {
    return new SourceContext() {
      @Override
      public String pipelineId() {
        return pipeline;
      }

      @Override
      public String sourceName() {
        return "in";
      }

      @Override
      public MeterRegistry meterRegistry() {
        return registry;
      }
    };
  }

  static KinesisDirectSource open(Map<String, Object> config) throws Exception {
    KinesisDirectSource s = new KinesisDirectSource(sourceConfig(config));
    s.open(context("p", new SimpleMeterRegistry()));
    return s;
  }

  /** Puts {@code key:i} values for i in [from, until), partition key {@code key-(i % keys)}. */
  static List<PutRecordsResultEntry> put(
      KinesisClient k, String stream, int from, int until, int keys) {
    List<PutRecordsResultEntry> out = new ArrayList<>();
    for (int start = from; start < until; start += 500) {
      List<PutRecordsRequestEntry> entries = new ArrayList<>();
      for (int i = start; i < Math.min(until, start + 500); i++) {
        entries.add(
            PutRecordsRequestEntry.builder()
                .partitionKey("key-" + (i % keys))
                .data(SdkBytes.fromString(Integer.toString(i), StandardCharsets.UTF_8))
                .build());
      }
      PutRecordsResponse r = k.putRecords(b -> b.streamName(stream).records(entries));
      if (r.failedRecordCount() != null && r.failedRecordCount() > 0) {
        throw new IllegalStateException(
            "kinesis-mock failed " + r.failedRecordCount() + " entries");
      }
      out.addAll(r.records());
    }
    return out;
  }

  /** One planned batch: the ranges and the records read. */
  record Batch(List<OffsetRange> ranges, List<Record> records) {}

  /**
   * Plans and reads one batch as the runtime does (plan with the real planner, read each range).
   */
  static Batch batch(DirectPlanner planner, KinesisDirectSource source, long maxBytes)
      throws Exception {
    List<OffsetRange> ranges = planner.plan(source.partitions(), 0, 0, maxBytes, source);
    planner.advance(ranges);
    List<Record> records = new ArrayList<>();
    for (OffsetRange r : ranges) {
      records.addAll(read(source, r));
    }
    source.onBatchCommitted(0, ranges);
    return new Batch(ranges, records);
  }

  static List<Record> read(KinesisDirectSource source, OffsetRange r) throws Exception {
    List<Record> out = new ArrayList<>();
    try (CloseableIterator<Record> it = source.read(r)) {
      while (it.hasNext()) {
        out.add(it.next());
      }
    }
    return out;
  }

  static List<Integer> values(List<Record> records) {
    List<Integer> out = new ArrayList<>();
    for (Record r : records) {
      out.add(Integer.parseInt(r.valueAsString()));
    }
    return out;
  }
}
