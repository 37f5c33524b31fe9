package io.tributary.connector.kafka;

import static io.tributary.connector.kafka.TestRecords.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.tributary.core.runtime.Pipeline;
import io.tributary.testing.kafka.KafkaBroker;
import io.tributary.testing.kafka.KafkaBroker.SaslPlain;
import io.tributary.testing.kafka.KafkaBroker.Tls;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kafka.*} security settings reach the real clients: a pipeline reads and writes only
 * through the broker's SASL_PLAINTEXT listener (PLAIN), or only through its TLS listener; a wrong
 * password, or a broker certificate the client does not trust, fails the start with Kafka's
 * authentication error and a hint at those settings, the password never shown.
 */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaSecurityIT {
  private final KafkaBroker kafka;
  private final CheckedProducer producer;
  private SaslPlain sasl;
  private Tls tls;
  private String in;
  private String out;
  private String pipelineId;

  @TempDir Path checkpointDir;

  /**
   * The run's broker when it has the SASL and TLS listeners (the local broker, and the container
   * broker from the local image), else (a container broker from another image has neither) a local
   * broker of this class's own, started once and closed after it.
   */
  private static KafkaBroker ownLocalBroker;

  KafkaSecurityIT(KafkaBroker runBroker) {
    this.kafka =
        runBroker.saslPlain().isPresent() && runBroker.tls().isPresent()
            ? runBroker
            : ownLocalBroker();
    this.producer = new CheckedProducer(kafka.bootstrapServers());
  }

  private static synchronized KafkaBroker ownLocalBroker() {
    if (ownLocalBroker == null) {
      ownLocalBroker = KafkaBroker.startLocal();
    }
    return ownLocalBroker;
  }

  @AfterAll
  static synchronized void closeOwnLocalBroker() {
    if (ownLocalBroker != null) {
      ownLocalBroker.close();
      ownLocalBroker = null;
    }
  }

  @BeforeEach
  void topics(TestInfo info) {
    sasl = kafka.saslPlain().orElseThrow();
    tls = kafka.tls().orElseThrow();
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

  /**
   * Source and sink options against the listener at {@code bootstrap} with the given client
   * settings.
   */
  private Pipeline pipeline(String bootstrap, Map<String, String> security) {
    Map<String, Object> source = new HashMap<>();
    source.put("bootstrap-servers", bootstrap);
    source.put("topics", List.of(in));
    source.put("starting-position", "earliest");
    Map<String, Object> sink = new HashMap<>();
    sink.put("bootstrap-servers", bootstrap);
    sink.put("topic", out);
    security.forEach(
        (k, v) -> {
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
    runsThrough(sasl.bootstrapServers(), sasl.clientProperties());
  }

  @Test
  void sourceAndTransactionalSinkConnectOverTls() throws Exception {
    runsThrough(tls.bootstrapServers(), tls.clientProperties());
  }

  private void runsThrough(String bootstrap, Map<String, String> security) throws Exception {
    produce(200);
    Pipeline p = pipeline(bootstrap, security);
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
        .containsExactlyInAnyOrderElementsOf(
            IntStream.range(0, 200).mapToObj(i -> "r" + i).toList());
  }

  @Test
  void wrongPasswordFailsThePipelineWithKafkasAuthenticationErrorAndNeverShowsThePassword()
      throws Exception {
    String wrong = "not-" + sasl.password();
    String log =
        failsToStart(
            sasl.bootstrapServers(),
            sasl.clientProperties(sasl.username(), wrong),
            "authentication failed");
    assertThat(log).doesNotContain(wrong);
  }

  @Test
  void brokerCertificateTheClientDoesNotTrustFailsTheStart() throws Exception {
    failsToStart(
        tls.bootstrapServers(), Map.of("security.protocol", "SSL"), "SSL handshake failed");
  }

  /**
   * Starts a pipeline that cannot connect: the start fails (sinks open, and authenticate, before
   * anything runs) with {@code expected} in its cause chain and the sink's hint at the security
   * settings. Returns what was logged.
   */
  private String failsToStart(String bootstrap, Map<String, String> security, String expected)
      throws Exception {
    produce(5);
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    Pipeline p = pipeline(bootstrap, security);
    Throwable failure;
    try {
      failure = catchThrowable(p::start);
    } finally {
      System.setErr(original);
      p.stopNow();
    }
    assertThat(failure).as("start with %s", security.keySet()).isNotNull();
    StringBuilder chain = new StringBuilder(String.valueOf(failure));
    for (Throwable t = failure.getCause(); t != null; t = t.getCause()) {
      chain.append(" <- ").append(t);
    }
    assertThat(chain.toString())
        .containsIgnoringCase(expected)
        .contains("check the kafka.security.protocol, kafka.sasl.* and kafka.ssl.* settings");
    assertThat(kafka.readCommitted(out)).isEmpty();
    return chain + "\n" + captured.toString(StandardCharsets.UTF_8);
  }
}
