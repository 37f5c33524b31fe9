package io.tributary.core.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Names threads {@code tributary-<pipeline>-<role>-N}; daemon threads so a forgotten pipeline
 * cannot hang the JVM.
 */
public final class NamedThreadFactory implements ThreadFactory {
  private final String prefix;
  private final AtomicInteger n = new AtomicInteger();

  public NamedThreadFactory(String pipelineId, String role) {
    this.prefix = "tributary-" + pipelineId + "-" + role + "-";
  }

  @Override
  public Thread newThread(Runnable r) {
    Thread t = new Thread(r, prefix + n.getAndIncrement());
    t.setDaemon(true);
    return t;
  }
}
