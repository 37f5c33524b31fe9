package io.tributary.core.api;

/**
 * One problem in a configuration: the key it concerns and a message of the shape {@code Invalid
 * value X for Y: reason (expected: ...)}. The gateway adds file and line.
 */
public record ConfigProblem(String key, String message) {
  @Override
  public String toString() {
    return message;
  }
}
