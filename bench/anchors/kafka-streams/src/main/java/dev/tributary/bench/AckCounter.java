package dev.tributary.bench;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * A producer interceptor counting the records the broker acknowledged on the output topic (not
 * the changelogs): Kafka Streams' counterpart of tributary's sink acknowledgement.
 */
public final class AckCounter implements ProducerInterceptor<Object, Object> {
  static volatile String outputTopic = "";
  static final AtomicLong acked = new AtomicLong();
  static volatile Runnable onAck = () -> {};
  /** A second topic whose acknowledgements are counted (nexmark q7: its repartition topic), none by default. */
  static volatile String watchedTopic = "";
  static final AtomicLong watchedAcked = new AtomicLong();

  @Override
  public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
    return record;
  }

  @Override
  public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
    if (exception == null && metadata != null && outputTopic.equals(metadata.topic())) {
      acked.incrementAndGet();
      onAck.run();
    } else if (exception == null && metadata != null && watchedTopic.equals(metadata.topic())) {
      watchedAcked.incrementAndGet();
      onAck.run();
    }
  }

  @Override
  public void close() {}

  @Override
  public void configure(Map<String, ?> configs) {}
}
