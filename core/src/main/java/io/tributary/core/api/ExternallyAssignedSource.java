package io.tributary.core.api;

/**
 * A {@link DirectSource} whose partitions are assigned from outside the pipeline (a Kafka consumer
 * group, leases): several pipeline instances share the partitions, and which instance owns which
 * can change while they run.
 *
 * <p>What changes for the runtime compared with a plain {@link DirectSource}:
 *
 * <ul>
 *   <li>{@link #partitions()} lists only the partitions this instance owns now. The runtime plans
 *       nothing for a partition that is not listed and forgets its position (the next owner
 *       continues from the shared committed position, not from this instance's checkpoint).
 *   <li>A partition listed now that was not listed by the previous call (newly assigned, or
 *       assigned again after another instance owned it) starts at its {@link
 *       PartitionInfo#initialOffset()}, which the source sets to the shared committed position,
 *       even when the checkpoint still holds an older position for it.
 *   <li>After a restart the first call counts every listed partition as new.
 *   <li>{@link #read(OffsetRange)} of a replayed range may yield fewer records than a first read
 *       did: records another instance already committed, or of a partition this instance no longer
 *       owns, are skipped (the owner reads them). This relaxes {@link DirectSource}'s "same records
 *       every time" rule; the committed position shared through the external system is the truth
 *       for such sources.
 * </ul>
 *
 * <p>Thread safety: as {@link DirectSource}.
 */
public interface ExternallyAssignedSource extends DirectSource {}
