package io.tributary.spark.internal;

import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.Guarantee;
import io.tributary.core.api.Record;
import io.tributary.core.api.Sink;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.TransactionalSink;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory;
import org.apache.spark.sql.connector.write.streaming.StreamingWrite;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streaming write of {@code writeStream.format("tributary")}: each task of epoch (micro-batch)
 * {@code E} writes its partition {@code p} through its own instance of the Tributary sink, opened
 * as sink {@code <sink.name>-p<p>} of pipeline {@code spark-<query id>}, with batch id {@code E}.
 *
 * <p>With a transactional sink (Kafka), the task's rows and a marker {@code (query, p) -> E} commit
 * in one transaction, in the task; opening the sink fences any other attempt of the same partition
 * (same transactional id) and reads the marker, and a task of an epoch its partition already
 * committed writes nothing. So an epoch re-run after a crash (Spark re-runs the last epoch of its
 * offset log with the same offsets) writes only the partitions that had not committed: each row
 * exactly once, as long as the epoch gives task {@code p} the same rows every time (true for a
 * query that maps and filters a replayable source such as {@code format("tributary")}; not for a
 * non-deterministic repartition). The epoch is not atomic: a {@code read_committed} reader may see
 * some partitions of an epoch before the others.
 *
 * <p>Why not one transaction per epoch committed by the driver (Flink's two-phase commit): the
 * transaction a task prepared would have to be committed by another process (the driver), which
 * Kafka's producer API does not allow (KIP-939 adds it; Flink resumes producer internals by
 * reflection). The per-task commit above is the subset that is safe with the public API.
 *
 * <p>With an at-least-once sink, rows are written when the task commits; an epoch re-run writes
 * them again.
 *
 * <p>Thread safety: the driver calls {@link #commit}/{@link #abort} from the query thread; each
 * {@link DataWriter} is used by one task thread.
 */
public final class TributaryStreamingWrite implements StreamingWrite {
  private static final Logger LOG = LoggerFactory.getLogger(TributaryStreamingWrite.class);

  /** Sink metrics in the query progress ({@code lastProgress().sink().metrics()}). */
  static final String WRITTEN = "recordsWritten";

  static final String SKIPPED = "recordsSkippedAsCommitted";

  private final SinkSpec spec;
  private final SinkRows rows;
  private final String pipelineId;

  private final java.util.function.Consumer<Map<String, String>> epochMetrics;

  /**
   * @param epochMetrics told each committed epoch's {@link #WRITTEN} and {@link #SKIPPED} counts
   */
  public TributaryStreamingWrite(
      SinkSpec spec,
      SinkRows rows,
      String queryId,
      java.util.function.Consumer<Map<String, String>> epochMetrics) {
    this.spec = spec;
    this.epochMetrics = epochMetrics;
    this.rows = rows;
    this.pipelineId = "spark-" + queryId;
  }

  @Override
  public StreamingDataWriterFactory createStreamingWriterFactory(PhysicalWriteInfo info) {
    return new Factory(spec, rows, pipelineId);
  }

  @Override
  public void commit(long epochId, WriterCommitMessage[] messages) {
    long written = 0;
    long skipped = 0;
    for (WriterCommitMessage m : messages) {
      if (m instanceof Committed c) {
        written += c.written();
        skipped += c.skipped();
      }
    }
    epochMetrics.accept(Map.of(WRITTEN, Long.toString(written), SKIPPED, Long.toString(skipped)));
    LOG.info(
        "event=spark_sink_epoch_committed pipeline={} sink={} epoch={} tasks={} records={}"
            + " skipped_as_committed={}",
        pipelineId,
        spec.sinkName(),
        epochId,
        messages.length,
        written,
        skipped);
  }

  @Override
  public void abort(long epochId, WriterCommitMessage[] messages) {
    // Tasks that committed stay committed (their markers say so); the epoch is run again and those
    // partitions are skipped.
    LOG.info(
        "event=spark_sink_epoch_aborted pipeline={} sink={} epoch={}",
        pipelineId,
        spec.sinkName(),
        epochId);
  }

  /** What a task reports to the driver. */
  record Committed(int partition, long written, long skipped) implements WriterCommitMessage {}

  private record Factory(SinkSpec spec, SinkRows rows, String pipelineId)
      implements StreamingDataWriterFactory {
    @Override
    public DataWriter<InternalRow> createWriter(int partitionId, long taskId, long epochId) {
      return new TaskWriter(spec, rows, pipelineId, partitionId, epochId);
    }
  }

  /** One task's part of one epoch. */
  private static final class TaskWriter implements DataWriter<InternalRow> {
    private static final int CHUNK = 1_000;

    private final SinkSpec spec;
    private final SinkRows rows;
    private final String pipelineId;
    private final int partition;
    private final long epoch;
    private Sink sink;
    private BatchWriter writer;
    private boolean skip;
    private List<Record> chunk = new ArrayList<>(CHUNK);
    private long count;

    TaskWriter(SinkSpec spec, SinkRows rows, String pipelineId, int partition, long epoch) {
      this.spec = spec;
      this.rows = rows;
      this.pipelineId = pipelineId;
      this.partition = partition;
      this.epoch = epoch;
    }

    private void start() throws IOException {
      try {
        sink = spec.open(pipelineId, spec.sinkName() + "-p" + partition);
        if (sink instanceof TransactionalSink t) {
          OptionalLong last = t.lastCommittedBatch();
          if (last.isPresent() && last.getAsLong() >= epoch) {
            skip = true;
            LOG.info(
                "event=spark_sink_task_skipped pipeline={} sink={} partition={} epoch={}"
                    + " last_committed_epoch={}",
                pipelineId,
                spec.sinkName(),
                partition,
                epoch,
                last.getAsLong());
            return;
          }
        }
        writer = sink.begin(SinkBatch.of(epoch));
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("Interrupted while opening " + spec, e);
      } catch (Exception e) {
        throw new IOException(
            "Cannot open " + spec + " for partition " + partition + " of epoch " + epoch, e);
      }
    }

    @Override
    public void write(InternalRow row) throws IOException {
      if (sink == null) {
        start();
      }
      count++;
      if (skip) {
        return;
      }
      chunk.add(rows.toRecord(row));
      if (chunk.size() >= CHUNK) {
        flush();
      }
    }

    private void flush() throws IOException {
      List<Record> c = chunk;
      chunk = new ArrayList<>(CHUNK);
      try {
        writer.write(c);
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("Interrupted while writing to " + spec, e);
      } catch (Exception e) {
        throw new IOException(
            "Cannot write partition " + partition + " of epoch " + epoch + " to " + spec, e);
      }
    }

    @Override
    public WriterCommitMessage commit() throws IOException {
      if (sink == null) {
        return new Committed(partition, 0, 0); // no rows: nothing to write, no marker needed
      }
      if (skip) {
        return new Committed(partition, 0, count);
      }
      if (!chunk.isEmpty()) {
        flush();
      }
      try {
        writer.commit();
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("Interrupted while committing to " + spec, e);
      } catch (Exception e) {
        throw new IOException(
            "Cannot commit partition " + partition + " of epoch " + epoch + " to " + spec, e);
      }
      return new Committed(partition, count, 0);
    }

    @Override
    public void abort() {
      close();
    }

    @Override
    public void close() {
      chunk = List.of();
      if (writer != null) {
        SourceSpec.closeQuietly(writer); // aborts a transaction not committed
        writer = null;
      }
      if (sink != null) {
        SourceSpec.closeQuietly(sink);
        sink = null;
      }
    }
  }

  /** The guarantee of this write, for the description. */
  String guarantee() {
    return spec.guarantee() == Guarantee.EXACTLY_ONCE_TRANSACTIONAL
        ? "exactly-once per (query, partition, epoch)"
        : "at-least-once";
  }
}
