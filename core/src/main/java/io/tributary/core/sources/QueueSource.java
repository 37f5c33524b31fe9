package io.tributary.core.sources;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.PartitionInfo;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourceContext;
import io.tributary.core.api.SourcePosition;
import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory, replayable source for tests: Spark's {@code queueStream}. Push batches of records
 * in; the pipeline reads them either all at once or one pushed batch per batch interval.
 *
 * <p>It is a {@link DirectSource} with one partition, {@code queue}, whose offsets are record
 * indexes, so the runtime's checkpoint protocol applies as to any direct source. Records live only
 * in this object: a replay after a crash works within one JVM (the test keeps the QueueSource and
 * builds a new pipeline over it), not across processes.
 *
 * <p>Thread safety: {@link #push} may be called from any thread while the pipeline runs.
 */
public final class QueueSource implements DirectSource {
  public static final String PARTITION = "queue";

  private final boolean oneBatchPerInterval;
  private final List<Record> records = new ArrayList<>();
  private final List<Integer> boundaries = new ArrayList<>();
  private int released;
  private String name = "queue";

  /**
   * @param oneBatchPerInterval {@code true}: each pipeline batch takes at most one pushed batch (in
   *     push order); {@code false}: each pipeline batch takes everything pushed so far
   */
  public QueueSource(boolean oneBatchPerInterval) {
    this.oneBatchPerInterval = oneBatchPerInterval;
  }

  /** Appends a batch. */
  public synchronized void push(List<Record> batch) {
    records.addAll(batch);
    boundaries.add(records.size());
  }

  /** Appends each string as a UTF-8 record, as one batch. */
  public void pushStrings(String... values) {
    List<Record> batch = new ArrayList<>();
    for (String v : values) {
      batch.add(Record.ofString(v));
    }
    push(batch);
  }

  public synchronized int size() {
    return records.size();
  }

  @Override
  public void open(SourceContext context) {
    this.name = context.sourceName();
  }

  @Override
  public synchronized List<PartitionInfo> partitions() {
    long end;
    if (oneBatchPerInterval) {
      // Release the next pushed batch on every planning call.
      if (released < boundaries.size()) {
        released++;
      }
      end = released == 0 ? 0 : boundaries.get(released - 1);
    } else {
      end = records.size();
    }
    return List.of(PartitionInfo.open(PARTITION, 0, end));
  }

  @Override
  public synchronized CloseableIterator<Record> read(OffsetRange range) {
    if (!PARTITION.equals(range.partition()) || range.untilOffset() > records.size()) {
      throw new DataUnavailableException(
          "QueueSource "
              + name
              + " has no data for "
              + range
              + " (it holds "
              + records.size()
              + " records in memory;"
              + " a queue source cannot replay across processes)");
    }
    List<Record> out = new ArrayList<>((int) range.count());
    for (long i = range.fromOffset(); i < range.untilOffset(); i++) {
      out.add(records.get((int) i).withPosition(new SourcePosition(name, PARTITION, i)));
    }
    return CloseableIterator.of(out);
  }

  @Override
  public void close() {}
}
