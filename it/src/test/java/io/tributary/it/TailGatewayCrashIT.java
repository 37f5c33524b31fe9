package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged gateway as a separate process follows 20 growing log files with the {@code
 * files-tail} source and writes every line to the exactly-once rolling {@code files} sink. A writer
 * appends numbered lines to the 20 files at a steady pace (some lines in two writes, so the source
 * sees half lines) and rotates them as logrotate does, by rename ({@code app-07.log} becomes {@code
 * app-07.log.3}, the next write creates a new {@code app-07.log}) and by copytruncate (copied to
 * {@code app-07.log.4}, then truncated in place), while the gateway is killed with SIGKILL at
 * random moments (at least 5 times) and restarted; the writer goes on while it is down. Afterwards
 * every line must be in the output exactly once.
 *
 * <p>The writer never writes between a copytruncate's copy and its truncation: lines written there
 * are lost by copytruncate's design (logrotate's documentation says so), whatever reads the file.
 *
 * <p>Random moments: each kill waits until the writer passed a random target and the gateway
 * committed output since its last start, polled at a random interval (seeded; the seed is printed,
 * rerun with {@code -Dtail.crash.seed=N}).
 */
class TailGatewayCrashIT {
  private static final int FILES = 20;
  private static final int LINES = 16_000;
  private static final int KILLS = 6;
  private static final int LINES_PER_TICK = 20;
  private static final long TICK_MILLIS = 50;

  /** A file is rotated every this many of its own lines. */
  private static final int ROTATE_EVERY = 100;

  @TempDir Path tmp;

  @Test
  void everyLineOfTwentyRotatedGrowingFilesIsWrittenExactlyOnceAcrossSigkills() throws Exception {
    long seed = Long.getLong("tail.crash.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.printf("TailGatewayCrashIT: seed=%d%n", seed);
    Path in = Files.createDirectories(tmp.resolve("logs"));
    Path out = tmp.resolve("out");
    Path config = tmp.resolve("gateway.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: tcrash",
            "    settings:",
            "      batch-interval: 200ms",
            "    checkpoint: " + tmp.resolve("checkpoint"),
            "    source:",
            "      type: files-tail",
            "      paths: [" + in + "]",
            "      file-pattern: \"app-*.log*\"",
            "    sinks:",
            "      - { type: files, path: " + out + ", max-file-size: 256kb }",
            ""));

    AtomicInteger written = new AtomicInteger();
    int[] perFile = new int[FILES];
    int[] rotations = new int[FILES];
    AtomicInteger renames = new AtomicInteger();
    AtomicInteger copytruncates = new AtomicInteger();
    Random writerRandom = new Random(seed + 1);
    ScheduledExecutorService writer =
        Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "tributary-tcrash-writer-1"));
    int kills = 0;
    try (GatewayProcess gateway = new GatewayProcess(config, tmp.resolve("gateway.log"))) {
      gateway.start();
      java.util.concurrent.ScheduledFuture<?> writing =
          writer.scheduleAtFixedRate(
              () -> {
                try {
                  for (int i = 0; i < LINES_PER_TICK && written.get() < LINES; i++) {
                    int n = written.get();
                    int f = writerRandom.nextInt(FILES);
                    Path log = in.resolve(name(f));
                    String text = line(n) + "\n";
                    if (writerRandom.nextInt(8) == 0) {
                      int cut = 1 + writerRandom.nextInt(text.length() - 1);
                      append(log, text.substring(0, cut));
                      append(log, text.substring(cut));
                    } else {
                      append(log, text);
                    }
                    written.incrementAndGet();
                    if (++perFile[f] % ROTATE_EVERY == 0) {
                      Path rotated = in.resolve(name(f) + "." + (++rotations[f]));
                      if (writerRandom.nextBoolean()) {
                        Files.move(log, rotated, StandardCopyOption.ATOMIC_MOVE);
                        renames.incrementAndGet();
                      } else {
                        Files.copy(log, rotated);
                        Files.write(log, new byte[0], StandardOpenOption.TRUNCATE_EXISTING);
                        copytruncates.incrementAndGet();
                      }
                    }
                  }
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              },
              0,
              TICK_MILLIS,
              TimeUnit.MILLISECONDS);
      for (int k = 0; k < KILLS; k++) {
        int target =
            LINES * (k + 1) / (KILLS + 1)
                + random.nextInt(LINES / (KILLS * 3))
                - LINES / (KILLS * 6);
        int linesAtStart = GatewayProcess.outputLines(out).size();
        try {
          await()
              .atMost(Duration.ofSeconds(90))
              .pollInterval(Duration.ofMillis(20 + random.nextInt(400)))
              .until(
                  () -> {
                    if (writing.isDone()) {
                      writing.get(); // the writer's failure, if it failed
                    }
                    int output = GatewayProcess.outputLines(out).size();
                    // Output since the last start, or (on a slow machine, writer done) all of it.
                    return written.get() >= target && (output > linesAtStart || output >= LINES);
                  });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          throw new AssertionError(
              "kill "
                  + k
                  + ": written="
                  + written.get()
                  + " target="
                  + target
                  + " output="
                  + GatewayProcess.outputLines(out).size()
                  + " at start="
                  + linesAtStart
                  + "; gateway log:\n"
                  + gateway.logTail(),
              e);
        }
        gateway.kill();
        kills++;
        gateway.start();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> written.get() == LINES);
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> GatewayProcess.outputLines(out).size() >= LINES);
      assertThat(gateway.terminate(Duration.ofSeconds(60)))
          .as("exit code after SIGTERM; log:\n%s", gateway.logTail())
          .isZero();
    } finally {
      writer.shutdownNow();
      writer.awaitTermination(10, TimeUnit.SECONDS);
    }

    List<String> lines = GatewayProcess.outputLines(out);
    Map<String, Integer> counts = new HashMap<>();
    for (String l : lines) {
      counts.merge(l, 1, Integer::sum);
    }
    long duplicated = counts.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
    long lost = 0;
    for (int n = 0; n < LINES; n++) {
      if (!counts.containsKey(line(n))) {
        lost++;
      }
    }
    System.out.printf(
        "TailGatewayCrashIT: files=%d lines=%d renames=%d copytruncates=%d kills=%d output=%d"
            + " lost=%d duplicated=%d seed=%d%n",
        FILES,
        LINES,
        renames.get(),
        copytruncates.get(),
        kills,
        lines.size(),
        lost,
        duplicated,
        seed);
    assertThat(kills).isGreaterThanOrEqualTo(5);
    assertThat(renames.get()).isPositive();
    assertThat(copytruncates.get()).isPositive();
    assertThat(lost).as("lost lines (seed %d)", seed).isZero();
    assertThat(duplicated).as("duplicated lines (seed %d)", seed).isZero();
    assertThat(counts.keySet()).as("only lines written").hasSize(LINES);
    assertThat(lines).hasSize(LINES);
  }

  private static void append(Path f, String text) throws IOException {
    Files.writeString(
        f, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private static String name(int f) {
    return String.format("app-%02d.log", f);
  }

  private static String line(int n) {
    return String.format("line-%06d", n);
  }
}
