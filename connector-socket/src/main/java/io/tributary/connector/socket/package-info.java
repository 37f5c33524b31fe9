/**
 * TCP socket connector: {@link io.tributary.connector.socket.SocketClientReceiver} (connect and
 * read lines, like Spark's {@code socketTextStream}), {@link
 * io.tributary.connector.socket.SocketServerReceiver} (accept many senders; plain or with the
 * acknowledged TRB1 protocol) and {@link io.tributary.connector.socket.ReliableSocketClient} (a
 * Java sender for the TRB1 protocol). Keys are declared in {@link
 * io.tributary.connector.socket.SocketOptions}; the module README has the configuration, framing,
 * protocol, guarantee and bad-input tables.
 *
 * <p>Classes in {@code io.tributary.connector.socket.internal} are implementation details.
 */
package io.tributary.connector.socket;
