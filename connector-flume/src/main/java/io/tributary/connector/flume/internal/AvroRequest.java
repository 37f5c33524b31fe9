package io.tributary.connector.flume.internal;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * One call of Avro's Netty transport: the serial the client matches the response with, and the
 * request's buffers (handshake, metadata, message name, parameters).
 */
record AvroRequest(int serial, List<ByteBuffer> buffers, int bytes) {}
