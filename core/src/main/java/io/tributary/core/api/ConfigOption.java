package io.tributary.core.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One configuration key, declared once: name, type, default, validation and description. Reference
 * docs are generated from these declarations.
 *
 * <p>Values come from YAML or code as strings, numbers, booleans or lists and are converted by
 * {@link #parse(Object)}. Durations accept {@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h} or a
 * number of milliseconds. Sizes accept {@code 512}, {@code 64kb}, {@code 16mb}, {@code 1gb}.
 *
 * <p>Thread safety: immutable.
 *
 * @param <T> the value type
 */
public final class ConfigOption<T> {
  /**
   * A validator returns {@code null} when the value is fine, else the reason and what is expected.
   */
  @FunctionalInterface
  public interface Validator<T> {
    String check(T value);
  }

  /**
   * A validator of one entry of a {@link #prefixed} option, given the name after the prefix and the
   * value: returns {@code null} when the entry is fine, else the reason and what is expected.
   */
  @FunctionalInterface
  public interface EntryValidator {
    String check(String name, String value);
  }

  /** Which part of an option's value must never be shown. */
  public enum Sensitivity {
    /** The value may be shown. */
    NONE,
    /** The whole value is a secret (a password, a key): shown as {@link Secrets#MASK}. */
    VALUE,
    /**
     * Entries of a map value, or {@code name=value} entries of a list value, whose name is a secret
     * name ({@link Secrets#isSecretName}) are secrets; the others may be shown. The default of
     * {@link #prefixed} options.
     */
    SECRET_NAMED_ENTRIES
  }

  private static final Pattern SIZE = Pattern.compile("(\\d+)(|b|k|kb|m|mb|g|gb)");

  private final String name;
  private final String type;
  private final T defaultValue;
  private final boolean required;
  private final String description;
  private final Function<Object, T> parser;
  private final List<Validator<T>> validators;
  private final List<String> aliases;
  private final Sensitivity sensitivity;
  private final List<EntryValidator> entryValidators;

  private ConfigOption(
      String name,
      String type,
      T defaultValue,
      boolean required,
      String description,
      Function<Object, T> parser,
      List<Validator<T>> validators,
      List<String> aliases,
      Sensitivity sensitivity,
      List<EntryValidator> entryValidators) {
    this.name = name;
    this.type = type;
    this.defaultValue = defaultValue;
    this.required = required;
    this.description = description;
    this.parser = parser;
    this.validators = List.copyOf(validators);
    this.aliases = List.copyOf(aliases);
    this.sensitivity = sensitivity;
    this.entryValidators = List.copyOf(entryValidators);
  }

  private static <T> ConfigOption<T> simple(String name, String type, Function<Object, T> parser) {
    return new ConfigOption<>(
        name, type, null, false, "", parser, List.of(), List.of(), Sensitivity.NONE, List.of());
  }

  public static ConfigOption<String> string(String name) {
    return simple(name, "string", v -> v.toString());
  }

  public static ConfigOption<Integer> integer(String name) {
    return simple(name, "int", ConfigOption::toInt);
  }

  public static ConfigOption<Long> longValue(String name) {
    return simple(name, "long", ConfigOption::toLong);
  }

  public static ConfigOption<Boolean> bool(String name) {
    return simple(name, "boolean", ConfigOption::toBool);
  }

  public static ConfigOption<Duration> duration(String name) {
    return simple(name, "duration", ConfigOption::toDuration);
  }

  /** A byte size such as {@code 16mb}; value in bytes. */
  public static ConfigOption<Long> size(String name) {
    return simple(name, "size", ConfigOption::toSize);
  }

  public static <E extends Enum<E>> ConfigOption<E> enumValue(String name, Class<E> type) {
    String allowed = Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT);
    return new ConfigOption<>(
        name,
        "enum " + allowed,
        null,
        false,
        "",
        v -> {
          String s = v.toString().trim().toUpperCase(Locale.ROOT).replace('-', '_');
          try {
            return Enum.valueOf(type, s);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not one of " + allowed);
          }
        },
        List.of(),
        List.of(),
        Sensitivity.NONE,
        List.of());
  }

  public static ConfigOption<List<String>> stringList(String name) {
    return new ConfigOption<>(
        name,
        "list of strings",
        null,
        false,
        "",
        v -> {
          if (v instanceof List<?> l) {
            List<String> out = new ArrayList<>();
            for (Object o : l) {
              out.add(String.valueOf(o));
            }
            return List.copyOf(out);
          }
          List<String> out = new ArrayList<>();
          for (String s : v.toString().split(",")) {
            if (!s.isBlank()) {
              out.add(s.trim());
            }
          }
          return List.copyOf(out);
        },
        List.of(),
        List.of(),
        Sensitivity.NONE,
        List.of());
  }

  /**
   * A family of pass-through keys sharing {@code prefix} (which must end with {@code .}), such as
   * {@code kafka.} for {@code kafka.security.protocol}: {@link ConfigSpec} collects every key that
   * starts with the prefix (and that no other option declares) into one map from the rest of the
   * key to its value as a string (lists joined with commas). Nested YAML mappings under the prefix
   * arrive flattened to dotted keys. Pass-through settings often hold secrets, so the option is
   * {@link Sensitivity#SECRET_NAMED_ENTRIES}: values of secret names are never shown.
   */
  public static ConfigOption<java.util.Map<String, String>> prefixed(String prefix) {
    if (!prefix.endsWith(".") || prefix.length() < 2) {
      throw new IllegalArgumentException("A prefix option's name must end with '.': " + prefix);
    }
    return new ConfigOption<java.util.Map<String, String>>(
            prefix,
            "map (" + prefix + "<name>: value)",
            null,
            false,
            "",
            v -> {
              if (!(v instanceof java.util.Map<?, ?>)) {
                throw new IllegalArgumentException("not a mapping of names to values");
              }
              java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
              for (java.util.Map.Entry<?, ?> e : ((java.util.Map<?, ?>) v).entrySet()) {
                Object val = e.getValue();
                String str =
                    val instanceof List<?> l
                        ? String.join(",", l.stream().map(String::valueOf).toList())
                        : String.valueOf(val);
                out.put(String.valueOf(e.getKey()), str);
              }
              return java.util.Collections.unmodifiableMap(out);
            },
            List.of(),
            List.of(),
            Sensitivity.SECRET_NAMED_ENTRIES,
            List.of())
        .defaultValue(java.util.Map.of());
  }

  /** Whether this is a {@link #prefixed(String)} option. */
  public boolean isPrefix() {
    return name.endsWith(".");
  }

  public ConfigOption<T> defaultValue(T value) {
    return new ConfigOption<>(
        name,
        type,
        value,
        false,
        description,
        parser,
        validators,
        aliases,
        sensitivity,
        entryValidators);
  }

  public ConfigOption<T> required() {
    return new ConfigOption<>(
        name,
        type,
        null,
        true,
        description,
        parser,
        validators,
        aliases,
        sensitivity,
        entryValidators);
  }

  public ConfigOption<T> description(String text) {
    return new ConfigOption<>(
        name,
        type,
        defaultValue,
        required,
        text,
        parser,
        validators,
        aliases,
        sensitivity,
        entryValidators);
  }

  public ConfigOption<T> validate(Validator<T> validator) {
    List<Validator<T>> v = new ArrayList<>(validators);
    v.add(validator);
    return new ConfigOption<>(
        name,
        type,
        defaultValue,
        required,
        description,
        parser,
        v,
        aliases,
        sensitivity,
        entryValidators);
  }

  /**
   * Adds a check of each entry of a {@link #prefixed} option: a failing entry is reported as a
   * problem of its own full key ({@code kafka.security.protocol}), so the gateway can name its
   * line. The entry's value is shown in the message unless its name is a secret name.
   */
  public ConfigOption<T> validateEachEntry(EntryValidator validator) {
    List<EntryValidator> v = new ArrayList<>(entryValidators);
    v.add(validator);
    return new ConfigOption<>(
        name,
        type,
        defaultValue,
        required,
        description,
        parser,
        validators,
        aliases,
        sensitivity,
        v);
  }

  /**
   * The problems {@link #validateEachEntry entry validators} find in {@code entries} (names after
   * the prefix), each keyed by its full key; empty when none.
   */
  public List<ConfigProblem> entryProblems(java.util.Map<String, String> entries) {
    List<ConfigProblem> out = new ArrayList<>();
    for (java.util.Map.Entry<String, String> e : entries.entrySet()) {
      for (EntryValidator v : entryValidators) {
        String problem = v.check(e.getKey(), e.getValue());
        if (problem != null) {
          String key = name + e.getKey();
          boolean secret = Secrets.isSecretName(e.getKey());
          String shown = secret ? Secrets.MASK : e.getValue();
          String reason = secret ? Secrets.scrub(problem, List.of(e.getValue())) : problem;
          out.add(new ConfigProblem(key, "Invalid value " + shown + " for " + key + ": " + reason));
          break;
        }
      }
    }
    return out;
  }

  /**
   * Marks the whole value a secret: it is never shown in errors, logs, {@code toString} or status,
   * whatever the option's name.
   */
  public ConfigOption<T> sensitive() {
    return withSensitivity(Sensitivity.VALUE);
  }

  /**
   * Marks the entries whose names are secret names ({@link Secrets#isSecretName}) as secrets: for a
   * map value, or a list of {@code name=value} entries such as {@code client-properties}. A list
   * entry without {@code =} is never shown.
   */
  public ConfigOption<T> sensitiveEntries() {
    return withSensitivity(Sensitivity.SECRET_NAMED_ENTRIES);
  }

  private ConfigOption<T> withSensitivity(Sensitivity s) {
    return new ConfigOption<>(
        name,
        type,
        defaultValue,
        required,
        description,
        parser,
        validators,
        aliases,
        s,
        entryValidators);
  }

  /** Older names still accepted for this key. */
  public ConfigOption<T> deprecatedAliases(String... names) {
    return new ConfigOption<>(
        name,
        type,
        defaultValue,
        required,
        description,
        parser,
        validators,
        List.of(names),
        sensitivity,
        entryValidators);
  }

  public String name() {
    return name;
  }

  public String type() {
    return type;
  }

  public T defaultValue() {
    return defaultValue;
  }

  public boolean isRequired() {
    return required;
  }

  public String description() {
    return description;
  }

  public List<String> aliases() {
    return aliases;
  }

  public Sensitivity sensitivity() {
    return sensitivity;
  }

  /**
   * {@code value} (raw or parsed) as it may be shown in messages, logs and {@code toString}:
   * secrets replaced by {@link Secrets#MASK} according to {@link #sensitivity()}.
   */
  public Object shown(Object value) {
    if (value == null || sensitivity == Sensitivity.NONE) {
      return value;
    }
    if (sensitivity == Sensitivity.VALUE) {
      return Secrets.MASK;
    }
    if (value instanceof java.util.Map<?, ?> m) {
      java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
      m.forEach(
          (k, v) -> out.put(String.valueOf(k), Secrets.maskIfSecretName(String.valueOf(k), v)));
      return out;
    }
    return entries(value).stream().map(Secrets::maskEntry).toList();
  }

  /**
   * The secrets in {@code value} (raw or parsed), to be scrubbed from free text; empty when it
   * holds none.
   */
  public List<String> secretValues(Object value) {
    List<String> out = new ArrayList<>();
    if (value == null || sensitivity == Sensitivity.NONE) {
      return out;
    }
    if (sensitivity == Sensitivity.VALUE) {
      if (value instanceof java.util.Collection<?> c) {
        c.forEach(e -> Secrets.addSecret(String.valueOf(e), out));
      } else {
        Secrets.addSecret(String.valueOf(value), out);
      }
      return out;
    }
    if (value instanceof java.util.Map<?, ?> m) {
      m.forEach(
          (k, v) -> {
            if (v != null && Secrets.isSecretName(String.valueOf(k))) {
              Secrets.addSecret(String.valueOf(v), out);
            }
          });
      return out;
    }
    for (String e : entries(value)) {
      int eq = e.indexOf('=');
      if (eq <= 0) {
        Secrets.addSecret(e, out);
      } else if (Secrets.isSecretName(e.substring(0, eq).trim())) {
        Secrets.addSecret(e.substring(eq + 1).trim(), out);
      }
    }
    return out;
  }

  /** A list value's entries, or a comma-separated string's (as a list option accepts it). */
  private static List<String> entries(Object value) {
    if (value instanceof java.util.Collection<?> c) {
      return c.stream().map(String::valueOf).toList();
    }
    return Arrays.stream(String.valueOf(value).split(","))
        .map(String::trim)
        .filter(x -> !x.isEmpty())
        .toList();
  }

  /**
   * Converts and validates a raw value.
   *
   * @throws IllegalArgumentException with the reason, when the value is not acceptable
   */
  public T parse(Object raw) {
    Objects.requireNonNull(raw, "raw");
    T value;
    try {
      value = parser.apply(raw);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "Invalid value "
              + inError(raw)
              + " for "
              + name
              + ": "
              + scrubbed(e.getMessage(), raw, null)
              + " (expected: "
              + type
              + ")");
    }
    for (Validator<T> v : validators) {
      String problem = v.check(value);
      if (problem != null) {
        // A validator may quote the value (or an entry of it); a secret never reaches the message.
        throw new IllegalArgumentException(
            "Invalid value "
                + inError(raw)
                + " for "
                + name
                + ": "
                + scrubbed(problem, raw, value));
      }
    }
    return value;
  }

  /**
   * {@code raw} as an error message shows it: like {@link #shown}, except that an option with
   * secret-named entries shows only the names of its entries, since a user who wrote a secret under
   * a harmless-looking name is better served by an error that shows no value at all.
   */
  private Object inError(Object raw) {
    if (sensitivity != Sensitivity.SECRET_NAMED_ENTRIES) {
      return shown(raw);
    }
    if (raw instanceof java.util.Map<?, ?> m) {
      return m.keySet() + " (values not shown)";
    }
    List<String> names = new ArrayList<>();
    for (String e : entries(raw)) {
      int eq = e.indexOf('=');
      names.add(eq <= 0 ? Secrets.MASK : e.substring(0, eq).trim());
    }
    return names + " (values not shown)";
  }

  private String scrubbed(String message, Object raw, Object value) {
    if (sensitivity == Sensitivity.NONE) {
      return message;
    }
    List<String> secrets = secretValues(raw);
    if (value != null) {
      secrets.addAll(secretValues(value));
    }
    return Secrets.scrub(message, secrets);
  }

  /** Validator: a number at least {@code min}. */
  public static <N extends Number> Validator<N> atLeast(long min) {
    return v ->
        v.longValue() >= min ? null : "must be at least " + min + " (expected: >= " + min + ")";
  }

  /** Validator: a number between {@code min} and {@code max} inclusive. */
  public static <N extends Number> Validator<N> between(long min, long max) {
    return v ->
        v.longValue() >= min && v.longValue() <= max
            ? null
            : "out of range (expected: " + min + " to " + max + ")";
  }

  /** Validator: a positive duration. */
  public static Validator<Duration> positive() {
    return v ->
        v.isZero() || v.isNegative()
            ? "must be positive (expected: a duration > 0, e.g. 1s)"
            : null;
  }

  /** Validator: a non-blank string. */
  public static Validator<String> nonBlank() {
    return v -> v.isBlank() ? "must not be blank (expected: a non-empty string)" : null;
  }

  private static int toInt(Object v) {
    long l = toLong(v);
    if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("does not fit in an int");
    }
    return (int) l;
  }

  private static long toLong(Object v) {
    if (v instanceof Number n) {
      if (n.doubleValue() != n.longValue()) {
        throw new IllegalArgumentException("not a whole number");
      }
      return n.longValue();
    }
    try {
      return Long.parseLong(v.toString().trim().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a whole number");
    }
  }

  private static boolean toBool(Object v) {
    if (v instanceof Boolean b) {
      return b;
    }
    String s = v.toString().trim().toLowerCase(Locale.ROOT);
    if (s.equals("true") || s.equals("yes") || s.equals("on")) {
      return true;
    }
    if (s.equals("false") || s.equals("no") || s.equals("off")) {
      return false;
    }
    throw new IllegalArgumentException("not a boolean");
  }

  /**
   * Parses {@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h}, {@code 1d}, or plain milliseconds.
   */
  public static Duration toDuration(Object v) {
    if (v instanceof Duration d) {
      return d; // already parsed, e.g. PipelineOptions re-parsed with extra settings
    }
    if (v instanceof Number n) {
      return Duration.ofMillis(n.longValue());
    }
    String s = v.toString().trim().toLowerCase(Locale.ROOT);
    try {
      if (s.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2).trim()));
      } else if (s.endsWith("s")) {
        return Duration.ofMillis(
            Math.round(Double.parseDouble(s.substring(0, s.length() - 1).trim()) * 1000));
      } else if (s.endsWith("m")) {
        return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1).trim()) * 60);
      } else if (s.endsWith("h")) {
        return Duration.ofHours(Long.parseLong(s.substring(0, s.length() - 1).trim()));
      } else if (s.endsWith("d")) {
        return Duration.ofDays(Long.parseLong(s.substring(0, s.length() - 1).trim()));
      }
      return Duration.ofMillis(Long.parseLong(s));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a duration such as 500ms, 2s, 5m, 1h");
    }
  }

  /** Parses {@code 512}, {@code 64kb}, {@code 16mb}, {@code 1gb} into bytes. */
  public static long toSize(Object v) {
    if (v instanceof Number n) {
      return n.longValue();
    }
    String s = v.toString().trim().toLowerCase(Locale.ROOT).replace(" ", "");
    Matcher m = SIZE.matcher(s);
    if (!m.matches()) {
      // An unknown unit must not be ignored: "16tb" or "16xb" is not 16 bytes.
      throw new IllegalArgumentException("not a size such as 512, 64kb, 16mb, 1gb");
    }
    long mult =
        switch (m.group(2)) {
          case "k", "kb" -> 1024L;
          case "m", "mb" -> 1024L * 1024;
          case "g", "gb" -> 1024L * 1024 * 1024;
          default -> 1L;
        };
    try {
      return Math.multiplyExact(Long.parseLong(m.group(1)), mult);
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException("too large for a size in bytes");
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
