package io.tributary.core.api;

import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a {@link ConfigSpec} as the Markdown reference table every README of the project uses
 * (key, type, default, description), so the tables come from the declarations themselves; each
 * module has a test that fails when its checked-in table is stale. The {@code tributary types}
 * command prints the same tables.
 *
 * <p>How cells are written: a {@link ConfigOption#prefixed(String) prefixed} key as {@code
 * prefix.*}; a default as the user would write it in YAML: durations in the largest whole unit
 * ({@code 1d}, {@code 2h}, {@code 5m}, {@code 30s}, {@code 500ms}), sizes in the largest whole unit
 * ({@code 1mb}), enum constants in lower case with {@code -} for {@code _} (in the type column
 * too), an empty list or mapping as {@code (none)}, no default as {@code -}; {@code |} and line
 * breaks are escaped so a cell never breaks the table.
 *
 * <p>Thread safety: stateless.
 */
public final class ConfigDocs {
  private static final long KB = 1024;
  private static final long MB = 1024 * KB;
  private static final long GB = 1024 * MB;

  private ConfigDocs() {}

  /** The table, one row per option in declaration order, each line ending with a newline. */
  public static String markdownTable(ConfigSpec spec) {
    StringBuilder sb = new StringBuilder();
    sb.append("| Key | Type | Default | Description |\n");
    sb.append("| --- | --- | --- | --- |\n");
    for (ConfigOption<?> o : spec.options()) {
      sb.append("| `")
          .append(o.isPrefix() ? o.name() + "*" : o.name())
          .append("` | ")
          .append(escape(type(o)))
          .append(" | ")
          .append(o.isRequired() ? "*required*" : defaultValue(o))
          .append(" | ")
          .append(escape(o.description()))
          .append(" |\n");
    }
    return sb.toString();
  }

  /**
   * The declared type; enum constants as users write them in YAML, {@code whole-file} rather than
   * {@code whole_file} ({@link ConfigOption#enumValue} accepts both and lists {@code [a, b]} after
   * {@code "enum "}).
   */
  private static String type(ConfigOption<?> o) {
    return o.type().startsWith("enum [") ? o.type().replace('_', '-') : o.type();
  }

  private static String defaultValue(ConfigOption<?> o) {
    Object v = o.defaultValue();
    if (v == null) {
      return "-";
    }
    if (v instanceof Collection<?> c && c.isEmpty() || v instanceof Map<?, ?> m && m.isEmpty()) {
      return "(none)";
    }
    String s;
    if (v instanceof Duration d) {
      s = duration(d);
    } else if (v instanceof Enum<?> e) {
      s = e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    } else if (v instanceof Long l && o.type().equals("size")) {
      s = size(l);
    } else {
      s = v.toString();
    }
    return "`" + escape(s) + "`";
  }

  /** In the largest unit {@link ConfigOption#toDuration} reads back to the same value. */
  static String duration(Duration d) {
    long ms = d.toMillis();
    if (ms != 0 && ms % Duration.ofDays(1).toMillis() == 0) {
      return d.toDays() + "d";
    } else if (ms != 0 && ms % Duration.ofHours(1).toMillis() == 0) {
      return d.toHours() + "h";
    } else if (ms != 0 && ms % Duration.ofMinutes(1).toMillis() == 0) {
      return d.toMinutes() + "m";
    } else if (ms % 1000 == 0) {
      return d.toSeconds() + "s";
    }
    return ms + "ms";
  }

  /** In the largest unit {@link ConfigOption#toSize} reads back to the same value. */
  static String size(long bytes) {
    if (bytes > 0 && bytes % GB == 0) {
      return bytes / GB + "gb";
    } else if (bytes > 0 && bytes % MB == 0) {
      return bytes / MB + "mb";
    } else if (bytes > 0 && bytes % KB == 0) {
      return bytes / KB + "kb";
    }
    return Long.toString(bytes);
  }

  private static String escape(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }
}
