package io.tributary.core.runtime;

import io.tributary.core.api.Receiver;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.LocalCheckpointStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/** Shared test fixtures: a source with acknowledgements, a crashing checkpoint, output readers. */
final class TestSupport {
  private TestSupport() {}

  /** Thrown by test fixtures to simulate a process crash at a chosen point. */
  static final class SimulatedCrash extends RuntimeException {
    SimulatedCrash(String where) {
      super("simulated crash " + where);
    }
  }

  /**
   * A source of numbered lines that the receiver acknowledges, like a broker with acks. The
   * receiver stores reliably in chunks, then acks; after a restart it resumes from what the runtime
   * says it stored last.
   */
  static final class AckingSource {
    final int total;
    final AtomicInteger acked = new AtomicInteger();

    AckingSource(int total) {
      this.total = total;
    }

    static String line(int i) {
      return "line-" + i;
    }
  }

  /**
   * Receiver over an {@link AckingSource}, storing reliably in chunks of {@code chunk}, acking
   * after each store.
   */
  static final class AckingReceiver extends Receiver {
    private final AckingSource src;
    private final int chunk;
    private volatile Thread thread;

    AckingReceiver(AckingSource src, int chunk) {
      this.src = src;
      this.chunk = chunk;
    }

    @Override
    public void onStart() {
      long resume = lastStoredOffset("p").orElse(-1) + 1;
      Thread t =
          new Thread(
              () -> {
                int i = (int) Math.max(resume, 0);
                try {
                  while (!isStopped() && i < src.total) {
                    List<Record> batch = new ArrayList<>();
                    for (int k = 0; k < chunk && i < src.total; k++, i++) {
                      batch.add(
                          Record.ofString(AckingSource.line(i))
                              .withPosition(new SourcePosition("in", "p", i)));
                    }
                    storeReliably(batch);
                    src.acked.set(i);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                  // stopped or WAL failed: the data of this chunk was not acked and will be resent
                  if (!isStopped()) {
                    e.printStackTrace();
                  }
                }
              },
              "test-acking-receiver");
      t.setDaemon(true);
      thread = t;
      t.start();
    }

    @Override
    public void onStop() throws InterruptedException {
      Thread t = thread;
      if (t != null) {
        t.interrupt();
        t.join(5_000);
      }
    }
  }

  /**
   * Wraps a local checkpoint and throws {@link SimulatedCrash} right after writing a chosen file.
   */
  static final class CrashingStorage implements CheckpointStorage {
    private final LocalCheckpointStorage delegate;
    private final String crashPath;
    private final boolean before;

    /**
     * @param crashPath the file whose write triggers the crash
     * @param before {@code true}: crash instead of writing it; {@code false}: crash right after
     *     writing it
     */
    CrashingStorage(Path root, String crashPath, boolean before) {
      this.delegate = new LocalCheckpointStorage(root);
      this.crashPath = crashPath;
      this.before = before;
    }

    @Override
    public Optional<byte[]> read(String path) throws IOException {
      return delegate.read(path);
    }

    @Override
    public void writeAtomically(String path, byte[] data) throws IOException {
      if (before && path.equals(crashPath)) {
        throw new SimulatedCrash("before writing " + path);
      }
      delegate.writeAtomically(path, data);
      if (!before && path.equals(crashPath)) {
        throw new SimulatedCrash("after writing " + path);
      }
    }

    @Override
    public List<String> list(String dir) throws IOException {
      return delegate.list(dir);
    }

    @Override
    public void delete(String path) throws IOException {
      delegate.delete(path);
    }

    @Override
    public String describe() {
      return delegate.describe();
    }

    LocalCheckpointStorage local() {
      return delegate;
    }
  }

  /** Every line of every published (non-hidden) file under {@code dir}. */
  static List<String> outputLines(Path dir) throws IOException {
    List<String> lines = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return lines;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList()) {
        lines.addAll(Files.readAllLines(p));
      }
    }
    return lines;
  }
}
