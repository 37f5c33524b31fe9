package io.tributary.connector.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.BrokerNotAvailableException;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.junit.jupiter.api.Test;

/** Which Kafka client errors the runtime retries. */
class KafkaClientsTest {
  @Test
  void brokerRestartErrorsAreTransientWhereverTheyAreInTheChain() {
    assertThat(KafkaClients.isTransient(new TimeoutException("Timeout of 30000ms expired")))
        .isTrue();
    assertThat(KafkaClients.isTransient(new DisconnectException("disconnected"))).isTrue();
    assertThat(KafkaClients.isTransient(new NetworkException("connection lost"))).isTrue();
    assertThat(KafkaClients.isTransient(new BrokerNotAvailableException("broker 1"))).isTrue();
    assertThat(
            KafkaClients.isTransient(
                new ExecutionException(new CoordinatorNotAvailableException("c"))))
        .isTrue();
    // a producer in error state reports the send failure as the cause
    assertThat(
            KafkaClients.isTransient(
                new KafkaException(
                    "Cannot execute transactional method because we are in an error state",
                    new TimeoutException("Expiring 3 record(s)"))))
        .isTrue();
    assertThat(KafkaClients.isTransient(new TransactionAbortableException("abort and retry")))
        .isTrue();
    assertThat(KafkaClients.isTransient(new InvalidProducerEpochException("epoch bumped")))
        .isTrue();
  }

  @Test
  void fencingAuthenticationAndAuthorizationAreNot() {
    assertThat(KafkaClients.isTransient(new ProducerFencedException("another instance"))).isFalse();
    assertThat(KafkaClients.isTransient(new SaslAuthenticationException("bad password"))).isFalse();
    assertThat(KafkaClients.isTransient(new TopicAuthorizationException("denied"))).isFalse();
    assertThat(
            KafkaClients.isTransient(
                new KafkaException("fenced", new ProducerFencedException("x"))))
        .isFalse();
    assertThat(
            KafkaClients.isTransient(new TimeoutException("t", new ProducerFencedException("x"))))
        .isFalse();
    assertThat(KafkaClients.isTransient(new KafkaException("unknown"))).isFalse();
  }
}
