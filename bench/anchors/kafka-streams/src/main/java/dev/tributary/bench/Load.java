package dev.tributary.bench;

import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes the {@link DataSet} to a topic.
 *
 * <pre>
 * Load --bootstrap B --topic T --records N --keys K --span-ms S --base-ms B [--value-bytes 100]
 *      [--flush-partitions P] [--rate R]
 * </pre>
 *
 * Without --rate: as fast as the producer goes (acks=1, linger.ms=10, batch.size=128 KiB, no
 * compression, as the ingest pre-load), each record timestamped with its event time; then, with
 * --flush-partitions P, one record per partition 0..P-1 (key "~flush", event time one hour past
 * the data) so that every window and session of the data closes, and its results are emitted,
 * on every partition.
 *
 * With --rate R: R records per second (paced every millisecond), timestamped by the producer when
 * sent (CreateTime = now), linger.ms=5 (the Java producer default since Kafka 4.0): the latency
 * scenario's input. Prints "sent N" at the end.
 */
public final class Load {
  public static void main(String[] argv) throws Exception {
    Args args = new Args(argv);
    long n = args.getLong("records");
    DataSet data = new DataSet(n, (int) args.getLong("keys"), args.getLong("span-ms", 100_000), args.getLong("base-ms", 0), (int) args.getLong("value-bytes", 100));
    String topic = args.get("topic");
    long rate = args.getLong("rate", 0);
    int flushPartitions = (int) args.getLong("flush-partitions", 0);

    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
    props.put(ProducerConfig.ACKS_CONFIG, "1");
    props.put(ProducerConfig.LINGER_MS_CONFIG, rate > 0 ? "5" : "10");
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, "131072");
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
    AtomicReference<Exception> failure = new AtomicReference<>();
    AtomicLong acked = new AtomicLong();
    long started = System.nanoTime();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      if (rate <= 0) {
        for (long i = 0; i < n; i++) {
          producer.send(new ProducerRecord<>(topic, null, data.timestamp(i), data.key(i), data.value(i)), (md, e) -> {
            if (e != null) failure.compareAndSet(null, e);
            else acked.incrementAndGet();
          });
          if (failure.get() != null) throw failure.get();
        }
        long flushTs = data.timestamp(n - 1) + 3_600_000L;
        for (int p = 0; p < flushPartitions; p++) {
          producer.send(new ProducerRecord<>(topic, p, flushTs, "~flush", new byte[0]), (md, e) -> {
            if (e != null) failure.compareAndSet(null, e);
            else acked.incrementAndGet();
          });
        }
      } else {
        long i = 0;
        long t0 = System.nanoTime();
        while (i < n) {
          long due = Math.min(n, (System.nanoTime() - t0) * rate / 1_000_000_000L + 1);
          while (i < due) {
            producer.send(new ProducerRecord<>(topic, null, null, data.key(i), data.value(i)), (md, e) -> {
              if (e != null) failure.compareAndSet(null, e);
              else acked.incrementAndGet();
            });
            i++;
          }
          if (failure.get() != null) throw failure.get();
          Thread.sleep(1);
        }
      }
      producer.flush();
    }
    if (failure.get() != null) throw failure.get();
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("sent %d records in %.2f s (%.0f records/s)%n", acked.get(), seconds, acked.get() / seconds);
  }
}
