package io.tributary.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The write ceiling of an exactly-once forwarder, run as its own process like the contenders: a
 * transactional producer that only writes (nothing read, nothing processed) N records of the
 * benchmark's size round-robin over the output topic's partitions, in transactions of {@code
 * records-per-transaction} records, with the exactly-once sink's producer settings ({@code
 * acks=all}, idempotence, {@code batch.size} 256 KiB, {@code linger.ms} 20). What it reaches is
 * what the broker takes in from one transactional producer on this machine; a forwarder must also
 * read (and the broker serve the reads) and commit its position, so it cannot go faster.
 *
 * <p>Prints one line {@code result seconds=... records=... vmhwm-kb=...}: the seconds from the
 * first send to the last commit.
 *
 * <p>Usage: {@code KafkaTxnWrite <bootstrap-servers> <topic> <partitions> <records>
 * <records-per-transaction> <transactional-id>}.
 */
public final class KafkaTxnWrite {
  private KafkaTxnWrite() {}

  public static void main(String[] args) {
    if (args.length != 6) {
      System.err.println(
          "usage: KafkaTxnWrite <bootstrap-servers> <topic> <partitions> <records>"
              + " <records-per-transaction> <transactional-id>");
      System.exit(2);
    }
    String topic = args[1];
    int partitions = Integer.parseInt(args[2]);
    long records = Long.parseLong(args[3]);
    long perTxn = Long.parseLong(args[4]);
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("transactional.id", args[5]);
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    p.put("linger.ms", "20");
    p.put("batch.size", Integer.toString(256 * 1024));
    byte[] value = new byte[100];
    Arrays.fill(value, (byte) 'x');
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      long t0 = System.nanoTime();
      long sent = 0;
      while (sent < records) {
        producer.beginTransaction();
        long end = Math.min(records, sent + perTxn);
        for (; sent < end; sent++) {
          producer.send(new ProducerRecord<>(topic, (int) (sent % partitions), null, value));
        }
        producer.commitTransaction();
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "result seconds=%.6f records=%d vmhwm-kb=%d%n",
          seconds, sent, KafkaPlainRead.vmHwmKb(Path.of("/proc/self/status")));
    }
  }
}
