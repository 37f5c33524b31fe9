package io.tributary.core.api;

import java.util.List;

/**
 * Configuration is invalid. Carries every problem found, each phrased as {@code Invalid value X for
 * Y: reason (expected: ...)}, so a user can fix them all at once.
 */
public class ConfigException extends TributaryException {
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(format(problems));
    this.problems = List.copyOf(problems);
  }

  public ConfigException(String problem) {
    this(List.of(problem));
  }

  /** Each problem, one per entry. */
  public List<String> problems() {
    return problems;
  }

  private static String format(List<String> problems) {
    if (problems.size() == 1) {
      return problems.get(0);
    }
    StringBuilder sb = new StringBuilder(problems.size() + " configuration problems:");
    for (String p : problems) {
      sb.append("\n  - ").append(p);
    }
    return sb.toString();
  }
}
