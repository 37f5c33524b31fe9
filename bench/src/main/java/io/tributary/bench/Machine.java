package io.tributary.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the benchmarks print about the machine while they measure. */
final class Machine {
  private Machine() {}

  /**
   * {@code /proc/loadavg} (1, 5, 15 minute load averages, runnable/all threads, last pid), or
   * "n/a".
   */
  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "n/a";
    }
  }
}
