package io.tributary.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the process-launching benchmarks (Flume, Kinesis) share: free ports, waiting for a child's
 * port, the size of an output directory, and stopping the children.
 *
 * <p>Thread safety: stateless; the waits block the calling thread.
 */
final class ChildProcesses {
  private ChildProcesses() {}

  /** A port free on the loopback address now (another process may take it before it is used). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Blocks until something accepts connections on {@code port} (at most 90 s). */
  static void awaitPort(int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return;
      } catch (IOException notYet) {
        // polling a child process's port: there is no event to wait on
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("nothing listening on " + port + " after 90 s");
  }

  /**
   * Bytes in {@code path}: a file's size, or the sum over a flat directory's files (files sink,
   * file_roll), skipping hidden in-progress files that are renamed away under us; 0 when absent.
   */
  static long size(Path path) throws IOException {
    if (Files.isRegularFile(path)) {
      return Files.size(path);
    }
    if (!Files.isDirectory(path)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(path)) {
      return s.filter(p -> !p.getFileName().toString().startsWith("."))
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    }
  }

  /** SIGTERM to every process, SIGKILL to those still alive after 30 s; empties the list. */
  static void stopAll(List<Process> processes) throws InterruptedException {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    processes.clear();
  }

  /** The running JVM's {@code java} executable. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
