package io.tributary.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * The packaged gateway as a separate process monitors a local directory with the {@code files}
 * source and writes every line to the exactly-once rolling {@code files} sink. 5,000 files of 20
 * numbered lines are written in a staging directory of the same file system and atomically renamed
 * into the monitored directory at a steady pace, while the gateway is killed with SIGKILL at random
 * moments (at least 5 times) and restarted; files keep arriving while it is down. Afterwards every
 * line must be in the output exactly once: nothing missed across restarts (a file renamed in while
 * the gateway was down, or listed but not yet committed), nothing read twice (a file whose batch
 * was written but not committed, or committed but whose index delta was the last thing written).
 * One file in ten also arrives a tick later as a gzip copy under another name; the source runs with
 * {@code identity: content}, so each copy is taken for the content it repeats, never read as a new
 * file (without it, their 10,000 lines would be duplicates).
 *
 * <p>Random moments: each kill waits until the mover passed a random target and the gateway
 * committed output since its last start, polled at a random interval (seeded; the seed is printed,
 * rerun with {@code -Dfiles.crash.seed=N}).
 */
class FileGatewayCrashIT {
  private static final int FILES = 5_000;
  private static final int LINES_PER_FILE = 20;
  private static final int KILLS = 6;
  private static final int FILES_PER_TICK = 20;
  private static final long TICK_MILLIS = 100;

  @TempDir Path tmp;

  @Test
  void everyLineOfEveryMovedFileIsWrittenExactlyOnceAcrossSigkills() throws Exception {
    long seed = Long.getLong("files.crash.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.printf("FileGatewayCrashIT: seed=%d%n", seed);
    Path staging = Files.createDirectories(tmp.resolve("staging"));
    Path in = Files.createDirectories(tmp.resolve("in"));
    Path out = tmp.resolve("out");
    for (int f = 0; f < FILES; f++) {
      StringBuilder sb = new StringBuilder(LINES_PER_FILE * 12);
      for (int l = 0; l < LINES_PER_FILE; l++) {
        sb.append(line(f, l)).append('\n');
      }
      Files.writeString(staging.resolve(name(f)), sb);
    }
    Path config = tmp.resolve("gateway.yaml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "pipelines:",
            "  - id: fcrash",
            "    settings:",
            "      batch-interval: 200ms",
            "    checkpoint: " + tmp.resolve("checkpoint"),
            "    source:",
            "      type: files",
            "      paths: [" + in + "]",
            // A kill before the first index write makes the next start a first start again: read
            // what is there.
            "      include-existing: true",
            "      max-files-per-batch: 300",
            "      state-compaction-interval: 8",
            // gzip copies of files moved in earlier (below) are the same content: not read again
            "      identity: content",
            "    sinks:",
            "      - { type: files, path: " + out + ", max-file-size: 256kb }",
            ""));

    AtomicInteger moved = new AtomicInteger();
    ScheduledExecutorService mover =
        Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "tributary-fcrash-mover-1"));
    int kills = 0;
    try (GatewayProcess gateway = new GatewayProcess(config, tmp.resolve("gateway.log"))) {
      gateway.start();
      mover.scheduleAtFixedRate(
          () -> {
            for (int i = 0; i < FILES_PER_TICK && moved.get() < FILES; i++) {
              int f = moved.get();
              try {
                Files.move(
                    staging.resolve(name(f)), in.resolve(name(f)), StandardCopyOption.ATOMIC_MOVE);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
              moved.incrementAndGet();
              int earlier = f - FILES_PER_TICK;
              if (earlier >= 0 && earlier % 10 == 0) {
                gzipCopy(in.resolve(name(earlier)), staging, in);
              }
            }
          },
          0,
          TICK_MILLIS,
          TimeUnit.MILLISECONDS);
      for (int k = 0; k < KILLS; k++) {
        int target =
            FILES * (k + 1) / (KILLS + 1)
                + random.nextInt(FILES / (KILLS * 3))
                - FILES / (KILLS * 6);
        int linesAtStart = GatewayProcess.outputLines(out).size();
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(20 + random.nextInt(400)))
            .until(
                () ->
                    moved.get() >= target && GatewayProcess.outputLines(out).size() > linesAtStart);
        gateway.kill();
        kills++;
        gateway.start();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> moved.get() == FILES);
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> GatewayProcess.outputLines(out).size() >= FILES * LINES_PER_FILE);
      assertThat(gateway.terminate(Duration.ofSeconds(60)))
          .as("exit code after SIGTERM; log:\n%s", gateway.logTail())
          .isZero();
    } finally {
      mover.shutdownNow();
      mover.awaitTermination(10, TimeUnit.SECONDS);
    }

    List<String> lines = GatewayProcess.outputLines(out);
    Map<String, Integer> counts = new HashMap<>();
    for (String l : lines) {
      counts.merge(l, 1, Integer::sum);
    }
    long duplicated = counts.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
    long lost = 0;
    for (int f = 0; f < FILES; f++) {
      for (int l = 0; l < LINES_PER_FILE; l++) {
        if (!counts.containsKey(line(f, l))) {
          lost++;
        }
      }
    }
    System.out.printf(
        "FileGatewayCrashIT: files=%d lines=%d kills=%d output=%d lost=%d duplicated=%d seed=%d%n",
        FILES, FILES * LINES_PER_FILE, kills, lines.size(), lost, duplicated, seed);
    assertThat(kills).isGreaterThanOrEqualTo(5);
    assertThat(lost).as("lost lines (seed %d)", seed).isZero();
    assertThat(duplicated).as("duplicated lines (seed %d)", seed).isZero();
    assertThat(counts.keySet()).as("only lines of the input").hasSize(FILES * LINES_PER_FILE);
    assertThat(lines).hasSize(FILES * LINES_PER_FILE);
  }

  /**
   * A gzip copy of a file moved in earlier (logrotate's compress keeps the content under another
   * name), written in {@code staging} and moved in: {@code identity: content} must not read it.
   */
  private static void gzipCopy(Path file, Path staging, Path in) {
    String name = file.getFileName() + ".gz";
    try {
      Path t = staging.resolve(name);
      try (java.io.OutputStream gz = new java.util.zip.GZIPOutputStream(Files.newOutputStream(t))) {
        Files.copy(file, gz);
      }
      Files.move(t, in.resolve("copy-" + name), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String name(int f) {
    return String.format("part-%05d.txt", f);
  }

  private static String line(int f, int l) {
    return String.format("f%05d-l%02d", f, l);
  }
}
