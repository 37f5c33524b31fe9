package io.tributary.spark.internal;

import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import io.tributary.spark.CanCommitTributaryPositions;
import io.tributary.spark.TributaryOffsetRange;
import io.tributary.spark.TributaryRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.rdd.RDD;
import org.apache.spark.streaming.StreamingContext;
import org.apache.spark.streaming.Time;
import org.apache.spark.streaming.dstream.InputDStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * A direct DStream over a Tributary source: each batch interval the driver plans ranges from the
 * positions reached (bounded by {@code maxRecordsPerTrigger} / {@code maxBytesPerTrigger}) and
 * returns a {@link TributaryRDD} that reads them on executors. Positions committed with {@link
 * #commit} are kept in {@code <checkpoint.location>/committed.json}; a new stream starts after
 * them, else at the initial positions (kept in {@code initial-offset.json} at the first start).
 *
 * <p>Thread safety: {@link #compute} runs on Spark's job generator thread and {@link #commit} on
 * the thread of the user's {@code foreachRDD}; both synchronize on the stream.
 */
public final class TributaryDirectDStream extends InputDStream<TributaryRecord>
    implements CanCommitTributaryPositions {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(TributaryDirectDStream.class);
  private static final String COMMITTED = "committed.json";
  private static final String INITIAL = "initial-offset.json";

  private final SourceSpec spec;
  private final String location;
  private final ReadStats stats;
  private transient DirectSource source;
  private transient Planner planner;
  private transient CheckpointStorage storage;
  private transient Map<String, Position> current;
  private transient Map<String, Position> committed;

  public TributaryDirectDStream(StreamingContext ssc, SourceSpec spec, String location) {
    super(ssc, TributaryRDD.TAG);
    this.location = location.replaceAll("/+$", "");
    this.spec = spec.withStateLocation(this.location + "/state/" + spec.sourceName());
    this.stats = new ReadStats(ssc.sparkContext(), "tributary.dstream." + spec.sourceName());
  }

  private synchronized void ensureOpen() {
    if (source != null) {
      return;
    }
    try {
      storage = CheckpointStorageFactory.open(location, Map.of());
      source = spec.open();
      planner = new Planner(spec, source, stats::averageRecordBytes);
      Optional<byte[]> c = storage.read(COMMITTED);
      if (c.isPresent()) {
        // a copy: commit() updates it, and the parsed map is read-only
        committed =
            new TreeMap<>(
                TributaryOffset.parse(new String(c.get(), StandardCharsets.UTF_8)).positions());
        current = new TreeMap<>(committed);
      } else {
        Optional<byte[]> i = storage.read(INITIAL);
        if (i.isPresent()) {
          current =
              new TreeMap<>(
                  TributaryOffset.parse(new String(i.get(), StandardCharsets.UTF_8)).positions());
        } else {
          current = planner.initial();
          storage.writeAtomically(
              INITIAL, new TributaryOffset(current).json().getBytes(StandardCharsets.UTF_8));
        }
        committed = new TreeMap<>();
      }
      LOG.info(
          "event=spark_dstream_started source={} positions={}",
          spec.sourceName(),
          new TributaryOffset(current).json());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot open the stream's state at " + location, e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("Opening " + spec + " failed: " + e, e);
    }
  }

  @Override
  public void start() {
    ensureOpen();
  }

  @Override
  public synchronized void stop() {
    if (source != null) {
      SourceSpec.closeQuietly(source);
      source = null;
    }
    if (storage != null) {
      SourceSpec.closeQuietly(storage);
      storage = null;
    }
  }

  @Override
  public synchronized Option<RDD<TributaryRecord>> compute(Time validTime) {
    ensureOpen();
    long maxRows =
        spec.maxRecordsPerTrigger() == null ? Long.MAX_VALUE : spec.maxRecordsPerTrigger();
    long maxBytes = spec.maxBytesPerTrigger() == null ? Long.MAX_VALUE : spec.maxBytesPerTrigger();
    Planner.Plan plan = planner.plan(current, maxRows, maxBytes);
    List<OffsetRange> ranges = new ArrayList<>();
    for (Map.Entry<String, Position> e : plan.end().entrySet()) {
      Position f = current.get(e.getKey());
      if (f != null && f.isBefore(e.getValue())) {
        ranges.add(new OffsetRange(e.getKey(), f, e.getValue()));
      }
    }
    current = new TreeMap<>(plan.end());
    return Option.apply(new TributaryRDD(context().sparkContext(), spec, ranges, stats));
  }

  @Override
  public synchronized void commit(TributaryOffsetRange[] ranges) {
    ensureOpen();
    List<OffsetRange> done = new ArrayList<>();
    for (TributaryOffsetRange r : ranges) {
      Position before = committed.get(r.partition());
      if (before == null || before.isBefore(r.until())) {
        committed.put(r.partition(), r.until());
        done.add(r.toOffsetRange());
      }
    }
    try {
      storage.writeAtomically(
          COMMITTED, new TributaryOffset(committed).json().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the committed positions to " + location, e);
    }
    try {
      source.onBatchCommitted(-1, done);
    } catch (Exception e) {
      LOG.warn(
          "event=spark_source_commit_callback_failed source={} error=\"{}\"",
          spec.sourceName(),
          e.toString());
    }
  }
}
