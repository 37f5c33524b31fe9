package io.tributary.connector.file.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.core.api.BatchWriter;
import io.tributary.core.api.Record;
import io.tributary.core.api.SinkBatch;
import io.tributary.core.api.SinkContext;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the {@code hadoop-files} sink must do on every file system; run on local, HDFS and S3 by the
 * subclasses.
 */
abstract class FileSinkContract {
  /** A fresh output directory URI. */
  abstract URI newDir();

  abstract Map<String, String> hadoop();

  /** The publish mode AUTO must pick on this file system. */
  abstract PublishMode expectedMode();

  private URI dir;
  private FileSystem fs;
  private final List<HadoopFileSink> opened = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    dir = newDir();
    fs = HadoopFileSystems.open(dir, HadoopFileSystems.configuration(hadoop()));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (HadoopFileSink s : opened) {
      s.close();
      s.close(); // safe twice
    }
    fs.close();
  }

  static SinkContext context(MeterRegistry registry) {
    return new SinkContext() {
      @Override
      public String pipelineId() {
        return "p";
      }

      @Override
      public String sinkName() {
        return "out";
      }

      @Override
      public MeterRegistry meterRegistry() {
        return registry;
      }
    };
  }

  HadoopFileSink openSink(long maxFileBytes) throws IOException {
    HadoopFileSink s =
        HadoopFileSink.builder(dir).maxFileBytes(maxFileBytes).hadoop(hadoop()).build();
    s.open(context(new SimpleMeterRegistry()));
    opened.add(s);
    return s;
  }

  static List<Record> lines(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> Record.ofString("line-" + i)).toList();
  }

  /** Visible (not hidden) files of the output directory and their content. */
  Map<String, String> visibleFiles() throws IOException {
    Map<String, String> out = new TreeMap<>();
    if (!fs.exists(new Path(dir))) {
      return out;
    }
    for (FileStatus st : fs.listStatus(new Path(dir))) {
      String n = st.getPath().getName();
      if (!n.startsWith(".")) {
        try (FSDataInputStream in = fs.open(st.getPath())) {
          out.put(n, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
      }
    }
    return out;
  }

  List<String> allLines() throws IOException {
    List<String> out = new ArrayList<>();
    for (String content : visibleFiles().values()) {
      out.addAll(Arrays.asList(content.split("\n")));
    }
    return out;
  }

  @Test
  void publishesEachBatchUnderBatchIdNamesRollingBySize() throws Exception {
    HadoopFileSink sink = openSink(60);
    assertThat(sink.publishMode()).isEqualTo(expectedMode());
    sink.write(1, lines(0, 12)); // "line-N\n" is 7-8 bytes: 12 lines roll into 2 parts at 60 bytes
    sink.write(2, lines(12, 14));
    Map<String, String> files = visibleFiles();
    assertThat(files.keySet())
        .containsExactly(
            "part-00000000000000000001-00000.txt",
            "part-00000000000000000001-00001.txt",
            "part-00000000000000000002-00000.txt");
    assertThat(files.get("part-00000000000000000002-00000.txt")).isEqualTo("line-12\nline-13\n");
    assertThat(allLines())
        .containsExactlyInAnyOrderElementsOf(
            lines(0, 14).stream().map(Record::valueAsString).toList());
  }

  @Test
  void aReplayedBatchReplacesItsFilesAndDuplicatesNothing() throws Exception {
    HadoopFileSink first = openSink(60);
    first.write(7, lines(0, 12));
    Map<String, String> before = visibleFiles();
    first.close();

    HadoopFileSink afterRestart = openSink(60);
    afterRestart.write(7, lines(0, 12));
    assertThat(visibleFiles()).isEqualTo(before);
    assertThat(allLines()).hasSize(12).doesNotHaveDuplicates();
  }

  @Test
  void aReplayWithALargerRollSizeRemovesThePartsItNoLongerWrites() throws Exception {
    openSink(30).write(3, lines(0, 12));
    assertThat(visibleFiles()).hasSizeGreaterThan(2);
    openSink(1_000).write(3, lines(0, 12));
    assertThat(visibleFiles()).containsOnlyKeys("part-00000000000000000003-00000.txt");
    assertThat(allLines()).hasSize(12).doesNotHaveDuplicates();
  }

  @Test
  void aCrashMidWriteLeavesNoPartialFileVisibleAndTheReplayCompletesTheBatch() throws Exception {
    HadoopFileSink sink = openSink(60);
    List<Record> complete = lines(0, 12);
    // The records "fail" while the second part is being written: as if the process died there.
    List<Record> crashing =
        new AbstractList<>() {
          @Override
          public Record get(int i) {
            if (i == 10) {
              throw new SimulatedCrash();
            }
            return complete.get(i);
          }

          @Override
          public int size() {
            return complete.size();
          }
        };
    assertThatThrownBy(() -> sink.write(5, crashing)).isInstanceOf(SimulatedCrash.class);

    Map<String, String> visible = visibleFiles();
    // RENAME publishes nothing until every part is written; DIRECT publishes part 0 whole and
    // aborts part 1.
    if (expectedMode() == PublishMode.RENAME) {
      assertThat(visible).isEmpty();
    } else {
      assertThat(visible).containsOnlyKeys("part-00000000000000000005-00000.txt");
    }
    sink.close();

    HadoopFileSink replay = openSink(60);
    replay.write(5, complete);
    assertThat(allLines())
        .containsExactlyInAnyOrderElementsOf(complete.stream().map(Record::valueAsString).toList());
    assertThat(fs.listStatus(new Path(dir)))
        .extracting(s -> s.getPath().getName())
        .noneMatch(n -> n.endsWith(".tmp"));
  }

  @Test
  void aBatchWrittenInManyChunksGivesTheSameFilesAsOneWrite() throws Exception {
    List<Record> batch = lines(0, 300); // 7-9 bytes a line: ~10 parts of 250 bytes
    openSink(250).write(1, batch);
    Map<String, String> whole = visibleFiles();
    assertThat(whole).hasSizeGreaterThan(5);

    HadoopFileSink sink = openSink(250);
    try (BatchWriter w = sink.begin(SinkBatch.of(2))) {
      int from = 0;
      for (int size = 1;
          from < batch.size();
          size = size * 2 + 1) { // chunk ends fall anywhere inside a part
        int to = Math.min(batch.size(), from + size);
        w.write(batch.subList(from, to));
        from = to;
      }
      w.commit();
    }
    Map<String, String> chunked = new TreeMap<>();
    visibleFiles()
        .forEach(
            (name, content) -> {
              if (name.contains("-00000000000000000002-")) {
                chunked.put(
                    name.replace("-00000000000000000002-", "-00000000000000000001-"), content);
              }
            });
    assertThat(chunked).isEqualTo(whole);
  }

  @Test
  void anAbandonedWriterLeavesNoVisibleOutput() throws Exception {
    HadoopFileSink sink = openSink(60);
    sink.write(1, lines(0, 3));
    Map<String, String> before = visibleFiles();

    BatchWriter abandoned = sink.begin(SinkBatch.of(2));
    abandoned.write(lines(0, 5));
    abandoned.write(lines(5, 10)); // part 0 is full (60 bytes), part 1 is being written
    abandoned.close();
    abandoned.close(); // safe twice

    Map<String, String> after = visibleFiles();
    // RENAME publishes nothing before the commit; DIRECT publishes a part when it is full (whole)
    // and aborts the rest.
    if (expectedMode() == PublishMode.RENAME) {
      assertThat(after).isEqualTo(before);
    } else {
      assertThat(after).containsOnlyKeys(sink.fileName(1, 0), sink.fileName(2, 0));
    }
    assertThat(fs.listStatus(new Path(dir)))
        .extracting(st -> st.getPath().getName())
        .noneMatch(n -> n.endsWith(".tmp"));
  }

  /**
   * Settings only the killed child writer gets (e.g. a small multipart size so S3 uploads start
   * mid-write).
   */
  Map<String, String> childWriterSettings() {
    return Map.of();
  }

  /** Checks what the killed writer left behind on this file system (beyond "nothing visible"). */
  void afterWriterKilled(URI dir) throws Exception {}

  @Test
  void aWriterKilledMidWriteLeavesNoVisibleFileAndTheReplayPublishesTheWholeBatch()
      throws Exception {
    long maxFileBytes = 64L << 20; // one part: the whole batch is in flight when the writer dies
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                SinkWriterProcess.class.getName(),
                dir.toString(),
                Long.toString(maxFileBytes)));
    Map<String, String> settings = new LinkedHashMap<>(hadoop());
    settings.putAll(childWriterSettings());
    settings.forEach((k, v) -> cmd.add(k + "=" + v));
    java.io.File err = java.io.File.createTempFile("sink-writer-", ".log");
    Process child = new ProcessBuilder(cmd).redirectError(err).start();
    try {
      CompletableFuture<Boolean> marker =
          CompletableFuture.supplyAsync(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String l = r.readLine(); l != null; l = r.readLine()) {
                    if (l.equals(SinkWriterProcess.MARKER)) {
                      return true;
                    }
                  }
                  return false;
                } catch (IOException e) {
                  return false;
                }
              });
      assertThat(marker.get(90, TimeUnit.SECONDS))
          .as("the writer reached the middle of the batch; its log: %s", err)
          .isTrue();
    } finally {
      child.destroyForcibly(); // SIGKILL: no close, no abort, no shutdown hook
      child.waitFor(30, TimeUnit.SECONDS);
    }
    assertThat(visibleFiles()).as("visible files after the writer was killed mid-write").isEmpty();
    afterWriterKilled(dir);

    List<Record> batch =
        IntStream.range(0, SinkWriterProcess.RECORDS)
            .mapToObj(i -> Record.ofString(SinkWriterProcess.line(i)))
            .toList();
    openSink(maxFileBytes).write(1, batch);
    assertThat(visibleFiles()).containsOnlyKeys("part-00000000000000000001-00000.txt");
    assertThat(allLines()).hasSize(SinkWriterProcess.RECORDS).doesNotHaveDuplicates();
    err.delete();
  }

  @Test
  void readersSeeTheWholeFileAtEveryMomentOfAReplay() throws Exception {
    HadoopFileSink sink = openSink(1 << 20);
    List<Record> batch = lines(0, 2_000);
    sink.write(1, batch);
    String name = sink.fileName(1, 0);
    String whole = visibleFiles().get(name);
    Path file = new Path(new Path(dir), name);
    AtomicBoolean replaying = new AtomicBoolean(true);
    CompletableFuture<Void> replays =
        CompletableFuture.runAsync(
            () -> {
              try {
                for (int r = 0; r < 8; r++) {
                  sink.write(1, batch); // same id, same records: replaces the file
                }
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              } finally {
                replaying.set(false);
              }
            });
    int reads = 0;
    while (replaying.get() || reads == 0) {
      // A replay's rename (or PUT) replaces the file in one step: it is never missing, never
      // partial.
      assertThat(fs.exists(file)).as("file present during replay").isTrue();
      try (FSDataInputStream in = fs.open(file)) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(whole);
      }
      reads++;
    }
    replays.get(60, TimeUnit.SECONDS);
    assertThat(allLines()).hasSize(batch.size()).doesNotHaveDuplicates();
  }

  @Test
  void anEmptyBatchWritesNothing() throws Exception {
    openSink(60).write(9, List.of());
    assertThat(visibleFiles()).isEmpty();
  }

  static final class SimulatedCrash extends RuntimeException {
    SimulatedCrash() {
      super("simulated crash while writing");
    }
  }
}
