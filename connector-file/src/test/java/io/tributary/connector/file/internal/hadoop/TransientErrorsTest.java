package io.tributary.connector.file.internal.hadoop;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.file.sink.FileSinkException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.AccessDeniedException;
import org.apache.hadoop.ipc.StandbyException;
import org.apache.hadoop.security.AccessControlException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** Which file-system errors the runtime retries (transient) and which fail at once. */
class TransientErrorsTest {
  private static S3Exception s3(int status) {
    return (S3Exception)
        S3Exception.builder().statusCode(status).message("status " + status).build();
  }

  @Test
  void throttlingServerErrorsAndBrokenConnectionsAreTransient() {
    assertThat(HadoopFileSystems.isTransient(new IOException("put failed", s3(503)))).isTrue();
    assertThat(HadoopFileSystems.isTransient(new IOException("get failed", s3(500)))).isTrue();
    assertThat(HadoopFileSystems.isTransient(new IOException(s3(429)))).isTrue();
    assertThat(HadoopFileSystems.isTransient(new SocketException("Connection reset"))).isTrue();
    assertThat(
            HadoopFileSystems.isTransient(
                new IOException("read", new SocketTimeoutException("Read timed out"))))
        .isTrue();
    assertThat(HadoopFileSystems.isTransient(new ConnectException("Connection refused"))).isTrue();
    assertThat(HadoopFileSystems.isTransient(new StandbyException("namenode in standby"))).isTrue();
  }

  @Test
  void permissionMissingFilesAndUnknownErrorsAreNot() {
    assertThat(HadoopFileSystems.isTransient(new IOException("forbidden", s3(403)))).isFalse();
    assertThat(HadoopFileSystems.isTransient(new AccessDeniedException("s3a://b/k"))).isFalse();
    assertThat(HadoopFileSystems.isTransient(new AccessControlException("Permission denied")))
        .isFalse();
    assertThat(HadoopFileSystems.isTransient(new FileNotFoundException("gone"))).isFalse();
    assertThat(HadoopFileSystems.isTransient(new IOException("No space left on device"))).isFalse();
    // denied wins wherever it is in the chain
    assertThat(HadoopFileSystems.isTransient(new AccessDeniedException("k", null, null))).isFalse();
  }

  @Test
  void aFileSinkExceptionIsRetriedOnlyForATransientCause() {
    assertThat(
            new FileSinkException("publish", new SocketException("Connection reset")).isRetriable())
        .isTrue();
    assertThat(new FileSinkException("publish", new IOException("x", s3(503))).isRetriable())
        .isTrue();
    assertThat(
            new FileSinkException("publish", new AccessDeniedException("s3a://b/k")).isRetriable())
        .isFalse();
    assertThat(new FileSinkException("publish", new IOException("quota exceeded")).isRetriable())
        .isFalse();
  }
}
