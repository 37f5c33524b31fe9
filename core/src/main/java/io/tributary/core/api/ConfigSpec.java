package io.tributary.core.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The declared keys of one source, sink or pipeline type. {@link #parse(Map)} checks every key and
 * reports every problem at once.
 *
 * <p>Thread safety: immutable.
 */
public final class ConfigSpec {
  private final Map<String, ConfigOption<?>> options;

  private ConfigSpec(Map<String, ConfigOption<?>> options) {
    this.options = Collections.unmodifiableMap(options);
  }

  public static ConfigSpec of(ConfigOption<?>... options) {
    Map<String, ConfigOption<?>> m = new LinkedHashMap<>();
    for (ConfigOption<?> o : options) {
      if (m.put(o.name(), o) != null) {
        throw new IllegalArgumentException("Option declared twice: " + o.name());
      }
    }
    return new ConfigSpec(m);
  }

  /** The declared options in declaration order. */
  public List<ConfigOption<?>> options() {
    return List.copyOf(options.values());
  }

  /**
   * Checks {@code raw} against the declarations: unknown keys, missing required keys, unconvertible
   * or invalid values.
   *
   * @return every problem found; empty when the configuration is valid
   */
  public List<ConfigProblem> validate(Map<String, ?> raw) {
    List<ConfigProblem> problems = new ArrayList<>();
    parseInto(raw, problems);
    return problems;
  }

  /**
   * Parses and validates {@code raw}.
   *
   * @throws ConfigException with every problem, when any
   */
  public Config parse(Map<String, ?> raw) {
    List<ConfigProblem> problems = new ArrayList<>();
    Config config = parseInto(raw, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems.stream().map(ConfigProblem::message).toList());
    }
    return config;
  }

  private Config parseInto(Map<String, ?> raw, List<ConfigProblem> problems) {
    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, String> aliasToName = new LinkedHashMap<>();
    for (ConfigOption<?> o : options.values()) {
      for (String a : o.aliases()) {
        aliasToName.put(a, o.name());
      }
    }
    Map<ConfigOption<?>, Map<String, Object>> prefixed = new LinkedHashMap<>();
    for (Map.Entry<String, ?> e : raw.entrySet()) {
      String key = aliasToName.getOrDefault(e.getKey(), e.getKey());
      ConfigOption<?> o = options.get(key);
      ConfigOption<?> family = o == null ? prefixOf(key) : null;
      if (family != null) {
        if (e.getValue() == null) {
          problems.add(
              new ConfigProblem(
                  e.getKey(), "Invalid value null for " + key + " (expected: a value)"));
        } else {
          prefixed
              .computeIfAbsent(family, f -> new LinkedHashMap<>())
              .put(key.substring(family.name().length()), e.getValue());
        }
        continue;
      }
      if (o == null) {
        problems.add(
            new ConfigProblem(
                e.getKey(),
                "Unknown key "
                    + e.getKey()
                    + " (expected one of: "
                    + String.join(
                        ", ",
                        options.values().stream()
                            .map(x -> x.isPrefix() ? x.name() + "*" : x.name())
                            .toList())
                    + ")"));
        continue;
      }
      if (e.getValue() == null) {
        problems.add(
            new ConfigProblem(
                e.getKey(), "Invalid value null for " + key + " (expected: " + o.type() + ")"));
        continue;
      }
      try {
        values.put(key, o.parse(e.getValue()));
      } catch (IllegalArgumentException ex) {
        problems.add(new ConfigProblem(e.getKey(), ex.getMessage()));
      }
    }
    for (Map.Entry<ConfigOption<?>, Map<String, Object>> e : prefixed.entrySet()) {
      try {
        Object parsed = e.getKey().parse(e.getValue());
        List<ConfigProblem> entryProblems =
            parsed instanceof Map<?, ?> m ? e.getKey().entryProblems(stringEntries(m)) : List.of();
        if (entryProblems.isEmpty()) {
          values.put(e.getKey().name(), parsed);
        } else {
          problems.addAll(entryProblems);
        }
      } catch (IllegalArgumentException ex) {
        problems.add(new ConfigProblem(e.getKey().name(), ex.getMessage()));
      }
    }
    for (ConfigOption<?> o : options.values()) {
      if (!values.containsKey(o.name()) && o.isRequired()) {
        boolean failedAlready = problems.stream().anyMatch(p -> p.key().equals(o.name()));
        if (!failedAlready) {
          problems.add(
              new ConfigProblem(
                  o.name(),
                  "Missing required key "
                      + o.name()
                      + " (expected: "
                      + o.type()
                      + "; "
                      + o.description()
                      + ")"));
        }
      }
    }
    return new Config(values, this);
  }

  private static Map<String, String> stringEntries(Map<?, ?> m) {
    Map<String, String> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
    return out;
  }

  /**
   * The {@link ConfigOption#prefixed} option whose prefix {@code key} starts with, or {@code null}.
   */
  private ConfigOption<?> prefixOf(String key) {
    for (ConfigOption<?> o : options.values()) {
      if (o.isPrefix() && key.startsWith(o.name()) && key.length() > o.name().length()) {
        return o;
      }
    }
    return null;
  }

  boolean declares(ConfigOption<?> option) {
    return options.get(option.name()) == option;
  }
}
