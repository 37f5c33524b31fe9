/**
 * Apache Flume connector: the {@code flume} source in push mode ({@link
 * io.tributary.connector.flume.FlumePushReceiver}, an Avro RPC server acknowledging batches once
 * durable) and pull mode ({@link io.tributary.connector.flume.FlumePullReceiver}, polling the
 * {@code tributary-flume-sink} inside agents), and the {@code flume} sink ({@link
 * io.tributary.connector.flume.FlumeSink}). Options: {@link
 * io.tributary.connector.flume.FlumeOptions}, {@link
 * io.tributary.connector.flume.FlumeSinkOptions}. Classes in {@code .internal} are not API.
 */
package io.tributary.connector.flume;
