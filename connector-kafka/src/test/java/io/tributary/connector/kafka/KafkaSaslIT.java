package io.tributary.connector.kafka;

import static io.tributary.connector.kafka.TestRecords.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBroker.SaslPlain;
import io.tributary.testing.kafka.KafkaBrokerExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kafka.*} security settings reach the real clients: a pipeline reads and writes only through the broker's
 * SASL_PLAINTEXT listener (PLAIN), and a wrong password fails the pipeline with Kafka's authentication error, the
 * password never shown.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaSaslIT {
  private final KafkaBroker kafka;
  private final CheckedProducer producer;
  private SaslPlain sasl;
  private String in;
  private String out;
  private String pipelineId;

  @TempDir Path checkpointDir;

  KafkaSaslIT(KafkaBroker kafka) {
    this.kafka = kafka;
    this.producer = new CheckedProducer(kafka.bootstrapServers());
  }

  @BeforeEach
  void topics(TestInfo info) {
    Assumptions.assumeTrue(kafka.saslPlain().isPresent(), "this broker kind has no SASL listener");
    sasl = kafka.saslPlain().orElseThrow();
    String name = info.getTestMethod().orElseThrow().getName();
    in = name + "-in";
    out = name + "-out";
    pipelineId = "p-" + name;
    kafka.createTopic(in, 2);
    kafka.createTopic(out, 2);
  }

  @AfterEach
  void tearDown() {
    producer.close();
  }

  /** Records r0..r(n-1) through the plaintext listener, record i in partition i % 2, no key. */
  private void produce(int n) throws Exception {
    producer.send(0, n, i -> new ProducerRecord<>(in, i % 2, null, bytes("r" + i)));
  }

  /** Source and sink options against the SASL listener with the given client settings. */
  private Pipeline pipeline(Map<String, String> security) {
    Map<String, Object> source = new HashMap<>();
    source.put("bootstrap-servers", sasl.bootstrapServers());
    source.put("topics", List.of(in));
    source.put("starting-position", "earliest");
    Map<String, Object> sink = new HashMap<>();
    sink.put("bootstrap-servers", sasl.bootstrapServers());
    sink.put("topic", out);
    security.forEach((k, v) -> {
      source.put("kafka." + k, v);
      sink.put("kafka." + k, v);
    });
    return Pipeline.builder(pipelineId)
        .checkpointDir(checkpointDir)
        .batchInterval(Duration.ofMillis(100))
        .source("in", new KafkaDirectSource(KafkaOptions.SOURCE.parse(source)))
        .sink("kafka", new KafkaSink(KafkaOptions.SINK.parse(sink)))
        .build();
  }

  @Test
  void sourceAndTransactionalSinkAuthenticateWithSaslPlain() throws Exception {
    produce(200);
    Pipeline p = pipeline(sasl.clientProperties());
    p.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> kafka.readCommitted(out).size() >= 200);
    } finally {
      p.stopGracefully();
    }
    assertThat(p.failure()).isEmpty();
    assertThat(kafka.readCommitted(out))
        .extracting(ConsumerRecord::value)
        .extracting(v -> new String(v, StandardCharsets.UTF_8))
        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 200).mapToObj(i -> "r" + i).toList());
  }

  @Test
  void wrongPasswordFailsThePipelineWithKafkasAuthenticationErrorAndNeverShowsThePassword() throws Exception {
    produce(5);
    String wrong = "not-" + sasl.password();
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    Pipeline p = pipeline(sasl.clientProperties(sasl.username(), wrong));
    Throwable failure;
    try {
      failure = catchThrowable(p::start); // sinks open (and authenticate) before anything runs
    } finally {
      System.setErr(original);
      p.stopNow();
    }
    assertThat(failure).as("start with a wrong SASL password").isNotNull();
    StringBuilder chain = new StringBuilder(String.valueOf(failure));
    for (Throwable t = failure.getCause(); t != null; t = t.getCause()) {
      chain.append(" <- ").append(t);
    }
    assertThat(chain.toString())
        .containsIgnoringCase("authentication failed")
        .contains("check the kafka.security.protocol, kafka.sasl.*")
        .doesNotContain(wrong);
    assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain(wrong);
    assertThat(kafka.readCommitted(out)).isEmpty();
  }
}
