package io.tributary.connector.kinesis;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * The DynamoDB test server outlives a client killed in the middle of a request: dynalite 4.0.0
 * throws from the request's error handler when the connection resets before the body is complete,
 * which ended the server and failed every later test of the JVM with "connection refused" (seen
 * after KinesisKclProcessKillIT SIGKILLed a KCL worker). {@code testservers/dynalite-server.js}
 * keeps it alive.
 */
class LocalDynamoIT {
  @Test
  void aClientResetMidRequestLeavesTheServerAnswering() throws Exception {
    LocalDynamo dynamo = LocalDynamo.get();
    URI endpoint = URI.create(dynamo.endpoint());
    for (int i = 0; i < 3; i++) {
      try (Socket s = new Socket(endpoint.getHost(), endpoint.getPort())) {
        OutputStream out = s.getOutputStream();
        out.write(
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
                    + "X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 1000\r\n\r\n{\"a\":")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        s.setSoLinger(true, 0); // close with a TCP reset, as a SIGKILLed process's socket
      }
    }
    try (DynamoDbClient client = dynamo.client()) {
      assertThat(client.listTables().tableNames()).isNotNull();
    }
  }
}
