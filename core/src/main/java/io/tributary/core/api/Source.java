package io.tributary.core.api;

/**
 * A source of records: either a replayable {@link DirectSource} or a {@link Receiver}.
 *
 * <p>The type is sealed so that the runtime and the gateway can always tell which protocol a source
 * speaks.
 */
public sealed interface Source permits DirectSource, Receiver {}
