package io.tributary.gateway.internal;

import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.api.Record;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The gateway's built-in per-record transforms: {@code filter} and {@code map}. Values are treated
 * as UTF-8 text.
 *
 * <p>Thread safety: stateless; the functions it returns are thread-safe.
 */
public final class Transforms {
  /** What to keep (filter). */
  public static final ConfigOption<String> REGEX =
      ConfigOption.string("regex")
          .validate(
              v -> {
                try {
                  Pattern.compile(v);
                  return null;
                } catch (PatternSyntaxException e) {
                  return "not a valid regular expression: "
                      + e.getDescription()
                      + " (expected: a Java regex)";
                }
              })
          .description(
              "filter: keep records whose value contains a match of this Java regular expression.");

  public static final ConfigOption<String> CONTAINS =
      ConfigOption.string("contains")
          .description("filter: keep records whose value contains this text.");
  public static final ConfigOption<Boolean> NOT_EMPTY =
      ConfigOption.bool("not-empty")
          .defaultValue(false)
          .description("filter: keep only records with a non-empty value.");
  public static final ConfigOption<Boolean> INVERT =
      ConfigOption.bool("invert")
          .defaultValue(false)
          .description("filter: drop what matches instead of keeping it.");

  /** Map operations. */
  public enum MapOp {
    TRIM,
    UPPER_CASE,
    LOWER_CASE,
    PREFIX,
    SUFFIX
  }

  public static final ConfigOption<MapOp> OP =
      ConfigOption.enumValue("op", MapOp.class)
          .required()
          .description("map: what to do to each value.");
  public static final ConfigOption<String> VALUE =
      ConfigOption.string("value").description("map: the text for prefix and suffix.");

  public static final ConfigSpec FILTER_SPEC = ConfigSpec.of(REGEX, CONTAINS, NOT_EMPTY, INVERT);
  public static final ConfigSpec MAP_SPEC = ConfigSpec.of(OP, VALUE);

  private Transforms() {}

  /** The spec of a transform type, or {@code null} if the type is unknown. */
  public static ConfigSpec spec(String type) {
    return switch (type) {
      case "filter" -> FILTER_SPEC;
      case "map" -> MAP_SPEC;
      default -> null;
    };
  }

  public static List<String> types() {
    return List.of("filter", "map");
  }

  /** Cross-field checks that a spec cannot express; empty when fine. */
  public static List<String> check(String type, Map<String, ?> raw) {
    if (type.equals("filter")) {
      int n =
          (raw.containsKey("regex") ? 1 : 0)
              + (raw.containsKey("contains") ? 1 : 0)
              + (Boolean.TRUE.equals(raw.get("not-empty")) ? 1 : 0);
      if (n != 1) {
        return List.of(
            "filter needs exactly one of regex, contains, not-empty: true (expected: one condition)");
      }
    }
    if (type.equals("map")) {
      Object op = raw.get("op");
      boolean needsValue =
          op != null
              && (op.toString().equalsIgnoreCase("prefix")
                  || op.toString().equalsIgnoreCase("suffix"));
      if (needsValue && !raw.containsKey("value")) {
        return List.of("map with op " + op + " needs value (expected: the text to add)");
      }
    }
    return List.of();
  }

  public static Predicate<Record> filter(Config c) {
    Predicate<String> p;
    if (c.get(REGEX) != null) {
      Pattern pattern = Pattern.compile(c.get(REGEX));
      p = s -> pattern.matcher(s).find();
    } else if (c.get(CONTAINS) != null) {
      String needle = c.get(CONTAINS);
      p = s -> s.contains(needle);
    } else {
      p = s -> !s.isEmpty();
    }
    Predicate<String> keep = c.get(INVERT) ? p.negate() : p;
    return r -> keep.test(r.valueAsString());
  }

  public static Function<Record, Record> map(Config c) {
    MapOp op = c.get(OP);
    String value = c.get(VALUE) == null ? "" : c.get(VALUE);
    Function<String, String> f =
        switch (op) {
          case TRIM -> String::trim;
          case UPPER_CASE -> s -> s.toUpperCase(Locale.ROOT);
          case LOWER_CASE -> s -> s.toLowerCase(Locale.ROOT);
          case PREFIX -> s -> value + s;
          case SUFFIX -> s -> s + value;
        };
    return r -> r.withValue(f.apply(r.valueAsString()).getBytes(StandardCharsets.UTF_8));
  }
}
