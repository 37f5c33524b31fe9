package io.tributary.core.api;

/**
 * A {@link TransactionalPositionsSource} of {@link SharedPositions}: an {@link
 * ExternallyAssignedSource} whose partitions move between pipeline instances, and which starts a
 * partition it takes over after the position some instance committed with the sink's output.
 *
 * <p>When the runtime chooses a sink to carry the positions (the pipeline's only sink, which
 * carries {@link SharedPositions} and is a {@link SharedPositionsStore}), it calls {@link
 * #sharedPositionsStore} with that sink before the source is opened; otherwise never, and the
 * source runs without it (at-least-once across crashes, or refused at start when {@link
 * #requiresCarrier()}).
 *
 * <p>Thread safety: {@link #sharedPositionsStore} is called once, on the thread that starts the
 * pipeline, before {@link Source#open}.
 */
public interface SharedPositionsSource extends TransactionalPositionsSource<SharedPositions> {
  @Override
  default Class<SharedPositions> transactionalPositionsType() {
    return SharedPositions.class;
  }

  /** The store of the sink that carries this source's positions. */
  void sharedPositionsStore(SharedPositionsStore store);
}
