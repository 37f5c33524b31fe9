package io.tributary.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CPU time of each thread of a process from {@code /proc/<pid>/task/<tid>/stat} (user + system
 * clock ticks), so that a benchmark can say which threads used the CPU during its measured
 * interval: the event loop, the batch thread, the WAL writer, and also what a Java profiler does
 * not sample (GC workers, JIT compiler threads).
 *
 * <p>Thread safety: not thread-safe; one snapshot per instance.
 */
final class ThreadCpu {
  /**
   * Linux's USER_HZ, the unit of the stat file's utime and stime (100 on every common kernel
   * configuration).
   */
  private static final double TICKS_PER_SECOND = 100.0;

  private static final Pattern THREAD_LINE =
      Pattern.compile("(?m)^\"([^\"]+)\".*? nid=0x([0-9a-f]+)");

  private final Map<String, Long> ticksByThread;

  private ThreadCpu(Map<String, Long> ticksByThread) {
    this.ticksByThread = ticksByThread;
  }

  /**
   * Java thread names by thread id (decimal), from {@code jcmd <pid> Thread.print}'s {@code
   * nid=0x...}.
   */
  static Map<String, String> javaNames(long pid) {
    Map<String, String> names = new HashMap<>();
    try {
      Process j =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                  Long.toString(pid),
                  "Thread.print")
              .redirectErrorStream(true)
              .start();
      String dump = new String(j.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      j.waitFor();
      Matcher m = THREAD_LINE.matcher(dump);
      while (m.find()) {
        names.put(Long.toString(Long.parseLong(m.group(2), 16)), m.group(1));
      }
    } catch (IOException e) {
      // names stay the kernel's
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return names;
  }

  /** No thread, no CPU: the baseline for CPU since a process started. */
  static ThreadCpu none() {
    return new ThreadCpu(Map.of());
  }

  /** Snapshot of every thread of {@code pid}; threads are keyed by "name (tid)". */
  static ThreadCpu of(long pid) {
    Map<String, Long> ticks = new HashMap<>();
    try (DirectoryStream<Path> tasks =
        Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          int open = stat.indexOf('(');
          int close = stat.lastIndexOf(')');
          String[] f = stat.substring(close + 2).split(" ");
          // after "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
          // cmajflt utime stime
          long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
          ticks.put(stat.substring(open + 1, close) + " (" + task.getFileName() + ")", t);
        } catch (IOException | RuntimeException e) {
          // the thread ended between listing and reading
        }
      }
    } catch (IOException e) {
      // the process is gone: an empty snapshot
    }
    return new ThreadCpu(ticks);
  }

  /** CPU seconds all threads used since {@code before}. */
  double secondsSince(ThreadCpu before) {
    long total = 0;
    for (Map.Entry<String, Long> e : ticksByThread.entrySet()) {
      total += e.getValue() - before.ticksByThread.getOrDefault(e.getKey(), 0L);
    }
    return total / TICKS_PER_SECOND;
  }

  /**
   * Prints the CPU seconds each thread used since {@code before}, largest first, and the total;
   * {@code javaNames} maps a thread id to its Java name (the kernel keeps only 15 characters).
   */
  void printSince(ThreadCpu before, double wallSeconds, int n, Map<String, String> javaNames) {
    Map<String, Long> delta = new HashMap<>();
    ticksByThread.forEach(
        (k, v) -> {
          String tid = k.substring(k.lastIndexOf('(') + 1, k.length() - 1);
          String name = javaNames.containsKey(tid) ? javaNames.get(tid) + " (" + tid + ")" : k;
          delta.put(name, v - before.ticksByThread.getOrDefault(k, 0L));
        });
    long total = delta.values().stream().mapToLong(Long::longValue).sum();
    System.out.printf(
        Locale.ROOT,
        "  CPU during the measured %.2f s: %.2f s (%.0f%% of one core); by thread:%n",
        wallSeconds,
        total / TICKS_PER_SECOND,
        100 * total / TICKS_PER_SECOND / wallSeconds);
    delta.entrySet().stream()
        .filter(e -> e.getValue() > 0)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(n)
        .forEach(
            e ->
                System.out.printf(
                    Locale.ROOT, "    %6.2f s  %s%n", e.getValue() / TICKS_PER_SECOND, e.getKey()));
  }
}
