/**
 * tributary's consumers decode Fetch responses themselves (src/connectors/kafka/consumer-fetch-decoding.ts),
 * by a switch in kafkajs' Fetch v11 decoder that only their fetch loops turn on. On a real broker:
 * a consumer started inside the switch gets log records, one started outside (a user's own kafkajs
 * consumer in the same process) gets kafkajs' messages, and both get the same records, with an
 * aborted transaction skipped.
 */
import { Kafka, logLevel, type EachBatchPayload } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { withOwnFetchDecoding } from '../../src/connectors/kafka/consumer-fetch-decoding.js';
import { kafkaBrokers } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

interface Seen {
  readonly offset: string;
  readonly key: string;
  readonly value: string;
  readonly timestamp: number;
  readonly numericOffset: boolean;
}

async function consumeAll(kafka: Kafka, topic: string, expected: number, own: boolean): Promise<Seen[]> {
  const seen: Seen[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('fetch-decoding'), maxBytesPerPartition: 512 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const eachBatch = async ({ batch }: EachBatchPayload): Promise<void> => {
    for (const m of batch.messages) {
      seen.push({ offset: String(m.offset), key: String(m.key), value: String(m.value), timestamp: Number(m.timestamp), numericOffset: typeof m.offset === 'number' });
    }
    await Promise.resolve();
  };
  const run = (): Promise<void> => consumer.run({ eachBatch });
  await (own ? withOwnFetchDecoding(run) : run());
  const deadline = Date.now() + 30_000;
  while (seen.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // nothing more arrives (an aborted record would)
  await consumer.disconnect();
  return seen;
}

describe('tributary decodes its own consumers\' Fetch responses, and only theirs', () => {
  it('gives a consumer started inside the switch log records, one started outside kafkajs\' messages, with the same records and the aborted transaction skipped', async () => {
    const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const topic = uniqueName('fetch-decoding');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 3}`, value: `plain-${i}` })) });
    await producer.disconnect();
    const transactional = kafka.producer({ transactionalId: uniqueName('fetch-decoding-tx'), idempotent: true, maxInFlightRequests: 1 });
    await transactional.connect();
    const aborted = await transactional.transaction();
    await aborted.send({ topic, messages: [{ key: 'x', value: 'aborted-0' }, { key: 'x', value: 'aborted-1' }] });
    await aborted.abort();
    const committed = await transactional.transaction();
    await committed.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: 'y', value: `committed-${i}` })) });
    await committed.commit();
    await transactional.disconnect();

    const theirs = await consumeAll(kafka, topic, 50, false);
    const ours = await consumeAll(kafka, topic, 50, true);
    expect(theirs.every((m) => !m.numericOffset)).toBe(true);
    expect(ours.every((m) => m.numericOffset)).toBe(true);
    expect(ours.map(({ numericOffset: _, ...m }) => m)).toEqual(theirs.map(({ numericOffset: _, ...m }) => m));
    expect(ours.map((m) => m.value)).toEqual([...Array.from({ length: 40 }, (_, i) => `plain-${i}`), ...Array.from({ length: 10 }, (_, i) => `committed-${i}`)]);
  }, 90_000);
});
