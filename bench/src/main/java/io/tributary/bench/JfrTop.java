package io.tributary.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the time goes in a JFR recording: counts {@code jdk.ExecutionSample} events (threads
 * running Java code) by thread, by top frame (self time) and by every Tributary method ({@code
 * io.tributary.*}) on the stack (total time, a method counted once per sample; framework frames
 * such as the event loop's are on every stack and say nothing), and {@code jdk.NativeMethodSample}
 * events (threads inside a native method: socket reads, {@code force}/fsync, waits) by top frame.
 * Prints the {@code n} largest of each as a share of the samples.
 *
 * <p>Usage: {@code JfrTop <file.jfr> [n=15]}, or {@link #print} from another benchmark.
 */
public final class JfrTop {
  private JfrTop() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: JfrTop <file.jfr> [n=15]");
      System.exit(2);
    }
    print(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 15);
  }

  /** Prints the summary of {@code file} to standard output. */
  public static void print(Path file, int n) throws IOException {
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> total = new HashMap<>();
    Map<String, Integer> threads = new HashMap<>();
    Map<String, Integer> nativeTop = new HashMap<>();
    int samples = 0;
    int nativeSamples = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      String type = e.getEventType().getName();
      boolean execution = "jdk.ExecutionSample".equals(type);
      if (!execution && !"jdk.NativeMethodSample".equals(type)) {
        continue;
      }
      RecordedStackTrace st = e.getStackTrace();
      List<RecordedFrame> frames = st == null ? List.of() : st.getFrames();
      String top = frames.isEmpty() ? "(no stack)" : name(frames.get(0));
      if (!execution) {
        nativeSamples++;
        // the top frame of a native sample is the native method; its caller says which one it is
        // for
        String caller = frames.size() > 1 ? " <- " + name(frames.get(1)) : "";
        nativeTop.merge(top + caller + " [" + thread(e) + "]", 1, Integer::sum);
        continue;
      }
      samples++;
      self.merge(top, 1, Integer::sum);
      threads.merge(thread(e), 1, Integer::sum);
      Set<String> seen = new HashSet<>();
      for (RecordedFrame f : frames) {
        String m = name(f);
        if (f.getMethod() != null
            && f.getMethod().getType().getName().startsWith("io.tributary.")
            && seen.add(m)) {
          total.merge(m, 1, Integer::sum);
        }
      }
    }
    System.out.printf(
        Locale.ROOT, "  %d execution samples, %d native-method samples%n", samples, nativeSamples);
    top("  threads (execution samples)", threads, samples, n);
    top("  top frames, self (execution samples)", self, samples, n);
    top("  Tributary methods on the stack, total (execution samples)", total, samples, n);
    top("  native methods <- caller [thread] (native samples)", nativeTop, nativeSamples, n);
  }

  private static String thread(RecordedEvent e) {
    RecordedThread t = e.getThread("sampledThread");
    return t == null || t.getJavaName() == null ? "?" : t.getJavaName();
  }

  private static String name(RecordedFrame f) {
    RecordedMethod m = f.getMethod();
    if (m == null) {
      return "?";
    }
    String type = m.getType().getName();
    return type.substring(type.lastIndexOf('.') + 1) + "." + m.getName();
  }

  private static void top(String title, Map<String, Integer> counts, int of, int n) {
    System.out.println(title + ":");
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(n)
        .forEach(
            en ->
                System.out.printf(
                    Locale.ROOT,
                    "    %5.1f%%  %s%n",
                    100.0 * en.getValue() / Math.max(1, of),
                    en.getKey()));
  }
}
