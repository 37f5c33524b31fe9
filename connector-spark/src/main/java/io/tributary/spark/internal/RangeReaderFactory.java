package io.tributary.spark.internal;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DirectSource;
import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Record;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;

/**
 * Reads a {@link RangePartition} on an executor: builds and opens the source from its spec, reads
 * exactly the planned range (the contract of {@link DirectSource#read}: the same records on every
 * attempt, or {@link io.tributary.core.api.DataUnavailableException}), and closes both.
 *
 * <p>Thread safety: stateless; each reader is used by one task thread.
 */
public final class RangeReaderFactory implements PartitionReaderFactory {
  private static final long serialVersionUID = 1L;

  private final ReadStats stats;

  /**
   * @param stats where readers add what they read (Spark accumulators: deserialized with the
   *     factory inside the task, so Spark merges them back on the driver); may be null
   */
  RangeReaderFactory(ReadStats stats) {
    this.stats = stats;
  }

  @Override
  public PartitionReader<InternalRow> createReader(InputPartition partition) {
    RangePartition p = (RangePartition) partition;
    return new Reader(p, stats);
  }

  private static final class Reader implements PartitionReader<InternalRow> {
    private final RangePartition partition;
    private final OffsetRange range;
    private final ReadStats stats;
    private DirectSource source;
    private CloseableIterator<Record> records;
    private InternalRow current;
    private long count;
    private long bytes;
    private boolean exhausted;

    Reader(RangePartition partition, ReadStats stats) {
      this.partition = partition;
      this.stats = stats;
      this.range = partition.range();
    }

    @Override
    public boolean next() throws java.io.IOException {
      try {
        if (records == null) {
          if (range.isEmpty()) {
            exhausted = true;
            return false;
          }
          source = partition.spec().open();
          records = source.read(range);
        }
        if (!records.hasNext()) {
          exhausted = true;
          return false;
        }
        Record r = records.next();
        count++;
        bytes += r.sizeInBytes();
        current = Rows.toRow(r, range.partition());
        return true;
      } catch (RuntimeException | java.io.IOException e) {
        throw e;
      } catch (Exception e) {
        throw new java.io.IOException(
            "Reading " + range + " of " + partition.spec() + " failed: " + e, e);
      }
    }

    @Override
    public InternalRow get() {
      return current;
    }

    @Override
    public void close() {
      if (records != null) {
        records.close();
      }
      if (source != null) {
        SourceSpec.closeQuietly(source);
      }
      if (count > 0 && stats != null) {
        // positions, not records: the driver converts a byte budget into positions (a file is one)
        stats.add(exhausted ? Math.max(1, range.count()) : count, bytes);
      }
    }
  }
}
