package io.tributary.spark;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Stores prefix-0 .. prefix-(n-1) reliably in batches of 10 on a thread of its own, then idles. */
final class CountingReceiver extends Receiver {
  private final String prefix;
  private final int count;
  private volatile Thread thread;

  CountingReceiver(String prefix, int count) {
    this.prefix = prefix;
    this.count = count;
  }

  @Override
  public void onStart() {
    Thread t =
        new Thread(
            () -> {
              try {
                for (int i = 0; i < count && !isStopped(); i += 10) {
                  List<Record> batch = new ArrayList<>();
                  for (int j = i; j < Math.min(count, i + 10); j++) {
                    batch.add(
                        new Record(
                            null,
                            (prefix + "-" + j).getBytes(StandardCharsets.UTF_8),
                            -1L,
                            Map.of(),
                            new SourcePosition("counter", prefix, j)));
                  }
                  storeReliably(batch);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (RuntimeException e) {
                if (!isStopped()) {
                  restart("store failed", e);
                }
              }
            },
            "tributary-test-counter-0");
    thread = t;
    t.setDaemon(true);
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
