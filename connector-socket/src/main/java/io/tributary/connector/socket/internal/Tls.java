package io.tributary.connector.socket.internal;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.tributary.core.api.ConfigException;
import java.io.File;
import javax.net.ssl.SSLException;

/** Builds Netty TLS contexts from PEM files. Thread safety: stateless. */
public final class Tls {
  private Tls() {}

  /** A server context from a PEM certificate chain and a PEM PKCS#8 private key. */
  public static SslContext server(String certFile, String keyFile) {
    try {
      return SslContextBuilder.forServer(new File(certFile), new File(keyFile)).build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new ConfigException(
          "Invalid value "
              + certFile
              + " / "
              + keyFile
              + " for tls.cert-file / tls.key-file: "
              + e.getMessage()
              + " (expected: readable PEM certificate chain and unencrypted PKCS#8 PEM key)");
    }
  }

  /**
   * A client context that verifies the server's host name, trusting the PEM certificates in {@code
   * trustCertFile}, or the JVM's trust store when it is {@code null}.
   */
  public static SslContext client(String trustCertFile) {
    try {
      SslContextBuilder b = SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS");
      if (trustCertFile != null) {
        b.trustManager(new File(trustCertFile));
      }
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new ConfigException(
          "Invalid value "
              + trustCertFile
              + " for tls.trust-cert-file: "
              + e.getMessage()
              + " (expected: a readable PEM certificate file)");
    }
  }
}
