package io.tributary.core.api;

/**
 * Announces a sink type to the gateway through {@link java.util.ServiceLoader} ({@code
 * META-INF/services/io.tributary.core.api.SinkFactory}).
 *
 * <p>Thread safety: implementations must be stateless; {@link #create} may be called from any
 * thread.
 */
public interface SinkFactory {
  /** The {@code type:} name used in pipeline configs, for example {@code files}. */
  String type();

  String description();

  /** The guarantee the created sinks give. */
  Guarantee guarantee();

  ConfigSpec options();

  Sink create(String name, Config config);
}
