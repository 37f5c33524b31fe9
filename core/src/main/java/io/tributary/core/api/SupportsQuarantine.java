package io.tributary.core.api;

import java.util.List;

/**
 * A {@link Source} mix-in: the source can skip data it cannot read instead of failing the pipeline
 * (DESIGN: "fails loudly, or quarantines, if configured"), and tells what it skipped, so an
 * operator sees it in the gateway's {@code GET /pipelines/{id}} ({@code quarantine}) and on the
 * status page.
 *
 * <pre>{@code
 * public final class MySource implements DirectSource, SupportsQuarantine {
 *   public List<QuarantinedItem> quarantined() {
 *     return List.copyOf(skipped); // a snapshot, never the live collection
 *   }
 * }
 * }</pre>
 *
 * <p>Thread safety: {@link #quarantined()} is called from any thread (the admin endpoint's), also
 * while a batch reads, and before the source is opened or after it is closed: return a snapshot, do
 * not block on I/O, and return an empty list when nothing is known yet.
 */
public interface SupportsQuarantine {
  /** What the source has skipped and still remembers, oldest first where the source can tell. */
  List<QuarantinedItem> quarantined();
}
