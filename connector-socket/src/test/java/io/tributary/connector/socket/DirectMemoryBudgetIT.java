package io.tributary.connector.socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The direct-memory attack of issue 10, against a server in a child JVM with {@code -Xmx256m} (so
 * 256 MB of direct memory) and the default {@code max-buffered-bytes}: 1,000 connections each send
 * 300 KB of one unterminated line (300 MB of partial lines in all) while a normal sender sends
 * 20,000 lines. Before the budget the server ran out of direct memory and the normal sender lost
 * lines without an error. Then a TLS ClientHello on the same plain port. The child's log is read
 * back: refusals are counted one by one but logged rate-limited, and no line holds a hex dump or a
 * payload.
 */
class DirectMemoryBudgetIT {
  private static final int HOGS = 1000;
  private static final int HOG_BYTES = 300 * 1024;
  private static final int LINES = 20_000;

  @TempDir Path dir;

  @Test
  void partialLineHogsAreRefusedWhileANormalSenderLosesNothing() throws Exception {
    Path log = dir.resolve("child.log");
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                SocketServerChild.class.getName(),
                "mode=server",
                "port=0",
                "read-idle-timeout=120s")
            .redirectError(log.toFile())
            .start();
    try (BufferedReader out =
            new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter in =
            new PrintWriter(
                new java.io.OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8),
                true)) {
      String first = out.readLine();
      assertThat(first).as("child started (log: %s)", readLog(log)).startsWith("PORT ");
      int port = Integer.parseInt(first.substring(5));

      CompletableFuture<Void> normal =
          CompletableFuture.runAsync(
              () -> {
                try (Socket s = new Socket("127.0.0.1", port)) {
                  OutputStream os = s.getOutputStream();
                  for (int i = 0; i < LINES; i++) {
                    os.write(
                        ("normal line " + i + " of the well-behaved sender\n")
                            .getBytes(StandardCharsets.UTF_8));
                  }
                  os.flush();
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      int refused = hog(port);
      normal.get(120, TimeUnit.SECONDS);

      Map<String, Long> status = new HashMap<>();
      await("all " + LINES + " lines of the normal sender stored")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                status.putAll(status(in, out));
                return status.get("records") >= LINES;
              });
      assertThat(status.get("records")).as("nothing lost, nothing extra").isEqualTo(LINES);
      assertThat(status.get("memory_budget")).as("hogs refused with their reason").isPositive();
      assertThat(refused).as("hog connections the client saw closed").isPositive();
      assertThat(status.get("buffered"))
          .as("partial-line bytes held stay near max-buffered-bytes (64mb) + 64kb per connection")
          .isLessThanOrEqualTo(64L * 1024 * 1024 + (HOGS + 1) * 64L * 1024);

      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(null, null, null);
      try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port)) {
        s.setSoTimeout(10_000);
        s.startHandshake();
      } catch (IOException expected) {
        // the server closes the connection
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> status(in, out).get("tls_on_plain_port") == 1);
      assertThat(status(in, out).get("records")).isEqualTo(LINES);
      in.println("exit");
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
    }
    String text = readLog(log);
    List<String> warns = text.lines().filter(l -> l.contains("WARN")).toList();
    assertThat(text).doesNotContain("OutOfMemoryError").doesNotContain("OutOfDirectMemoryError");
    long budgetLines = warns.stream().filter(l -> l.contains("reason=memory_budget")).count();
    assertThat(budgetLines)
        .as("memory_budget WARN lines, rate-limited (10 per 10 s)")
        .isBetween(1L, 40L);
    assertThat(warns)
        .as("a WARN naming the ClientHello on the plain port")
        .anyMatch(l -> l.contains("reason=tls_on_plain_port") && l.contains("pipeline="));
    Pattern hex = Pattern.compile("(?i)(0x)?[0-9a-f]{16,}|(?:[0-9a-f]{2} ){8,}");
    for (String w : warns) {
      assertThat(hex.matcher(w).find()).as("hex dump in %s", w).isFalse();
      assertThat(w).doesNotContain("xxxxxxxxxxxxxxxxx"); // no more than a 16-byte prefix
    }
  }

  /**
   * Opens {@link #HOGS} connections and writes {@link #HOG_BYTES} of 'x' (no newline) to each,
   * non-blocking, until all are written or closed by the server; returns how many were closed.
   */
  private static int hog(int port) throws IOException {
    int closed = 0;
    List<SocketChannel> open = new ArrayList<>();
    try (Selector selector = Selector.open()) {
      for (int i = 0; i < HOGS; i++) {
        SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        ch.configureBlocking(false);
        ch.register(selector, SelectionKey.OP_WRITE, new int[] {0});
        open.add(ch);
      }
      ByteBuffer chunk = ByteBuffer.allocate(16 * 1024);
      while (chunk.hasRemaining()) {
        chunk.put((byte) 'x');
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!selector.keys().isEmpty() && System.nanoTime() < deadline) {
        selector.select(1000);
        for (SelectionKey key : selector.selectedKeys()) {
          SocketChannel ch = (SocketChannel) key.channel();
          int[] written = (int[]) key.attachment();
          try {
            ByteBuffer b = chunk.duplicate().clear();
            b.limit(Math.min(b.capacity(), HOG_BYTES - written[0]));
            written[0] += ch.write(b);
            if (written[0] >= HOG_BYTES) {
              key.cancel(); // stays open, holding its partial line
            }
          } catch (IOException e) {
            closed++;
            key.cancel();
          }
        }
        selector.selectedKeys().clear();
      }
      assertThat(selector.keys()).as("hogs still writing after 120 s").isEmpty();
      // A refused hog whose last write went out before the close shows up on a read.
      for (SocketChannel ch : open) {
        try {
          ch.configureBlocking(true);
          ch.socket().setSoTimeout(1);
          if (ch.socket().getInputStream().read() == -1) {
            closed++;
          }
        } catch (IOException e) {
          // timeout: still open
        }
      }
    } finally {
      for (SocketChannel ch : open) {
        ch.close();
      }
    }
    return closed;
  }

  private static Map<String, Long> status(PrintWriter in, BufferedReader out) throws IOException {
    in.println("status");
    String line = out.readLine();
    Map<String, Long> m = new HashMap<>();
    Matcher kv = Pattern.compile("(\\w+)=(\\d+)").matcher(line);
    while (kv.find()) {
      m.put(kv.group(1), Long.parseLong(kv.group(2)));
    }
    return m;
  }

  private static String readLog(Path log) throws IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }

  static String classpathSeparator() {
    return File.pathSeparator;
  }
}
