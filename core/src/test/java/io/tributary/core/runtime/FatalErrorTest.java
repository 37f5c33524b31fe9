package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.AtLeastOnceSink;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkContext;
import io.tributary.core.sources.QueueSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM Error on a pipeline's thread is recorded as the pipeline's failure and then reaches the
 * thread's uncaught-exception handler, where the gateway ends the process (an embedding program
 * decides for itself). Before, the Error was kept as a failure like any other, and a gateway whose
 * JVM had run out of memory kept running.
 */
class FatalErrorTest {
  @TempDir Path tmp;

  @Test
  void aJvmErrorInASinkFailsThePipelineAndReachesTheUncaughtExceptionHandler() {
    QueueSource q = new QueueSource(false);
    q.pushStrings("a");
    AtomicReference<Throwable> uncaught = new AtomicReference<>();
    AtomicReference<String> thread = new AtomicReference<>();
    Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler(
        (t, e) -> {
          thread.set(t.getName());
          uncaught.set(e);
        });
    try {
      Pipeline p =
          Pipeline.builder("oom")
              .checkpointDir(tmp)
              .batchInterval(Duration.ofMillis(20))
              .source("q", q)
              .sink(
                  "hungry",
                  new AtLeastOnceSink() {
                    @Override
                    public void open(SinkContext context) {}

                    @Override
                    public void write(long batchId, List<Record> records) {
                      if (!records.isEmpty()) {
                        // a VirtualMachineError as OutOfMemoryError is (Surefire's forked JVM
                        // takes an OutOfMemoryError in its output for its own and aborts)
                        throw new InternalError("simulated fatal JVM error (test)");
                      }
                    }

                    @Override
                    public void close() {}
                  })
              .build();
      p.start();
      await()
          .dontCatchUncaughtExceptions() // Awaitility would take the Error for the test's own
          .atMost(Duration.ofSeconds(10))
          .until(() -> uncaught.get() != null);
      assertThat(uncaught.get())
          .isInstanceOf(InternalError.class)
          .hasMessageContaining("simulated fatal JVM error");
      assertThat(thread.get()).startsWith("tributary-oom-batch");
      assertThat(p.status().state()).isEqualTo(PipelineState.FAILED);
    } finally {
      Thread.setDefaultUncaughtExceptionHandler(before);
    }
  }
}
