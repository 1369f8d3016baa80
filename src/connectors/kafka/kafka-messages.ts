import type { Message, RecordMetadata } from 'kafkajs';
import type { OutgoingRecord } from '../log.js';
import { KafkaError } from './kafka-errors.js';

/**
 * Records as kafkajs sends them: each to its own `partition`, or all to `partition` when given
 * (an append to one partition). Shared by the plain and the transactional producer.
 *
 * @example
 * await producer.send({ topic, acks: -1, messages: toKafkaMessages(records) });
 */
export function toKafkaMessages(records: readonly OutgoingRecord[], partition?: number): Message[] {
  return records.map((r) => ({
    key: r.key ?? null,
    value: r.value,
    headers: r.headers,
    partition: partition ?? r.partition,
    timestamp: r.timestamp === undefined ? undefined : String(r.timestamp),
  }));
}

/** The offset the broker gave the first record appended to `topic`-`partition` (what `LogProducer.append` returns). */
export function appendedOffset(metadata: readonly RecordMetadata[], topic: string, partition: number): number {
  const written = metadata.find((m) => m.topicName === topic && m.partition === partition);
  if (written?.baseOffset === undefined) throw new KafkaError(`kafka: appending to ${topic}-${partition}: the broker returned no offset`);
  return Number(written.baseOffset);
}
