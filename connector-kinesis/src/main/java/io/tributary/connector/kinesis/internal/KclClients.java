package io.tributary.connector.kinesis.internal;

import io.tributary.core.api.ConfigException;
import io.tributary.core.api.RetriableException;
import io.tributary.core.api.TributaryException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchAsyncClient;
import software.amazon.awssdk.services.cloudwatch.CloudWatchAsyncClientBuilder;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClientBuilder;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.DescribeTableResponse;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TableStatus;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClientBuilder;

/**
 * The asynchronous clients the KCL scheduler of the {@code kinesis-kcl} source uses (Kinesis,
 * DynamoDB, CloudWatch), on one Netty HTTP client that {@link #close()} shuts down, and the lease
 * table check that turns DynamoDB failures into errors saying what to fix. Not public API.
 *
 * <p>Thread safety: the clients are thread-safe; {@link #close()} once, after the scheduler
 * stopped.
 */
public final class KclClients implements AutoCloseable {
  /** KCL 3's index on the lease table (lease owner → lease keys). */
  public static final String LEASE_OWNER_INDEX = "LeaseOwnerToLeaseKeyIndex";

  private final SdkAsyncHttpClient http;
  private final KinesisAsyncClient kinesis;
  private final DynamoDbAsyncClient dynamo;
  private final CloudWatchAsyncClient cloudWatch;
  private final String dynamoEndpoint;
  private final String region;

  public KclClients(
      String region,
      String kinesisEndpoint,
      String dynamoEndpoint,
      String cloudWatchEndpoint,
      String accessKeyId,
      String secretAccessKey) {
    this.region = region;
    this.dynamoEndpoint = dynamoEndpoint;
    AwsCredentialsProvider creds =
        accessKeyId != null
            ? StaticCredentialsProvider.create(
                AwsBasicCredentials.create(accessKeyId, secretAccessKey))
            : DefaultCredentialsProvider.create();
    // HTTP/1.1: polling retrieval needs no HTTP/2, and it works with http:// and https:// endpoints
    // alike (HTTP/2 over TLS needs ALPN, over plain http prior knowledge).
    this.http =
        NettyNioAsyncHttpClient.builder()
            .protocol(Protocol.HTTP1_1)
            .maxConcurrency(128)
            .connectionTimeout(Duration.ofSeconds(5))
            .build();
    KinesisAsyncClientBuilder kb =
        KinesisAsyncClient.builder()
            .region(Region.of(region))
            .credentialsProvider(creds)
            .httpClient(http);
    if (kinesisEndpoint != null) {
      kb.endpointOverride(URI.create(kinesisEndpoint));
    }
    this.kinesis = kb.build();
    DynamoDbAsyncClientBuilder db =
        DynamoDbAsyncClient.builder()
            .region(Region.of(region))
            .credentialsProvider(creds)
            .httpClient(http);
    if (dynamoEndpoint != null) {
      db.endpointOverride(URI.create(dynamoEndpoint));
    }
    this.dynamo = db.build();
    CloudWatchAsyncClientBuilder cb =
        CloudWatchAsyncClient.builder()
            .region(Region.of(region))
            .credentialsProvider(creds)
            .httpClient(http);
    if (cloudWatchEndpoint != null) {
      cb.endpointOverride(URI.create(cloudWatchEndpoint));
    }
    this.cloudWatch = cb.build();
  }

  public KinesisAsyncClient kinesis() {
    return kinesis;
  }

  public DynamoDbAsyncClient dynamo() {
    return dynamo;
  }

  public CloudWatchAsyncClient cloudWatch() {
    return cloudWatch;
  }

  /**
   * Makes sure the lease table {@code table} exists with KCL 3's {@link #LEASE_OWNER_INDEX}: when
   * it is missing, creates it (on-demand capacity) with the index in the same call, and waits until
   * it is ACTIVE. (KCL would create the table and then add the index with UpdateTable, which some
   * DynamoDB-compatible servers cannot do.)
   *
   * @return whether the table was created here
   * @throws ConfigException when DynamoDB refuses the credentials or the permissions, or the
   *     endpoint is not a DynamoDB endpoint
   * @throws RetriableException when the endpoint cannot be reached
   */
  public boolean ensureLeaseTable(String table, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean created = false;
    while (true) {
      DescribeTableResponse d;
      try {
        d =
            call(
                "describe the lease table " + table,
                () -> dynamo.describeTable(b -> b.tableName(table)).get(30, TimeUnit.SECONDS));
      } catch (NotFound e) {
        try {
          call(
              "create the lease table " + table,
              () ->
                  dynamo
                      .createTable(
                          b ->
                              b.tableName(table)
                                  .attributeDefinitions(
                                      a ->
                                          a.attributeName("leaseKey")
                                              .attributeType(ScalarAttributeType.S),
                                      a ->
                                          a.attributeName("leaseOwner")
                                              .attributeType(ScalarAttributeType.S))
                                  .keySchema(k -> k.attributeName("leaseKey").keyType(KeyType.HASH))
                                  .globalSecondaryIndexes(
                                      g ->
                                          g.indexName(LEASE_OWNER_INDEX)
                                              .keySchema(
                                                  k ->
                                                      k.attributeName("leaseOwner")
                                                          .keyType(KeyType.HASH),
                                                  k ->
                                                      k.attributeName("leaseKey")
                                                          .keyType(KeyType.RANGE))
                                              .projection(
                                                  p -> p.projectionType(ProjectionType.KEYS_ONLY)))
                                  .billingMode(BillingMode.PAY_PER_REQUEST))
                      .get(30, TimeUnit.SECONDS));
          created = true;
        } catch (InUse raced) {
          // another instance created it at the same time
        }
        continue;
      }
      if (d.table().tableStatus() == TableStatus.ACTIVE) {
        return created;
      }
      if (System.nanoTime() > deadline) {
        throw new RetriableException(
            "DynamoDB lease table "
                + table
                + " is "
                + d.table().tableStatus()
                + ", not ACTIVE, after "
                + timeout.toSeconds()
                + " s"
                + where());
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling a table's status: DynamoDB has no event for it
    }
  }

  private interface Call<T> {
    T run() throws Exception;
  }

  private static final class NotFound extends RuntimeException {
    NotFound() {
      super(null, null, false, false);
    }
  }

  private static final class InUse extends RuntimeException {
    InUse() {
      super(null, null, false, false);
    }
  }

  private <T> T call(String what, Call<T> c) throws InterruptedException {
    try {
      return c.run();
    } catch (ExecutionException | CompletionException e) {
      throw translate(what, e.getCause() == null ? e : e.getCause());
    } catch (TimeoutException e) {
      throw new RetriableException(
          "DynamoDB did not answer within 30 s (while trying to " + what + ")" + where(), e);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw translate(what, e);
    }
  }

  private String where() {
    return " (region "
        + region
        + (dynamoEndpoint == null ? "" : ", endpoint " + dynamoEndpoint)
        + ")";
  }

  private RuntimeException translate(String what, Throwable e) {
    if (e instanceof ResourceNotFoundException) {
      return new NotFound();
    }
    if (e instanceof ResourceInUseException) {
      return new InUse();
    }
    if (e instanceof AwsServiceException a) {
      String code = a.awsErrorDetails() == null ? null : a.awsErrorDetails().errorCode();
      String msg =
          a.awsErrorDetails() == null ? a.getMessage() : a.awsErrorDetails().errorMessage();
      if (a.statusCode() == 403
          || "AccessDeniedException".equals(code)
          || "UnrecognizedClientException".equals(code)
          || "InvalidSignatureException".equals(code)
          || "ExpiredTokenException".equals(code)
          || "MissingAuthenticationToken".equals(code)) {
        return new ConfigException(
            "DynamoDB refused to "
                + what
                + where()
                + ": "
                + code
                + ": "
                + msg
                + ". The kinesis-kcl source keeps its leases in DynamoDB: the identity needs dynamodb:DescribeTable,"
                + " CreateTable (or a table created beforehand), GetItem, PutItem, UpdateItem, DeleteItem, Scan and"
                + " Query on the lease table (application-name). Check access-key-id / secret-access-key or the AWS"
                + " default credentials chain.");
      }
      if (a.statusCode() >= 500 || a.isThrottlingException()) {
        return new RetriableException(
            "DynamoDB failed to " + what + where() + ": " + code + ": " + msg, e);
      }
      if (code == null || code.isBlank()) {
        return new ConfigException(
            "The DynamoDB endpoint answered HTTP "
                + a.statusCode()
                + " without a DynamoDB error code (while trying to "
                + what
                + ")"
                + where()
                + ": it does not look like a DynamoDB endpoint. Fix 'dynamodb-endpoint' (for AWS leave it unset"
                + " and set 'region').");
      }
      return new TributaryException(
          "DynamoDB failed to " + what + where() + ": " + code + ": " + msg, e);
    }
    if (hasCause(e, UnknownHostException.class)) {
      return new ConfigException(
          "DynamoDB endpoint has an unknown host (while trying to "
              + what
              + ")"
              + where()
              + ": fix 'dynamodb-endpoint' or 'region'.");
    }
    if (String.valueOf(e.getMessage()).contains("Unable to load credentials")) {
      return new ConfigException(
          "No AWS credentials for DynamoDB: set access-key-id and secret-access-key, or provide credentials"
              + " through the AWS default chain. "
              + e.getMessage());
    }
    // No answer at all: refused, reset, or (the async client under load) no pooled connection
    // within the acquire
    // timeout because every connect attempt failed. A client-side SDK error that is not about
    // credentials or an
    // unknown host means the endpoint could not be talked to.
    if (hasCause(e, ConnectException.class)
        || hasCause(e, java.io.IOException.class)
        || hasCause(e, java.util.concurrent.TimeoutException.class)
        || hasCause(e, software.amazon.awssdk.core.exception.SdkClientException.class)) {
      return new RetriableException(
          "Cannot reach DynamoDB (while trying to "
              + what
              + ")"
              + where()
              + ": "
              + e
              + ". Check 'dynamodb-endpoint' and 'region' and that the endpoint is reachable from this host.",
          e);
    }
    return new RetriableException("DynamoDB failed to " + what + where() + ": " + e, e);
  }

  private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    kinesis.close();
    dynamo.close();
    cloudWatch.close();
    http.close();
  }
}
