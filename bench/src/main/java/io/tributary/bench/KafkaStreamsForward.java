package io.tributary.bench;

import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The peer of the Kafka forwarding benchmark: a Kafka Streams application forwarding one topic to
 * another with exactly-once ({@code builder.stream(in).to(out)}, {@code
 * processing.guarantee=exactly_once_v2}), the tool a user would pick instead of the gateway. Every
 * other setting is Kafka Streams' default (commit interval 100 ms under exactly-once, one stream
 * thread). Runs until it is terminated; {@link KafkaForwardBench} starts it as its own process and
 * watches the output topic.
 *
 * <p>Usage: {@code KafkaStreamsForward <bootstrap-servers> <in-topic> <out-topic> <application-id>
 * <state-dir>}.
 */
public final class KafkaStreamsForward {
  private KafkaStreamsForward() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 5) {
      System.err.println(
          "usage: KafkaStreamsForward <bootstrap-servers> <in-topic> <out-topic> <application-id> <state-dir>");
      System.exit(2);
    }
    Properties p = new Properties();
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[3]);
    p.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(args[1]).to(args[2]);
    KafkaStreams streams = new KafkaStreams(builder.build(), p);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  streams.close();
                  stopped.countDown();
                },
                "kafka-streams-forward-shutdown"));
    streams.start();
    stopped.await();
  }
}
