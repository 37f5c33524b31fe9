package io.tributary.connector.kinesis;

import io.micrometer.core.instrument.Counter;
import io.tributary.connector.kinesis.KinesisOptions.Ordering;
import io.tributary.connector.kinesis.KinesisOptions.PartitionKeySource;
import io.tributary.connector.kinesis.internal.KinesisClients;
import io.tributary.connector.kinesis.internal.KinesisClients.Target;
import io.tributary.connector.kinesis.internal.KplAggregation;
import io.tributary.core.api.AtLeastOnceSink;
import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.Config;
import io.tributary.core.api.Record;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import io.tributary.core.api.TributaryException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;

/**
 * Writes batches to a Kinesis data stream with PutRecords: requests of up to 500 records and 5 MiB,
 * only the failed entries of a request are sent again (with backoff when Kinesis throttles), and
 * with {@code ordering: per_key} (the default) records of one partition key keep their order even
 * when entries fail.
 *
 * <p>Guarantee: at-least-once. A batch replayed after a crash, or retried after a failure, is
 * written again. With {@code dedup-ids: true} each record is written as a one-record KPL aggregate
 * whose tags carry {@code pipeline:sink:batchId:index} (the same for a replayed batch) and the
 * record's headers; a {@code kinesis} source with {@code dedup-window} drops the copies, which
 * makes Tributary → Kinesis → Tributary exactly-once within that window. Other KPL-aware readers
 * (KCL) see the plain record.
 *
 * <p>Thread safety: all calls come from the pipeline's batch thread.
 */
public final class KinesisSink implements AtLeastOnceSink {
  private static final Logger LOG = LoggerFactory.getLogger(KinesisSink.class);
  static final int MAX_ENTRIES = 500;
  static final long MAX_REQUEST_BYTES = 5L * 1024 * 1024;
  static final int MAX_RECORD_BYTES = 1024 * 1024;
  private static final long MAX_BACKOFF_MS = 5_000;

  private final Target target;
  private final PartitionKeySource keySource;
  private final String keyHeader;
  private final boolean dedupIds;
  private final Ordering ordering;
  private final int maxAttempts;
  private final long backoffMs;

  private KinesisClient client;
  private String pipelineId = "";
  private String sinkName = "kinesis";
  private Counter throttled;
  private Counter retriedEntries;

  public KinesisSink(Config config) {
    KinesisOptions.checkSink(config);
    this.target =
        new Target(
            config.get(KinesisOptions.STREAM),
            config.get(KinesisOptions.REGION),
            config.get(KinesisOptions.ENDPOINT),
            config.get(KinesisOptions.ACCESS_KEY_ID),
            config.get(KinesisOptions.SECRET_ACCESS_KEY));
    this.keySource = config.get(KinesisOptions.PARTITION_KEY);
    this.keyHeader = config.get(KinesisOptions.PARTITION_KEY_HEADER);
    this.dedupIds = config.get(KinesisOptions.DEDUP_IDS);
    this.ordering = config.get(KinesisOptions.ORDERING);
    this.maxAttempts = config.get(KinesisOptions.MAX_ATTEMPTS);
    this.backoffMs = config.get(KinesisOptions.THROTTLE_BACKOFF).toMillis();
  }

  @Override
  public void open(SinkContext context) {
    this.pipelineId = context.pipelineId();
    this.sinkName = context.sinkName();
    this.throttled =
        Counter.builder("tributary.kinesis.sink.throttled")
            .description("PutRecords requests or entries Kinesis throttled (retried)")
            .tag("pipeline", pipelineId)
            .tag("sink", sinkName)
            .register(context.meterRegistry());
    this.retriedEntries =
        Counter.builder("tributary.kinesis.sink.retried.entries")
            .description("PutRecords entries that failed and were sent again")
            .tag("pipeline", pipelineId)
            .tag("sink", sinkName)
            .register(context.meterRegistry());
    client = KinesisClients.create(target);
    try {
      client.describeStreamSummary(b -> b.streamName(target.stream()));
    } catch (SdkException e) {
      RuntimeException t = KinesisClients.translate("describe the stream", target, e);
      close();
      throw t;
    }
    LOG.info(
        "event=kinesis_sink_opened pipeline={} sink={} stream={} partition_key={} ordering={} dedup_ids={}",
        pipelineId,
        sinkName,
        target.stream(),
        keySource,
        ordering,
        dedupIds);
  }

  @Override
  public void write(long batchId, List<Record> records) throws Exception {
    io.tributary.core.api.Sink.writeAll(this, batchId, records);
  }

  @Override
  public BatchWriter begin(SinkBatch batch) {
    return new Writer(batch.batchId());
  }

  /** An entry to put, with the attempts it has had. */
  private static final class Pending {
    final PutRecordsRequestEntry entry;
    final long bytes;
    int attempts;

    Pending(PutRecordsRequestEntry entry) {
      this.entry = entry;
      this.bytes = entry.data().asByteArrayUnsafe().length + entry.partitionKey().length();
    }
  }

  private final class Writer implements BatchWriter {
    private final long batchId;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private long pendingBytes;
    private long index;

    Writer(long batchId) {
      this.batchId = batchId;
    }

    @Override
    public void write(List<Record> chunk) throws Exception {
      for (Record r : chunk) {
        Pending p = new Pending(entry(r, index++));
        pending.add(p);
        pendingBytes += p.bytes;
        // send full requests as they fill, keep at most a few in memory
        while (pending.size() >= MAX_ENTRIES * 2 || pendingBytes >= MAX_REQUEST_BYTES * 2) {
          sendOne();
        }
      }
    }

    @Override
    public void commit() throws Exception {
      while (!pending.isEmpty()) {
        sendOne();
      }
    }

    @Override
    public void close() {
      pending.clear();
      pendingBytes = 0;
    }

    private PutRecordsRequestEntry entry(Record r, long i) {
      String key = partitionKey(r);
      byte[] data = r.value();
      if (dedupIds) {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put(
            KinesisDirectSource.DEDUP_TAG, pipelineId + ":" + sinkName + ":" + batchId + ":" + i);
        for (Map.Entry<String, byte[]> h : r.headers().entrySet()) {
          if (h.getValue() != null && !h.getKey().equals(KinesisDirectSource.DEDUP_TAG)) {
            tags.put(
                KinesisDirectSource.HEADER_TAG_PREFIX + h.getKey(),
                Base64.getEncoder().encodeToString(h.getValue()));
          }
        }
        data = KplAggregation.encode(List.of(new KplAggregation.UserRecord(key, null, data, tags)));
      }
      if (data.length + key.length() > MAX_RECORD_BYTES) {
        throw new TributaryException(
            "Record of batch "
                + batchId
                + " at "
                + r.position()
                + " is "
                + (data.length + key.length())
                + " bytes with its partition key; Kinesis takes at most 1 MiB per record (filter or split it"
                + " upstream)");
      }
      return PutRecordsRequestEntry.builder()
          .partitionKey(key)
          .data(SdkBytes.fromByteArrayUnsafe(data))
          .build();
    }

    /** Sends one request from the head of the queue; failed entries go back in front, in order. */
    private void sendOne() throws InterruptedException {
      List<Pending> request = new ArrayList<>();
      long bytes = 0;
      Set<String> keys = new HashSet<>();
      Set<String> blocked = new HashSet<>();
      for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        if (request.size() == MAX_ENTRIES) {
          break;
        }
        if (bytes + p.bytes > MAX_REQUEST_BYTES && !request.isEmpty()) {
          break;
        }
        if (ordering == Ordering.PER_KEY) {
          String k = p.entry.partitionKey();
          if (!keys.add(k) || blocked.contains(k)) {
            blocked.add(k); // a later record of this key waits for the earlier one's outcome
            continue;
          }
        }
        request.add(p);
        bytes += p.bytes;
        it.remove();
        pendingBytes -= p.bytes;
      }
      List<Pending> failed = put(request);
      // failed entries go back to the front, in their original order
      for (int i = failed.size() - 1; i >= 0; i--) {
        pending.addFirst(failed.get(i));
        pendingBytes += failed.get(i).bytes;
      }
    }

    /**
     * Sends {@code request} once (retrying a whole-request failure); returns the failed entries.
     */
    private List<Pending> put(List<Pending> request) throws InterruptedException {
      List<PutRecordsRequestEntry> entries = new ArrayList<>(request.size());
      for (Pending p : request) {
        entries.add(p.entry);
      }
      long backoff = backoffMs;
      int requestAttempts = 0;
      while (true) {
        PutRecordsResponse resp;
        try {
          resp = client.putRecords(b -> b.streamName(target.stream()).records(entries));
        } catch (SdkException e) {
          RuntimeException t = KinesisClients.translate("put records", target, e);
          if (!(t instanceof RetriableException) || ++requestAttempts >= maxAttempts) {
            throw t;
          }
          if (KinesisClients.isThrottling(e)) {
            throttled.increment();
          }
          TimeUnit.MILLISECONDS.sleep(backoff); // backoff, not synchronisation
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        List<Pending> failed = new ArrayList<>();
        boolean anyThrottled = false;
        String lastError = null;
        List<PutRecordsResultEntry> results = resp.records();
        for (int i = 0; i < results.size(); i++) {
          PutRecordsResultEntry r = results.get(i);
          if (r.errorCode() != null) {
            Pending p = request.get(i);
            p.attempts++;
            lastError = r.errorCode() + ": " + r.errorMessage();
            if (p.attempts >= maxAttempts) {
              throw new RetriableException(
                  "Kinesis refused a record of stream "
                      + target.stream()
                      + " "
                      + p.attempts
                      + " times (last: "
                      + lastError
                      + "); the batch is retried (records already written are written again:"
                      + " at-least-once)");
            }
            anyThrottled |= r.errorCode().contains("ProvisionedThroughputExceeded");
            failed.add(p);
          }
        }
        if (!failed.isEmpty()) {
          retriedEntries.increment(failed.size());
          if (anyThrottled) {
            throttled.increment();
          }
          LOG.debug(
              "event=kinesis_put_partial_failure pipeline={} sink={} failed={} of={} last_error=\"{}\"",
              pipelineId,
              sinkName,
              failed.size(),
              request.size(),
              lastError);
          long wait =
              Math.min(backoffMs << Math.min(10, failed.get(0).attempts - 1), MAX_BACKOFF_MS);
          TimeUnit.MILLISECONDS.sleep(wait); // backoff before resending, not synchronisation
        }
        return failed;
      }
    }
  }

  String partitionKey(Record r) {
    String k = null;
    switch (keySource) {
      case KEY -> {
        if (r.key() != null && r.key().length > 0) {
          k = new String(r.key(), StandardCharsets.UTF_8);
        }
      }
      case HEADER -> {
        byte[] h = r.headers().get(keyHeader);
        if (h != null && h.length > 0) {
          k = new String(h, StandardCharsets.UTF_8);
        }
      }
      case HASH -> {}
    }
    if (k == null) {
      return md5Hex(r.value());
    }
    return k.length() > 256 ? md5Hex(k.getBytes(StandardCharsets.UTF_8)) : k;
  }

  private static String md5Hex(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is part of every JDK", e);
    }
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
      client = null;
    }
  }
}
