package io.tributary.connector.socket;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tributary.sdk.testkit.EmbeddedReceiver;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A socket server in its own JVM (for tests that need a small heap or must read its log): {@code
 * key=value} arguments are the source's options. Prints {@code PORT n}, then answers each {@code
 * status} line on stdin with {@code STATUS records=N memory_budget=N tls_on_plain_port=N
 * buffered=N}; {@code exit} stops it.
 */
public final class SocketServerChild {
  private SocketServerChild() {}

  public static void main(String[] args) throws Exception {
    Map<String, Object> options = new HashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      options.put(a.substring(0, eq), a.substring(eq + 1));
    }
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SocketServerReceiver receiver =
        new SocketServerReceiver(SocketOptions.SPEC.parse(options), registry);
    try (EmbeddedReceiver embedded = new EmbeddedReceiver(receiver, "child")) {
      embedded.start();
      System.out.println("PORT " + receiver.boundAddress().getPort());
      System.out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.equals("exit")) {
        if (line.equals("status")) {
          System.out.println(
              "STATUS records="
                  + embedded.durable().size()
                  + " memory_budget="
                  + (long) receiver.errorCount(SocketErrorReason.MEMORY_BUDGET)
                  + " tls_on_plain_port="
                  + (long) receiver.errorCount(SocketErrorReason.TLS_ON_PLAIN_PORT)
                  + " buffered="
                  + (long) registry.get("tributary.socket.buffered.bytes").gauge().value());
          System.out.flush();
        }
      }
    }
  }
}
