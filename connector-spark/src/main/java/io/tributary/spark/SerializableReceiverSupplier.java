package io.tributary.spark;

import io.tributary.core.api.Receiver;
import java.io.Serializable;
import java.util.function.Supplier;

/**
 * Builds a Tributary {@link Receiver} on the executor that runs it: Spark ships the supplier, not
 * the receiver (receivers hold sockets and threads). A lambda works: {@code () -> new
 * MyReceiver(port)}, as long as what it captures is serializable.
 */
@FunctionalInterface
public interface SerializableReceiverSupplier extends Supplier<Receiver>, Serializable {}
