package io.tributary.connector.flume.internal;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.tributary.core.api.ConfigException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;

/** Builds the push server's TLS context from a key store, as Flume's Avro source does. */
public final class Tls {
  private Tls() {}

  /**
   * @throws ConfigException when the key store cannot be read or holds no usable key
   */
  public static SslContext server(
      String keystore, String password, String type, List<String> protocols) {
    try (InputStream in = Files.newInputStream(Path.of(keystore))) {
      char[] pw = password == null ? new char[0] : password.toCharArray();
      KeyStore ks = KeyStore.getInstance(type);
      ks.load(in, pw);
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      return SslContextBuilder.forServer(kmf).protocols(protocols).build();
    } catch (Exception e) {
      throw new ConfigException(
          "Invalid value "
              + keystore
              + " for tls.keystore: "
              + e.getMessage()
              + " (expected: a readable "
              + type
              + " key store whose key opens with tls.keystore-password)");
    }
  }
}
