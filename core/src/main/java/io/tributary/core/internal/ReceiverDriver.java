package io.tributary.core.internal;

import io.tributary.core.api.CloseableIterator;
import io.tributary.core.api.DataUnavailableException;
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
    List<Record> records;
    try {
      records = supervisor.read(plan.ranges().get(0));
    } catch (DataUnavailableException e) {
      if (replay && wal == null) {
        LOG.error(
            "event=data_lost pipeline={} batch={} blocks={} reason=\"wal.enabled is false, so data received before the"
                + " restart was only in memory\"",
            pipelineId,
            plan.batchId(),
            plan.ranges().get(0));
        records = List.of();
      } else {
        throw e;
      }
    }
    List<List<Record>> chunks = new ArrayList<>();
    for (int i = 0; i < records.size(); i += chunkRecords) {
      chunks.add(records.subList(i, Math.min(records.size(), i + chunkRecords)));
    }
    return CloseableIterator.of(chunks);
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
