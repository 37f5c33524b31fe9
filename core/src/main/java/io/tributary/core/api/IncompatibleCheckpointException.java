package io.tributary.core.api;

/**
 * The checkpoint belongs to another pipeline or was written under an incompatible configuration or
 * format. Fatal: use a new checkpoint location, restore the configuration that wrote it, or delete
 * it to start over (losing its positions).
 */
public class IncompatibleCheckpointException extends TributaryException {
  public IncompatibleCheckpointException(String message) {
    super(message);
  }
}
