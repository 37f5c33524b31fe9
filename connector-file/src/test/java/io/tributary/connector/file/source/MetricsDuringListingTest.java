package io.tributary.connector.file.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metrics never wait on a listing: every meter of the source is read (as a Prometheus scrape reads
 * them, and the gateway's /health shares the admin threads with /metrics) while the first listing
 * of a directory of 200,000 files runs. Measured against the listing's own duration, not a fixed
 * time: the slowest read must be a small fraction of it.
 */
class MetricsDuringListingTest {
  @TempDir Path tmp;

  @Test
  void everyMeterIsReadWhileAListingOf200000FilesRunsWithoutWaitingForIt() throws Exception {
    Path in = Files.createDirectories(tmp.resolve("in"));
    for (int i = 0; i < 200_000; i++) {
      Files.createFile(in.resolve("f-" + i + ".txt"));
    }
    Map<String, Object> o = new HashMap<>();
    o.put("paths", in.toUri().toString());
    o.put("stable-for", "2s"); // the unstable gauge's guard is in use too
    try (SourceHarness h = new SourceHarness(o, tmp.resolve("ckpt"))) {
      long started = System.nanoTime();
      CompletableFuture<Long> listing =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  h.source.partitions(); // the first cycle: a status per file, under the lock
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                return System.nanoTime() - started;
              });
      long reads = 0;
      long slowest = 0;
      while (!listing.isDone()) {
        long t = System.nanoTime(); // a read that started during the listing counts, however long
        double sum = 0;
        for (Meter m : h.registry.getMeters()) {
          for (Measurement x : m.measure()) {
            sum += x.getValue();
          }
        }
        long took = System.nanoTime() - t;
        if (!Double.isNaN(sum)) {
          reads++;
          slowest = Math.max(slowest, took);
        }
        try {
          listing.get(2, TimeUnit.MILLISECONDS); // paces the reads; the listing has the CPU
        } catch (TimeoutException stillListing) {
          // read again
        }
      }
      long listingNanos = listing.join();
      System.out.printf(
          "listing of 200,000 files: %d ms; %d reads of every meter during it, slowest %.1f ms"
              + " (%.4f of the listing)%n",
          listingNanos / 1_000_000, reads, slowest / 1e6, (double) slowest / listingNanos);
      assertThat(h.source.lastListing().filesListed()).isEqualTo(200_000);
      assertThat(reads).as("reads completed during the listing").isGreaterThanOrEqualTo(10);
      assertThat(slowest).as("the slowest read against the listing").isLessThan(listingNanos / 10);
      assertThat(h.gauge("tributary.files.remembered")).isEqualTo(200_000);
    }
  }
}
