import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { LogProducer, OutgoingRecord } from '../log.js';
import { kafkaError } from './kafka-errors.js';
import { appendedOffset, toKafkaMessages } from './kafka-messages.js';

/**
 * An idempotent kafkajs producer (acks=all, one request in flight, so retries neither duplicate
 * nor reorder), connected on first use. Keys pick partitions with murmur2, as Java clients do.
 *
 * @example
 * const producer = new KafkaProducer(kafka);
 * await producer.send('page-views', [{ key: '/home', value: '{"views":3}' }]);
 */
export class KafkaProducer implements LogProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
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
      throw kafkaError(`producing ${records.length} records to ${topic}`, err);
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
      throw kafkaError(`appending ${records.length} records to ${topic}-${partition}`, err);
    }
    return appendedOffset(metadata, topic, partition);
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
