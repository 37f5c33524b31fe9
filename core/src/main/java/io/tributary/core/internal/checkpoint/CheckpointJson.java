package io.tributary.core.internal.checkpoint;

import io.tributary.core.api.OffsetRange;
import io.tributary.core.api.Position;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Writes the checkpoint files a pipeline writes on its way to its first output ({@code metadata},
 * {@code offsets/N}, {@code commits/N}) byte for byte as {@link CheckpointLog}'s Jackson {@code
 * ObjectMapper} with {@code INDENT_OUTPUT} writes them, without Jackson: its start (about 500
 * classes) is otherwise on every pipeline's start path. Reading stays with Jackson (unchanged, so
 * every file written before, format 1 included, loads as before), and so does everything else
 * written ({@code positions}, offset alterations).
 *
 * <p>Thread safety: stateless.
 */
final class CheckpointJson {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private CheckpointJson() {}

  static byte[] metadata(CheckpointLog.Metadata m) {
    return new Writer()
        .begin()
        .field("version", m.version())
        .field("pipelineId", m.pipelineId())
        .field("configFingerprint", m.configFingerprint())
        .field("createdMs", m.createdMs())
        .end()
        .bytes();
  }

  static byte[] commit(CheckpointLog.Commit c) {
    return new Writer()
        .begin()
        .field("version", c.version())
        .field("batchId", c.batchId())
        .field("commitTimeMs", c.commitTimeMs())
        .field("records", c.records())
        .end()
        .bytes();
  }

  /** {@code BatchPlan} is {@code @JsonInclude(NON_NULL)}: null fields are left out. */
  static byte[] plan(BatchPlan p) {
    Writer w = new Writer().begin();
    w.field("version", p.version());
    if (p.pipelineId() != null) {
      w.field("pipelineId", p.pipelineId());
    }
    w.field("batchId", p.batchId());
    w.field("batchTimeMs", p.batchTimeMs());
    if (p.source() != null) {
      w.field("source", p.source());
    }
    if (p.kind() != null) {
      w.field("kind", p.kind());
    }
    w.name("ranges");
    if (p.ranges().isEmpty()) {
      w.out.append("[ ]");
    } else {
      w.out.append('[');
      boolean first = true;
      for (OffsetRange r : p.ranges()) {
        w.out.append(first ? " " : ", ");
        first = false;
        w.begin();
        if (r.partition() != null) {
          w.field("partition", r.partition());
        } else {
          w.name("partition").out.append("null");
        }
        w.position("from", r.from());
        w.position("until", r.until());
        w.end();
      }
      w.out.append(" ]");
    }
    w.name("positions");
    if (p.positions().isEmpty()) {
      w.out.append("{ }");
    } else {
      w.begin();
      for (Map.Entry<String, Long> e : p.positions().entrySet()) {
        w.name(e.getKey()).out.append(e.getValue());
      }
      w.end();
    }
    return w.end().bytes();
  }

  /** Jackson's {@code DefaultPrettyPrinter}: two spaces per level, {@code " : "}, LF. */
  private static final class Writer {
    final StringBuilder out = new StringBuilder(256);
    private int depth;
    private boolean first;

    Writer begin() {
      out.append('{');
      depth++;
      first = true;
      return this;
    }

    Writer end() {
      depth--;
      newline();
      out.append('}');
      first = false;
      return this;
    }

    Writer name(String name) {
      if (!first) {
        out.append(',');
      }
      first = false;
      newline();
      string(name);
      out.append(" : ");
      return this;
    }

    Writer field(String name, long value) {
      name(name).out.append(value);
      return this;
    }

    Writer field(String name, String value) {
      name(name);
      if (value == null) {
        out.append("null");
      } else {
        string(value);
      }
      return this;
    }

    /** A {@link Position} as its {@code @JsonValue}: a number, or text beyond 64 bits. */
    void position(String name, Position p) {
      name(name);
      if (p == null) {
        out.append("null");
        return;
      }
      if (p.isLong()) {
        out.append(p.toLong());
      } else {
        string(p.toString());
      }
    }

    private void newline() {
      out.append('\n');
      for (int i = 0; i < depth; i++) {
        out.append("  ");
      }
    }

    /**
     * Jackson's escaping: quote, backslash, control characters and surrogates; nothing else (other
     * non-ASCII characters as UTF-8).
     */
    private void string(String s) {
      out.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> out.append("\\\"");
          case '\\' -> out.append("\\\\");
          case '\b' -> out.append("\\b");
          case '\t' -> out.append("\\t");
          case '\n' -> out.append("\\n");
          case '\f' -> out.append("\\f");
          case '\r' -> out.append("\\r");
          default -> {
            if (c < 0x20 || Character.isSurrogate(c)) {
              // Jackson escapes surrogates too: a character beyond U+FFFF as its two halves
              out.append("\\u")
                  .append(HEX[c >> 12])
                  .append(HEX[(c >> 8) & 0xF])
                  .append(HEX[(c >> 4) & 0xF])
                  .append(HEX[c & 0xF]);
            } else {
              out.append(c);
            }
          }
        }
      }
      out.append('"');
    }

    byte[] bytes() {
      return out.toString().getBytes(StandardCharsets.UTF_8);
    }
  }
}
