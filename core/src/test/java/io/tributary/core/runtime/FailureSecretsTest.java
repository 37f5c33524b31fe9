package io.tributary.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tributary.core.api.AtLeastOnceSink;
import io.tributary.core.api.Record;
import io.tributary.core.api.Secrets;
import io.tributary.core.api.SinkContext;
import io.tributary.core.sources.QueueSource;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A failure whose text quotes a secret of the configuration is shown with the secret masked. */
class FailureSecretsTest {
  @TempDir Path tmp;

  @Test
  void theStatusOfAFailedPipelineNeverShowsASecretTheFailureQuotes() {
    QueueSource q = new QueueSource(false);
    q.pushStrings("a");
    Pipeline p =
        Pipeline.builder("secret")
            .checkpointDir(tmp)
            .batchInterval(Duration.ofMillis(20))
            .secrets(List.of("hunter2-password"))
            .source("q", q)
            .sink(
                "leaky",
                new AtLeastOnceSink() {
                  @Override
                  public void open(SinkContext context) {}

                  @Override
                  public void write(long batchId, List<Record> records) throws IOException {
                    throw new IOException(
                        "login failed for user bob with password hunter2-password",
                        new IllegalStateException("retry with hunter2-password"));
                  }

                  @Override
                  public void close() {}
                })
            .build();
    p.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> p.status().state() == PipelineState.FAILED);
    assertThat(p.status().failure())
        .contains("login failed for user bob")
        .contains(Secrets.MASK)
        .doesNotContain("hunter2");
  }

  @Test
  void aScrubbedCopyKeepsClassesCausesAndStackTracesButNotTheSecret() {
    IOException cause = new IOException("token abcd-secret-token rejected");
    RuntimeException t = new RuntimeException("write failed: abcd-secret-token", cause);
    Throwable s = Secrets.scrubbed(t, List.of("abcd-secret-token"));
    assertThat(s.toString()).isEqualTo("java.lang.RuntimeException: write failed: " + Secrets.MASK);
    assertThat(s.getCause().toString())
        .isEqualTo("java.io.IOException: token " + Secrets.MASK + " rejected");
    assertThat(s.getStackTrace()).isEqualTo(t.getStackTrace());
    assertThat(Secrets.scrubbed(t, List.of())).isSameAs(t);
  }
}
