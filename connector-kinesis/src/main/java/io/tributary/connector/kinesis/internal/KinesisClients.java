package io.tributary.connector.kinesis.internal;

import io.tributary.core.api.ConfigException;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.TributaryException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.ProtocolNegotiation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClientBuilder;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.KinesisClientBuilder;
import software.amazon.awssdk.services.kinesis.model.KmsThrottlingException;
import software.amazon.awssdk.services.kinesis.model.LimitExceededException;
import software.amazon.awssdk.services.kinesis.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;

/**
 * Builds the Kinesis client of a source or sink and turns SDK failures into errors that say what
 * went wrong and what to do.
 *
 * <p>The SDK's own retries are off: the connector retries throttling with its own backoff (so it
 * can count it) and transient failures within its read timeout, and a bad endpoint or bad
 * credentials fail at once instead of after minutes of hidden retries.
 *
 * <p>Thread safety: stateless; the clients it builds are thread-safe.
 */
public final class KinesisClients {
  private KinesisClients() {}

  /** Where and as whom a component talks to Kinesis. */
  public record Target(
      String stream, String region, String endpoint, String accessKeyId, String secretAccessKey) {
    /** The stream and where it is, for messages. */
    public String describe() {
      return "stream "
          + stream
          + " (region "
          + region
          + (endpoint == null ? "" : ", endpoint " + endpoint)
          + ")";
    }
  }

  public static KinesisClient create(Target t) {
    AwsCredentialsProvider creds =
        t.accessKeyId() != null
            ? StaticCredentialsProvider.create(
                AwsBasicCredentials.create(t.accessKeyId(), t.secretAccessKey()))
            : DefaultCredentialsProvider.create();
    KinesisClientBuilder b =
        KinesisClient.builder()
            .region(Region.of(t.region()))
            .credentialsProvider(creds)
            .httpClient(
                ApacheHttpClient.builder()
                    .maxConnections(64)
                    .connectionTimeout(Duration.ofSeconds(5))
                    .socketTimeout(Duration.ofSeconds(30))
                    .build())
            .overrideConfiguration(
                o ->
                    o.retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallTimeout(Duration.ofSeconds(60)));
    if (t.endpoint() != null) {
      b.endpointOverride(URI.create(t.endpoint()));
    }
    return b.build();
  }

  /**
   * The asynchronous client for enhanced fan-out (SubscribeToShard): Netty over HTTP/2, as AWS
   * requires for event streams (ALPN over https, prior knowledge over plain http), no SDK retries.
   * Close the client, then {@code http}.
   */
  public static AsyncClient createAsync(Target t) {
    boolean tls = t.endpoint() == null || t.endpoint().startsWith("https:");
    NettyNioAsyncHttpClient.Builder nb =
        NettyNioAsyncHttpClient.builder()
            .protocol(Protocol.HTTP2)
            .maxConcurrency(256)
            .connectionTimeout(Duration.ofSeconds(5))
            .readTimeout(Duration.ZERO); // a subscription is idle between events
    if (tls && t.endpoint() != null) {
      // A non-AWS TLS endpoint (a local server) may not assume HTTP/2 without negotiating it.
      nb.protocolNegotiation(ProtocolNegotiation.ALPN);
    }
    SdkAsyncHttpClient http = nb.build();
    KinesisAsyncClientBuilder b =
        KinesisAsyncClient.builder()
            .region(Region.of(t.region()))
            .credentialsProvider(credentials(t))
            .httpClient(http)
            .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()));
    if (t.endpoint() != null) {
      b.endpointOverride(URI.create(t.endpoint()));
    }
    return new AsyncClient(b.build(), http);
  }

  /** An asynchronous Kinesis client and the HTTP client it owns; closes both. */
  public record AsyncClient(KinesisAsyncClient kinesis, SdkAsyncHttpClient http)
      implements AutoCloseable {
    @Override
    public void close() {
      kinesis.close();
      http.close();
    }
  }

  private static AwsCredentialsProvider credentials(Target t) {
    return t.accessKeyId() != null
        ? StaticCredentialsProvider.create(
            AwsBasicCredentials.create(t.accessKeyId(), t.secretAccessKey()))
        : DefaultCredentialsProvider.create();
  }

  /**
   * Whether {@code e} says the endpoint does not implement the operation (a Kinesis-compatible
   * server without enhanced fan-out): an unknown-operation error code, or HTTP 404/501.
   */
  public static boolean isUnsupportedOperation(Throwable e) {
    if (!(e instanceof AwsServiceException a)) {
      return false;
    }
    String code = a.awsErrorDetails() == null ? null : a.awsErrorDetails().errorCode();
    if (code != null
        && (code.equals("UnknownOperationException")
            || code.equals("UnknownOperation")
            || code.equals("InvalidAction")
            || code.equals("NotImplemented")
            || code.equals("UnsupportedOperation")
            || code.equals("UnsupportedOperationException"))) {
      return true;
    }
    return a.statusCode() == 404 || a.statusCode() == 501;
  }

  /** Whether Kinesis asked the caller to slow down. */
  public static boolean isThrottling(Throwable e) {
    if (e instanceof ProvisionedThroughputExceededException
        || e instanceof LimitExceededException
        || e instanceof KmsThrottlingException) {
      return true;
    }
    return e instanceof AwsServiceException a && a.isThrottlingException();
  }

  /** Error codes AWS uses for credentials that are wrong, expired or not allowed. */
  private static boolean isCredentials(AwsServiceException a) {
    String code = a.awsErrorDetails() == null ? "" : a.awsErrorDetails().errorCode();
    return code != null
        && (code.equals("UnrecognizedClientException")
            || code.equals("InvalidSignatureException")
            || code.equals("IncompleteSignature")
            || code.equals("ExpiredTokenException")
            || code.equals("AccessDeniedException")
            || code.equals("MissingAuthenticationToken")
            || a.statusCode() == 403);
  }

  /**
   * The exception to throw for {@code e}, raised while doing {@code what} on {@code target}: a
   * {@link ConfigException} for a missing stream or rejected credentials (fatal, says what to fix),
   * a {@link RetriableException} for throttling and unreachable or failing servers, else a fatal
   * {@link TributaryException}.
   */
  public static RuntimeException translate(String what, Target target, Throwable e) {
    if (e instanceof TributaryException te) {
      return te;
    }
    if (e instanceof ResourceNotFoundException) {
      return new ConfigException(
          "Kinesis "
              + target.describe()
              + " does not exist (while trying to "
              + what
              + "): create the stream, or fix 'stream', 'region' or 'endpoint'. Kinesis said: "
              + message(e));
    }
    if (e instanceof AwsServiceException a && isCredentials(a)) {
      return new ConfigException(
          "Kinesis rejected the credentials for "
              + target.describe()
              + " (while trying to "
              + what
              + "): "
              + a.awsErrorDetails().errorCode()
              + ". Check access-key-id/secret-access-key (or the AWS default credentials chain: environment,"
              + " profile, role) and that the identity may use this stream. Kinesis said: "
              + message(e));
    }
    if (hasCause(e, javax.net.ssl.SSLException.class)) {
      String root = rootMessage(e);
      boolean certificate =
          hasCause(e, java.security.cert.CertificateException.class)
              || root.contains("PKIX")
              || root.contains("certificat");
      return new ConfigException(
          "TLS with the endpoint of "
              + target.describe()
              + " failed (while trying to "
              + what
              + "): "
              + root
              + (certificate
                  ? ". The server's certificate is not trusted by this JVM: add its CA to the JVM's"
                      + " truststore (javax.net.ssl.trustStore), or fix 'endpoint'."
                  : ". The server does not speak TLS there: use http:// for a plain-HTTP endpoint, or"
                      + " fix the port in 'endpoint'."));
    }
    if (e instanceof AwsServiceException a
        && a.statusCode() >= 400
        && a.statusCode() < 500
        && a.statusCode() != 403
        && !isThrottling(e)
        && (a.awsErrorDetails() == null
            || a.awsErrorDetails().errorCode() == null
            || a.awsErrorDetails().errorCode().isBlank())) {
      return new ConfigException(
          "The endpoint of "
              + target.describe()
              + " answered HTTP "
              + a.statusCode()
              + " without a Kinesis error code (while trying to "
              + what
              + "): it does not look like a Kinesis endpoint. Fix 'endpoint' (for AWS, leave it unset"
              + " and set 'region'; for a local server, its http:// or https:// address and port).");
    }
    if (isThrottling(e)) {
      return new RetriableException(
          "Kinesis throttled " + what + " on " + target.describe() + ": " + message(e), e);
    }
    if (e instanceof SdkClientException && hasCause(e, UnknownHostException.class)) {
      return new ConfigException(
          "Kinesis endpoint of "
              + target.describe()
              + " has an unknown host (while trying to "
              + what
              + "): fix 'endpoint' or 'region'. "
              + message(e));
    }
    if (e instanceof SdkClientException
        && (hasCause(e, ConnectException.class)
            || hasCause(e, NoRouteToHostException.class)
            || hasCause(e, SocketTimeoutException.class))) {
      return new RetriableException(
          "Cannot reach the Kinesis endpoint of "
              + target.describe()
              + " (while trying to "
              + what
              + "): "
              + rootMessage(e)
              + ". Check 'endpoint' and 'region' and that the endpoint is reachable from this host.",
          e);
    }
    if (e instanceof SdkClientException
        && String.valueOf(e.getMessage()).contains("Unable to load credentials")) {
      return new ConfigException(
          "No AWS credentials for Kinesis "
              + target.describe()
              + ": set access-key-id and secret-access-key, or provide credentials through the AWS default"
              + " chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance or container role). "
              + message(e));
    }
    if (e instanceof AwsServiceException a && a.statusCode() >= 500) {
      return new RetriableException(
          "Kinesis failed to " + what + " on " + target.describe() + ": " + message(e), e);
    }
    if (e instanceof SdkClientException) {
      String hint =
          target.endpoint() != null && target.endpoint().startsWith("http://")
              ? " (if the endpoint speaks TLS, use https:// in 'endpoint')"
              : "";
      return new RetriableException(
          "Kinesis client failed to "
              + what
              + " on "
              + target.describe()
              + ": "
              + message(e)
              + hint,
          e);
    }
    if (e instanceof SdkException) {
      return new TributaryException(
          "Kinesis failed to " + what + " on " + target.describe() + ": " + message(e), e);
    }
    return e instanceof RuntimeException r ? r : new IllegalStateException(e);
  }

  private static String message(Throwable e) {
    if (e instanceof AwsServiceException a && a.awsErrorDetails() != null) {
      return a.awsErrorDetails().errorCode() + ": " + a.awsErrorDetails().errorMessage();
    }
    return String.valueOf(e.getMessage());
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }
}
