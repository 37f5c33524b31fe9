package io.tributary.connector.file.internal.hadoop;

import io.tributary.core.api.TributaryException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Checks, when a files source or sink opens, that the address of an {@code hdfs://} or {@code
 * s3a://} path is what it should be, and turns a wrong one into an error within seconds that names
 * the address, what answered there and the setting to fix, instead of Hadoop's behaviour: an {@code
 * hdfs://} address where an HTTP server listens (the NameNode's web UI port) waited twice 60 s for
 * an RPC answer and was then retried as "transient"; an S3 endpoint that is not S3 answered 404 to
 * every request, which S3A took for "no objects", so the source read nothing and said nothing.
 *
 * <ul>
 *   <li>HDFS (a host and port, not an HA nameservice): a TCP connection (refused, unreachable,
 *       unknown host), then one {@code getFileStatus("/")} with Hadoop's IPC timeouts cut to 5 s
 *       and no retries; any NameNode answer (even a permission error) passes. When it fails, one
 *       {@code HEAD / HTTP/1.0} tells whether an HTTP server answered there.
 *   <li>S3A with an explicit endpoint ({@code fs.s3a.endpoint} or the bucket's own): one anonymous
 *       {@code GET /} must come back with S3's {@code x-amz-request-id} header or an S3 XML body
 *       (any status: S3 answers 403 to an anonymous request). Then the path's status: 403 names the
 *       credentials settings, a missing bucket names the bucket; a missing prefix passes.
 * </ul>
 *
 * <p>Thread safety: stateless. Blocking: up to about 15 s per path on a peer that never answers.
 */
public final class EndpointCheck {
  static final Duration TIMEOUT = Duration.ofSeconds(5);

  private EndpointCheck() {}

  /**
   * Checks {@code path} on {@code fs}; nothing for other schemes.
   *
   * @param what who asks, for the message ({@code "files source path"}, {@code "files sink"})
   * @param setting the option holding the path ({@code paths}, {@code path})
   * @throws TributaryException naming the address, what answered and the setting: a {@link
   *     io.tributary.core.api.RetriableException} when nothing answers (yet), not retriable when a
   *     peer of the wrong kind answers, the credentials are refused or the bucket is missing
   */
  public static void check(
      FileSystem fs, Path path, Configuration conf, String what, String setting) {
    String scheme = fs.getUri().getScheme();
    if ("hdfs".equalsIgnoreCase(scheme)) {
      hdfs(fs.getUri(), path, conf, what, setting);
    } else if ("s3a".equalsIgnoreCase(scheme)) {
      s3(fs, path, conf, what, setting);
    }
  }

  // ------------------------------------------------------------------------------------- HDFS

  private static void hdfs(URI uri, Path path, Configuration conf, String what, String setting) {
    String host = uri.getHost();
    if (host == null || conf.getTrimmedStringCollection("dfs.nameservices").contains(host)) {
      return; // an HA nameservice: the client's failover proxy knows its NameNodes
    }
    int port = uri.getPort() > 0 ? uri.getPort() : 8020;
    String addr = host + ":" + port;
    String expected =
        " (expected: the NameNode's RPC address in "
            + setting
            + ", as in its fs.defaultFS or dfs.namenode.rpc-address, usually port 8020; port 9870"
            + " is its web UI)";
    String prefix = "Cannot use " + what + " " + path + ": ";
    String reach = connect(host, port);
    if (reach != null) {
      // Not reachable (now): a wrong address or a NameNode down; retriable, unlike a wrong peer.
      throw reach.startsWith("host ")
          ? new TributaryException(prefix + reach + expected)
          : new io.tributary.core.api.RetriableException(prefix + reach + expected);
    }
    Configuration pc = new Configuration(conf);
    int ms = (int) TIMEOUT.toMillis();
    pc.setInt("ipc.client.connect.max.retries", 0);
    pc.setInt("ipc.client.connect.max.retries.on.timeouts", 0);
    pc.setInt("ipc.client.connect.timeout", ms);
    pc.setInt("ipc.client.rpc-timeout.ms", ms);
    pc.setInt("ipc.ping.interval", ms);
    pc.setBoolean("dfs.client.retry.policy.enabled", false);
    pc.setBoolean("fs.hdfs.impl.disable.cache", true);
    Throwable failure;
    ExecutorService ex =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "tributary-hdfs-probe-0");
              t.setDaemon(true);
              return t;
            });
    try {
      Future<Void> f =
          ex.submit(
              () -> {
                try (FileSystem probe = FileSystem.newInstance(uri, pc)) {
                  probe.getFileStatus(new Path("/"));
                }
                return null;
              });
      f.get(3 * TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return;
    } catch (ExecutionException e) {
      failure = e.getCause();
    } catch (TimeoutException e) {
      failure = new SocketTimeoutException("no Hadoop RPC answer within " + 3 * ms + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TributaryException(prefix + "interrupted while checking " + addr, e);
    } finally {
      ex.shutdownNow();
    }
    if (nameNodeAnswered(failure)) {
      return; // a NameNode refused the call (permission, safe mode, standby...): it is one
    }
    String http = httpAnswer(host, port);
    String answered =
        http != null
            ? "an HTTP server answered there (" + http + "), not a NameNode's RPC port"
            : "it accepted the connection but did not answer Hadoop RPC (" + failure + ")";
    throw new TributaryException(prefix + addr + ": " + answered + expected, failure);
  }

  private static boolean nameNodeAnswered(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof org.apache.hadoop.ipc.RemoteException
          || c instanceof org.apache.hadoop.security.AccessControlException
          || c instanceof FileNotFoundException
          || c instanceof org.apache.hadoop.ipc.StandbyException) {
        return true;
      }
    }
    return false;
  }

  /** {@code null} when a TCP connection could be made, else why not. */
  private static String connect(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), (int) TIMEOUT.toMillis());
      return null;
    } catch (UnknownHostException e) {
      return "host " + host + " is unknown (" + e.getMessage() + ")";
    } catch (ConnectException e) {
      return "nothing listens at " + host + ":" + port + " (" + e.getMessage() + ")";
    } catch (SocketTimeoutException e) {
      return host
          + ":"
          + port
          + " did not accept a connection within "
          + TIMEOUT.toSeconds()
          + " s";
    } catch (IOException e) {
      return host + ":" + port + " is unreachable (" + e + ")";
    }
  }

  /** The status line an HTTP server answers {@code HEAD /} with, or {@code null}. */
  private static String httpAnswer(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), (int) TIMEOUT.toMillis());
      s.setSoTimeout((int) TIMEOUT.toMillis());
      OutputStream out = s.getOutputStream();
      out.write(
          ("HEAD / HTTP/1.0\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] b = new byte[256];
      int n = in.readNBytes(b, 0, b.length);
      String head = new String(b, 0, Math.max(0, n), StandardCharsets.ISO_8859_1);
      if (head.startsWith("HTTP/")) {
        int eol = head.indexOf('\r');
        return eol > 0 ? head.substring(0, eol) : head.strip();
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  // --------------------------------------------------------------------------------------- S3

  private static void s3(
      FileSystem fs, Path path, Configuration conf, String what, String setting) {
    String bucket = fs.getUri().getHost();
    String endpoint =
        conf.getTrimmed(
            "fs.s3a.bucket." + bucket + ".endpoint", conf.getTrimmed("fs.s3a.endpoint", ""));
    String prefix = "Cannot use " + what + " " + path + ": ";
    if (!endpoint.isEmpty()) {
      boolean ssl = conf.getBoolean("fs.s3a.connection.ssl.enabled", true);
      URI e =
          URI.create(
              endpoint.contains("://") ? endpoint : (ssl ? "https://" : "http://") + endpoint);
      String notS3 = notS3(e);
      if (notS3 != null) {
        String m =
            prefix
                + "the S3 endpoint "
                + e
                + " "
                + notS3
                + " (expected: an S3 service's address in hadoop.fs.s3a.endpoint)";
        throw notS3.startsWith("refused") || notS3.startsWith("did not answer")
            ? new io.tributary.core.api.RetriableException(m)
            : new TributaryException(m);
      }
    }
    try {
      fs.getFileStatus(path);
    } catch (FileNotFoundException e) {
      // an existing bucket without the prefix yet: fine
    } catch (java.nio.file.AccessDeniedException e) {
      throw new TributaryException(
          prefix
              + "S3"
              + (endpoint.isEmpty() ? "" : " at " + endpoint)
              + " refused the credentials for bucket "
              + bucket
              + " ("
              + firstLine(e)
              + ") (expected: credentials allowed to list and read the bucket in"
              + " hadoop.fs.s3a.access.key and hadoop.fs.s3a.secret.key, or"
              + " hadoop.fs.s3a.aws.credentials.provider)",
          e);
    } catch (org.apache.hadoop.fs.s3a.UnknownStoreException e) {
      throw new TributaryException(
          prefix
              + "bucket "
              + bucket
              + " does not exist"
              + (endpoint.isEmpty() ? "" : " at " + endpoint)
              + " (expected: an existing bucket in "
              + setting
              + ", s3a://<bucket>/<prefix>; create it, or fix the name or hadoop.fs.s3a.endpoint)",
          e);
    } catch (IOException e) {
      if (HadoopFileSystems.isTransient(e)) {
        throw new io.tributary.core.api.RetriableException(
            prefix
                + "S3"
                + (endpoint.isEmpty() ? "" : " at " + endpoint)
                + " is unreachable ("
                + firstLine(e)
                + ") (expected: a reachable S3 service; check hadoop.fs.s3a.endpoint)",
            e);
      }
      throw new TributaryException(prefix + firstLine(e), e);
    }
  }

  /** {@code null} when {@code endpoint} answers like S3, else what it did. */
  private static String notS3(URI endpoint) {
    java.net.http.HttpClient client =
        java.net.http.HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    try {
      java.net.http.HttpResponse<String> r =
          client.send(
              java.net.http.HttpRequest.newBuilder(endpoint.resolve("/"))
                  .timeout(TIMEOUT)
                  .GET()
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      boolean amz =
          r.headers().firstValue("x-amz-request-id").isPresent()
              || r.headers().firstValue("x-amz-id-2").isPresent();
      String body = r.body() == null ? "" : r.body();
      boolean xml =
          body.contains("<ListAllMyBucketsResult")
              || (body.contains("<Error>") && body.contains("<Code>"));
      if (amz || xml) {
        return null;
      }
      String server = r.headers().firstValue("server").map(s -> ", Server: " + s).orElse("");
      String type = r.headers().firstValue("content-type").map(s -> ", " + s).orElse("");
      return "answered HTTP "
          + r.statusCode()
          + server
          + type
          + " without S3's x-amz-request-id header or an S3 XML body: it is not S3";
    } catch (java.net.ConnectException e) {
      return "refused the connection: nothing listens there";
    } catch (java.net.http.HttpTimeoutException e) {
      return "did not answer within " + TIMEOUT.toSeconds() + " s";
    } catch (javax.net.ssl.SSLException e) {
      return "failed the TLS handshake ("
          + e.getMessage()
          + "; for a plain-HTTP endpoint write http:// or set"
          + " hadoop.fs.s3a.connection.ssl.enabled: false)";
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      if (m.contains("ssl") || m.contains("tls")) {
        return "failed the TLS handshake (" + e + ")";
      }
      return "could not be asked (" + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "could not be asked (interrupted)";
    }
  }

  private static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl > 0 ? m.substring(0, nl) : m;
  }
}
