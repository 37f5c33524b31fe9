package io.tributary.gateway.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the gateway's log lines ({@code slf4j-simple} writing to {@code System.err}) into JSON
 * lines for {@code --log-format json}: one object per event with {@code time}, {@code thread},
 * {@code level}, {@code logger}, {@code message}, each {@code key=value} of the message as its own
 * field, and a {@code stack} field for a stack trace. Lines that are not log events (the command
 * line's own messages) become {@code {"level":"INFO","logger":"tributary","message":...}}.
 *
 * <p>A log event ends at the logger's {@code flush()} (slf4j-simple flushes after each event and
 * its stack trace). Secrets are scrubbed where the events are written, as for plain text.
 *
 * <p>Thread safety: thread-safe (synchronized); install with {@link #install()} before logging.
 */
public final class JsonLogStream extends OutputStream {
  private static final Pattern EVENT =
      Pattern.compile("^(\\S+) \\[([^\\]]*)\\] \\[(\\w+)\\s*\\] (\\S+) - (.*)$");
  private static final Pattern FIELD =
      Pattern.compile("(?:^|\\s)([a-z_][a-z0-9_.]*)=(\"((?:[^\"\\\\]|\\\\.)*)\"|\\S+)");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintStream target;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private StringBuilder event;
  private StringBuilder stack;

  private JsonLogStream(PrintStream target) {
    this.target = target;
  }

  /** Replaces {@code System.err} with a stream that writes JSON lines to the current one. */
  public static void install() {
    System.setErr(new PrintStream(new JsonLogStream(System.err), false, StandardCharsets.UTF_8));
  }

  @Override
  public synchronized void write(int b) {
    if (b == '\n') {
      endLine();
    } else {
      line.write(b);
    }
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      write(b[i]);
    }
  }

  private void endLine() {
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    if (text.endsWith("\r")) {
      text = text.substring(0, text.length() - 1);
    }
    if (EVENT.matcher(text).matches()) {
      emit();
      event = new StringBuilder(text);
      stack = new StringBuilder();
    } else if (event != null) {
      stack.append(stack.length() == 0 ? "" : "\n").append(text);
    } else {
      emitPlain(text);
    }
  }

  @Override
  public synchronized void flush() {
    if (line.size() > 0) {
      endLine();
    }
    emit();
    target.flush();
  }

  @Override
  public synchronized void close() {
    flush();
  }

  private void emitPlain(String text) {
    if (text.isEmpty()) {
      return;
    }
    write(
        g -> {
          g.writeStringField("time", java.time.OffsetDateTime.now().toString());
          g.writeStringField("level", "INFO");
          g.writeStringField("logger", "tributary");
          g.writeStringField("message", text);
        });
  }

  private void emit() {
    if (event == null) {
      return;
    }
    Matcher m = EVENT.matcher(event);
    String trace = stack.toString();
    event = null;
    stack = null;
    if (!m.matches()) {
      return;
    }
    write(
        g -> {
          g.writeStringField("time", m.group(1));
          g.writeStringField("thread", m.group(2));
          g.writeStringField("level", m.group(3));
          g.writeStringField("logger", m.group(4));
          g.writeStringField("message", m.group(5));
          Matcher f = FIELD.matcher(m.group(5));
          java.util.Set<String> seen =
              new java.util.HashSet<>(
                  java.util.Set.of("time", "thread", "level", "logger", "message", "stack"));
          while (f.find()) {
            if (seen.add(f.group(1))) {
              String v = f.group(3) != null ? f.group(3).replace("\\\"", "\"") : f.group(2);
              g.writeStringField(f.group(1), v);
            }
          }
          if (!trace.isEmpty()) {
            g.writeStringField("stack", trace);
          }
        });
  }

  private interface Fields {
    void write(JsonGenerator g) throws IOException;
  }

  private void write(Fields fields) {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = JSON.getFactory().createGenerator(w)) {
      g.writeStartObject();
      fields.write(g);
      g.writeEndObject();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    target.println(w);
  }
}
