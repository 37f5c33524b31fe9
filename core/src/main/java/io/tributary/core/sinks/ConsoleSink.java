package io.tributary.core.sinks;

import io.tributary.core.api.AtLeastOnceSink;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkContext;
import java.io.PrintStream;
import java.util.List;

/**
 * Prints each batch: a header line with the batch id and record count, then the first {@code
 * maxRecords} values as UTF-8 text (Spark's {@code print()}). At-least-once: a replayed batch is
 * printed again.
 *
 * <p>Thread safety: used by the batch thread only.
 */
public final class ConsoleSink implements AtLeastOnceSink {
  private final PrintStream out;
  private final int maxRecords;
  private String pipelineId = "";

  /**
   * @param maxRecords how many records of each batch to print; 0 prints only the header, -1 prints
   *     all
   */
  public ConsoleSink(PrintStream out, int maxRecords) {
    this.out = out;
    this.maxRecords = maxRecords;
  }

  @Override
  public void open(SinkContext context) {
    this.pipelineId = context.pipelineId();
  }

  @Override
  public void write(long batchId, List<Record> records) {
    StringBuilder sb = new StringBuilder();
    sb.append("-------------------------------------------\n");
    sb.append("pipeline=")
        .append(pipelineId)
        .append(" batch=")
        .append(batchId)
        .append(" records=")
        .append(records.size())
        .append('\n');
    sb.append("-------------------------------------------\n");
    int n = maxRecords < 0 ? records.size() : Math.min(maxRecords, records.size());
    for (int i = 0; i < n; i++) {
      sb.append(records.get(i).valueAsString()).append('\n');
    }
    if (n < records.size()) {
      sb.append("...\n");
    }
    out.print(sb);
    out.flush();
  }

  @Override
  public void close() {
    out.flush();
  }
}
