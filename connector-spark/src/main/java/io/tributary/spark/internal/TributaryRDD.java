package io.tributary.spark.internal;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import io.tributary.spark.HasTributaryOffsetRanges;
import io.tributary.spark.TributaryOffsetRange;
import io.tributary.spark.TributaryRecord;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Dependency;
import org.apache.spark.Partition;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.util.TaskCompletionListener;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * The RDD of one batch of a direct Tributary DStream: one Spark partition per planned range, read
 * on an executor with that executor's own instance of the source (opened from the spec, closed when
 * the task completes).
 *
 * <p>Thread safety: as any RDD; each partition is computed by one task thread.
 */
public final class TributaryRDD extends RDD<TributaryRecord> implements HasTributaryOffsetRanges {
  private static final long serialVersionUID = 1L;
  static final ClassTag<TributaryRecord> TAG = ClassTag$.MODULE$.apply(TributaryRecord.class);

  private final SourceSpec spec;
  private final TributaryOffsetRange[] ranges;
  private final ReadStats stats;

  @SuppressWarnings({"unchecked", "rawtypes"})
  TributaryRDD(SparkContext sc, SourceSpec spec, List<OffsetRange> ranges, ReadStats stats) {
    super(
        sc,
        (scala.collection.immutable.Seq)
            CollectionConverters.asScala(new ArrayList<Dependency<?>>()).toList(),
        TAG);
    this.spec = spec;
    this.stats = stats;
    this.ranges =
        ranges.stream().map(TributaryOffsetRange::new).toArray(TributaryOffsetRange[]::new);
  }

  @Override
  public TributaryOffsetRange[] offsetRanges() {
    return ranges.clone();
  }

  @Override
  public Partition[] getPartitions() {
    Partition[] out = new Partition[ranges.length];
    for (int i = 0; i < ranges.length; i++) {
      out[i] = new RangeSplit(i, ranges[i]);
    }
    return out;
  }

  @Override
  public scala.collection.Iterator<TributaryRecord> compute(Partition split, TaskContext context) {
    OffsetRange range = ((RangeSplit) split).range.toOffsetRange();
    if (range.isEmpty()) {
      return CollectionConverters.asScala(java.util.Collections.<TributaryRecord>emptyIterator());
    }
    DirectSource source;
    CloseableIterator<Record> records;
    try {
      source = spec.open();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("Opening " + spec + " to read " + range + " failed: " + e, e);
    }
    try {
      records = source.read(range);
    } catch (Exception e) {
      SourceSpec.closeQuietly(source);
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("Reading " + range + " of " + spec + " failed: " + e, e);
    }
    long[] counted = new long[2]; // positions read, bytes
    boolean[] exhausted = new boolean[1];
    context.addTaskCompletionListener(
        new TaskCompletionListener() {
          @Override
          public void onTaskCompletion(TaskContext ctx) {
            records.close();
            if (counted[0] > 0) {
              stats.add(exhausted[0] ? Math.max(1, range.count()) : counted[0], counted[1]);
            }
            SourceSpec.closeQuietly(source);
          }
        });
    String partition = range.partition();
    Iterator<TributaryRecord> it =
        new Iterator<>() {
          @Override
          public boolean hasNext() {
            boolean more = records.hasNext();
            if (!more) {
              exhausted[0] = true;
            }
            return more;
          }

          @Override
          public TributaryRecord next() {
            Record r = records.next();
            counted[0]++;
            counted[1] += r.sizeInBytes();
            return TributaryRecord.of(r, partition);
          }
        };
    return CollectionConverters.asScala(it);
  }

  /** One range as a Spark partition. */
  static final class RangeSplit implements Partition {
    private static final long serialVersionUID = 1L;
    private final int index;
    final TributaryOffsetRange range;

    RangeSplit(int index, TributaryOffsetRange range) {
      this.index = index;
      this.range = range;
    }

    @Override
    public int index() {
      return index;
    }

    @Override
    public int hashCode() {
      return index;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof RangeSplit r && r.index == index;
    }
  }
}
