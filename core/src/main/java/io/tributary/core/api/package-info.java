/**
 * The contract of Tributary: what a connector or a custom receiver implements.
 *
 * <p>Start here. There are two ways in, as in Spark Streaming:
 *
 * <ul>
 *   <li>{@link io.tributary.core.api.DirectSource}: a replayable source with offsets (Kafka
 *       partitions, files). The runtime decides each micro-batch's {@link
 *       io.tributary.core.api.OffsetRange}s, writes them to the checkpoint before reading, and
 *       reads exactly those ranges again on replay.
 *   <li>{@link io.tributary.core.api.Receiver}: a long-running task that is pushed or pulls data
 *       and hands it to the runtime. {@link
 *       io.tributary.core.api.Receiver#storeReliably(java.util.List)} returns only once the data is
 *       durable in the write-ahead log; only then may the receiver acknowledge its source.
 * </ul>
 *
 * <p>Output goes to a {@link io.tributary.core.api.Sink}, whose type states its guarantee: {@link
 * io.tributary.core.api.TransactionalSink}, {@link io.tributary.core.api.IdempotentSink} or {@link
 * io.tributary.core.api.AtLeastOnceSink}. Connectors announce themselves to the gateway through
 * {@link io.tributary.core.api.SourceFactory} and {@link io.tributary.core.api.SinkFactory} ({@link
 * java.util.ServiceLoader}).
 */
package io.tributary.core.api;
