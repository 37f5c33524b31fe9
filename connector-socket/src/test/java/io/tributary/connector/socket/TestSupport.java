package io.tributary.connector.socket;

import io.tributary.core.api.Config;
import io.tributary.core.api.Record;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Helpers shared by the socket tests. */
final class TestSupport {
  private TestSupport() {}

  static Config config(Object... keyValues) {
    Map<String, Object> m = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put((String) keyValues[i], keyValues[i + 1]);
    }
    return SocketOptions.SPEC.parse(m);
  }

  /** A port that was free a moment ago on 127.0.0.1. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  static List<String> values(List<Record> records) {
    List<String> out = new ArrayList<>();
    for (Record r : records) {
      out.add(r.valueAsString());
    }
    return out;
  }

  /** A server reply of the TRB1 protocol read by a raw test socket. */
  record Reply(byte type, long value, int code, String message) {}

  /** Reads replies until EOF (or {@code max} replies). */
  static List<Reply> readReplies(InputStream in, int max) throws IOException {
    DataInputStream d = new DataInputStream(in);
    List<Reply> out = new ArrayList<>();
    try {
      while (out.size() < max) {
        byte type = d.readByte();
        if (type == (byte) 0x81 || type == (byte) 0x82) {
          out.add(new Reply(type, d.readLong(), 0, null));
        } else if (type == (byte) 0x83) {
          int code = d.readUnsignedShort();
          byte[] m = new byte[d.readUnsignedShort()];
          d.readFully(m);
          out.add(new Reply(type, 0, code, new String(m, StandardCharsets.UTF_8)));
        } else {
          throw new IOException("unexpected reply type " + type);
        }
      }
    } catch (EOFException e) {
      // Server closed.
    }
    return out;
  }

  static byte[] hello(String producer) {
    byte[] id = producer.getBytes(StandardCharsets.UTF_8);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(6 + id.length);
    b.put("TRB1".getBytes(StandardCharsets.US_ASCII)).putShort((short) id.length).put(id);
    return b.array();
  }

  static byte[] data(long seq, String payload) {
    byte[] p = payload.getBytes(StandardCharsets.UTF_8);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(13 + p.length);
    b.put((byte) 1).putLong(seq).putInt(p.length).put(p);
    return b.array();
  }

  /**
   * A self-signed EC certificate for localhost / 127.0.0.1, made with the JDK's keytool, exported
   * as PEM files.
   */
  record Cert(Path certPem, Path keyPem) {}

  static Cert selfSignedCert(Path dir) throws Exception {
    Path ks = dir.resolve("test.p12");
    String keytool =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "keytool";
    Process p =
        new ProcessBuilder(
                keytool,
                "-genkeypair",
                "-alias",
                "test",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-validity",
                "2",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-keystore",
                ks.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit",
                "-keypass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + output);
    }
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(ks)) {
      store.load(in, "changeit".toCharArray());
    }
    PrivateKey key = (PrivateKey) store.getKey("test", "changeit".toCharArray());
    Certificate cert = store.getCertificate("test");
    Path certPem = dir.resolve("cert.pem");
    Path keyPem = dir.resolve("key.pem");
    writePem(certPem, "CERTIFICATE", cert.getEncoded());
    writePem(keyPem, "PRIVATE KEY", key.getEncoded()); // PKCS#8
    return new Cert(certPem, keyPem);
  }

  private static void writePem(Path file, String type, byte[] der) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
      w.write("-----BEGIN " + type + "-----\n");
      w.write(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der));
      w.write("\n-----END " + type + "-----\n");
    }
  }
}
