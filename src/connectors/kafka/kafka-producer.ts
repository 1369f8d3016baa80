import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { LogProducer, OutgoingRecord } from '../log.js';
import { KafkaError, kafkaError, lostProducerSession } from './kafka-errors.js';
import { appendedOffset, toKafkaMessages } from './kafka-messages.js';

/**
 * An idempotent kafkajs producer (acks=all, one request in flight, so retries neither duplicate
 * nor reorder), connected on first use. Keys pick partitions with murmur2, as Java clients do.
 *
 * A send the broker refuses with the producer's session lost (an out-of-order sequence number, an
 * unknown producer id: after a broker restart) fails retriable, and the producer is replaced by a
 * new one (a new producer id), so that the caller's retry goes through: kafkajs would fail every
 * later send the same way (kafkajs#598). Its records may then be written twice, as any retried
 * send at least once (the Java producer bumps its epoch instead, KIP-360).
 *
 * @example
 * const producer = new KafkaProducer(kafka);
 * await producer.send('page-views', [{ key: '/home', value: '{"views":3}' }]);
 */
export class KafkaProducer implements LogProducer {
  private producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(private readonly kafka: Kafka) {
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.connect();
    try {
      await this.producer.send({
        topic,
        acks: -1,
        messages: toKafkaMessages(records),
      });
    } catch (err) {
      throw await this.failed(`producing ${records.length} records to ${topic}`, err);
    }
  }

  async append(topic: string, partition: number, records: readonly OutgoingRecord[]): Promise<number> {
    await this.connect();
    let metadata;
    try {
      metadata = await this.producer.send({
        topic,
        acks: -1,
        messages: toKafkaMessages(records, partition),
      });
    } catch (err) {
      throw await this.failed(`appending ${records.length} records to ${topic}-${partition}`, err);
    }
    return appendedOffset(metadata, topic, partition);
  }

  /** The error for a failed send; a lost session replaces the producer first, and is retriable. */
  private async failed(doing: string, err: unknown): Promise<KafkaError> {
    if (!lostProducerSession(err)) return kafkaError(doing, err);
    const lost = this.producer;
    this.producer = this.newProducer();
    this.connected = undefined;
    await lost.disconnect().catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    return new KafkaError(`kafka: ${doing} failed: ${message} (the idempotent producer's session was lost: a new producer takes the next send)`, { retriable: true, cause: err });
  }

  private async connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw kafkaError('connecting the producer', err);
    });
    await this.connected;
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
    this.connected = undefined;
  }
}
