package io.tributary.core.internal;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DataUnavailableException;
import io.tributary.core.api.PackedRecords;
import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.TributaryException;
import io.tributary.core.internal.checkpoint.BatchPlan;
import io.tributary.core.internal.checkpoint.CheckpointLog;
import io.tributary.core.internal.receiver.ReceiverSupervisor;
import io.tributary.core.internal.wal.WriteAheadLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives a {@link io.tributary.core.api.Receiver} through its {@link ReceiverSupervisor}: a plan is
 * the range of durable WAL blocks not planned yet, read back from memory or from the WAL. Memory is
 * bounded by {@code receiver.buffer-size}, so a batch is handed out in chunks of the blocks it
 * already holds.
 *
 * <p>Thread safety: see {@link SourceDriver}.
 */
final class ReceiverDriver implements SourceDriver {
  private static final Logger LOG = LoggerFactory.getLogger(ReceiverDriver.class);

  private final String pipelineId;
  private final String sourceName;
  private final ReceiverSupervisor supervisor;
  private final WriteAheadLog wal;
  private final int chunkRecords;
  private final CheckpointLog checkpoint;
  private final Receiver receiver;

  ReceiverDriver(
      String pipelineId,
      String sourceName,
      Receiver receiver,
      ReceiverSupervisor supervisor,
      WriteAheadLog wal,
      CheckpointLog checkpoint) {
    this.receiver = receiver;
    this.checkpoint = checkpoint;
    this.pipelineId = pipelineId;
    this.sourceName = sourceName;
    this.supervisor = supervisor;
    this.wal = wal;
    this.chunkRecords = DirectSourceDriver.CHUNK_RECORDS;
  }

  @Override
  public String planKind() {
    return BatchPlan.RECEIVER;
  }

  @Override
  public void start(BatchPlan lastPlan) throws Exception {
    supervisor.recover(checkpoint, lastPlan);
    supervisor.start();
  }

  @Override
  public BatchPlan plan(long batchId, long batchTimeMs, double rate) {
    if (supervisor.allPlanned()) {
      return null;
    }
    BatchPlan plan = supervisor.plan(batchId, batchTimeMs);
    return plan.plannedRecords() == 0 ? null : plan; // only in-flight appends, nothing durable yet
  }

  @Override
  public void planned(BatchPlan plan) {}

  @Override
  public CloseableIterator<List<Record>> read(BatchPlan plan, boolean replay) throws Exception {
    List<List<Record>> blocks;
    try {
      blocks = supervisor.readBlocks(plan.ranges().get(0));
    } catch (DataUnavailableException e) {
      if (replay && wal == null) {
        LOG.error(
            "event=data_lost pipeline={} batch={} blocks={} reason=\"wal.enabled is false, so data received before the"
                + " restart was only in memory\"",
            pipelineId,
            plan.batchId(),
            plan.ranges().get(0));
        blocks = List.of();
      } else {
        throw e;
      }
    }
    return CloseableIterator.of(chunks(blocks, chunkRecords));
  }

  /**
   * Cuts blocks into chunks of at most {@code chunkRecords}, in order. A packed block ({@link
   * PackedRecords}) is its own chunk (or several, as packed views), so sinks and the WAL-less path
   * never build a record per line from it; other blocks are joined into chunks as before.
   */
  static List<List<Record>> chunks(List<List<Record>> blocks, int chunkRecords) {
    List<List<Record>> chunks = new ArrayList<>();
    List<Record> joined = new ArrayList<>();
    for (List<Record> block : blocks) {
      if (block instanceof PackedRecords packed) {
        flush(chunks, joined, chunkRecords);
        joined = new ArrayList<>();
        for (int i = 0; i < packed.size(); i += chunkRecords) {
          chunks.add(packed.subList(i, Math.min(packed.size(), i + chunkRecords)));
        }
      } else {
        joined.addAll(block);
      }
    }
    flush(chunks, joined, chunkRecords);
    return chunks;
  }

  private static void flush(List<List<Record>> chunks, List<Record> records, int chunkRecords) {
    for (int i = 0; i < records.size(); i += chunkRecords) {
      chunks.add(records.subList(i, Math.min(records.size(), i + chunkRecords)));
    }
  }

  @Override
  public void committed(BatchPlan plan) {
    supervisor.committed(plan.ranges().get(0).untilOffset());
    if (plan.positions().isEmpty()) {
      return;
    }
    try {
      receiver.onBatchCommitted(plan.batchId(), plan.positions());
    } catch (Exception e) {
      LOG.warn(
          "event=receiver_commit_callback_failed pipeline={} source={} batch={} error=\"{}\"",
          pipelineId,
          sourceName,
          plan.batchId(),
          e.toString());
    }
  }

  @Override
  public void checkHealthy() {
    Throwable fatal = supervisor.fatalError();
    if (fatal != null) {
      throw new TributaryException(
          "Receiver " + sourceName + " of pipeline " + pipelineId + " cannot store data: " + fatal,
          fatal);
    }
  }

  @Override
  public List<io.tributary.core.runtime.ReceiverStatus> receivers() {
    return List.of(supervisor.status());
  }

  @Override
  public void setRate(double recordsPerSecond) {
    supervisor.setRate(recordsPerSecond);
  }

  @Override
  public void stopReceiving(Duration timeout) throws InterruptedException {
    supervisor.stopReceiving(timeout);
  }

  @Override
  public boolean allPlanned() {
    return supervisor.allPlanned();
  }

  @Override
  public boolean drainsOnStop() {
    return true;
  }

  @Override
  public void abort() {
    supervisor.close();
  }

  @Override
  public void close() {
    supervisor.close();
    if (wal != null) {
      try {
        wal.close();
      } catch (Exception e) {
        LOG.warn("event=wal_close_failed pipeline={} error=\"{}\"", pipelineId, e.toString());
      }
    }
  }
}
