package io.tributary.core.api;

/**
 * Announces a source type to the gateway through {@link java.util.ServiceLoader}: list the
 * implementing class in {@code META-INF/services/io.tributary.core.api.SourceFactory} of the
 * connector jar, and putting the jar on the classpath is all it takes.
 *
 * <p>Thread safety: implementations must be stateless; {@link #create} may be called from any
 * thread.
 */
public interface SourceFactory {
  /**
   * The {@code type:} name used in pipeline configs, for example {@code socket}. Lower case,
   * unique.
   */
  String type();

  /** One line saying what the source reads. */
  String description();

  /** Every key the source accepts. */
  ConfigSpec options();

  /**
   * Creates the source from validated options.
   *
   * @param name the source's name in the pipeline
   */
  Source create(String name, Config config);
}
