package io.tributary.connector.file.pipeline;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A receiver for tests that stores records {@code rec-0 .. rec-(total-1)} reliably in chunks and
 * "acknowledges" each chunk (advances {@link #acked}) only after the write-ahead log has it; after
 * a restart it resumes from the last stored offset, as a real reliable receiver resumes from its
 * source's acknowledgements.
 */
final class ReliableCountingReceiver extends Receiver {
  final int total;
  final AtomicInteger acked;
  private volatile Thread thread;

  ReliableCountingReceiver(int total, AtomicInteger acked) {
    this.total = total;
    this.acked = acked;
  }

  static String line(int i) {
    return "rec-" + i;
  }

  @Override
  public void onStart() {
    int resume = Math.max(acked.get(), (int) (lastStoredOffset("p").orElse(-1) + 1));
    Thread t =
        new Thread(
            () -> {
              int i = resume;
              try {
                while (!isStopped() && i < total) {
                  List<Record> chunk = new ArrayList<>();
                  for (int k = 0; k < 40 && i < total; k++, i++) {
                    chunk.add(
                        Record.ofString(line(i)).withPosition(new SourcePosition("in", "p", i)));
                  }
                  storeReliably(chunk);
                  acked.set(i);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (RuntimeException e) {
                // stopped, or the WAL failed: this chunk was not acknowledged and is sent again
                // after a restart
              }
            },
            "tributary-test-receiver-0");
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  @Override
  public void onStop() throws InterruptedException {
    Thread t = thread;
    if (t != null) {
      t.interrupt();
      t.join(10_000);
    }
  }
}
