/**
 * Proves the test infrastructure: the shared Kafka and NATS that test/global-setup.ts
 * provides, and the own-broker API (scripts/services) that the chaos suite uses.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kafka, logLevel, type Consumer, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startKafkaBroker,
  startNatsServer,
  type KafkaBrokerHandle,
  type NatsServerHandle,
} from '../../scripts/services/index.js';
import { kafkaBrokers, natsUrl } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

interface Seen {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: string;
}

function kafkaClient(config: Partial<KafkaConfig> & Pick<KafkaConfig, 'brokers'>): Kafka {
  return new Kafka({ clientId: uniqueName('smoke'), logLevel: logLevel.WARN, ...config });
}

/** Resolves when `predicate(seen)` holds, rejects after timeoutMs. */
async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Produces `count` keyed records (6 keys) and returns the end offset of each partition. */
async function produceKeyed(kafka: Kafka, topic: string, count: number): Promise<Map<number, number>> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: count }, (_, i) => ({ key: `key-${i % 6}`, value: `value-${i}` })),
    });
  } finally {
    await producer.disconnect();
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Consumes `topic` in `groupId` with manual commits until `expected` records arrived.
 * `commitBelow(partition)` tells up to which offset (exclusive) records are committed.
 */
async function consume(
  kafka: Kafka,
  topic: string,
  groupId: string,
  expected: number,
  commitBelow: (partition: number) => number = () => 0,
): Promise<Seen[]> {
  const seen: Seen[] = [];
  // maxWaitTimeInMs: disconnect() waits for the in-flight fetch, 5 s by default.
  const consumer: Consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        seen.push({ partition, offset, key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
        if (offset < commitBelow(partition)) {
          await consumer.commitOffsets([{ topic, partition, offset: String(offset + 1) }]);
        }
      },
    });
    await until(() => seen.length >= expected, 45_000, `${expected} records from ${topic}`);
    // A moment more, so that a duplicate or a record past the end would show.
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe('the shared Kafka broker', () => {
  const kafka = kafkaClient({ brokers: kafkaBrokers() });
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  it('resumes a consumer group from its manually committed offsets after the consumer reconnects', async () => {
    const topic = uniqueName('smoke-resume');
    const groupId = uniqueName('smoke-group');
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const ends = await produceKeyed(kafka, topic, 30);
    expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(30);

    // First consumer reads everything but commits only the first half of each partition.
    const cut = new Map([...ends].map(([partition, end]) => [partition, Math.floor(end / 2)]));
    const first = await consume(kafka, topic, groupId, 30, (p) => cut.get(p) ?? 0);
    expect(first).toHaveLength(30);
    // Keyed records: each key lives on one partition, in production order.
    const partitionOfKey = new Map<string, Set<number>>();
    for (const record of first) partitionOfKey.set(record.key, (partitionOfKey.get(record.key) ?? new Set()).add(record.partition));
    for (const partitions of partitionOfKey.values()) expect(partitions.size).toBe(1);

    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committedByPartition = new Map(
      committed[0].partitions.map((p) => [p.partition, Number(p.offset) < 0 ? 0 : Number(p.offset)]),
    );
    expect(committedByPartition).toEqual(cut);

    // A new consumer in the same group gets exactly the records after the committed offsets.
    const remaining = [...ends].reduce((sum, [p, end]) => sum + end - (cut.get(p) ?? 0), 0);
    const second = await consume(kafka, topic, groupId, remaining);
    const expected = first.filter((r) => r.offset >= (cut.get(r.partition) ?? 0));
    const order = (a: Seen, b: Seen): number => a.partition - b.partition || a.offset - b.offset;
    expect([...second].sort(order)).toEqual([...expected].sort(order));

    await admin.deleteTopics({ topics: [topic] });
  });
});

describe('the shared NATS server', () => {
  it('answers a request with the reply of a subscriber on the same subject', async () => {
    const nc = await connect({ servers: natsUrl(), name: uniqueName('smoke') });
    try {
      const subject = `${uniqueName('smoke')}.echo`;
      nc.subscribe(subject, {
        callback: (err, msg) => {
          if (!err) msg.respond(msg.string().toUpperCase());
        },
      });
      const reply = await nc.request(subject, 'ping', { timeout: 5000 });
      expect(reply.string()).toBe('PING');
    } finally {
      await nc.drain();
    }
  });

  it('has JetStream enabled', async () => {
    const nc = await connect({ servers: natsUrl() });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      expect(info.limits).toBeDefined();
    } finally {
      await nc.drain();
    }
  });
});

describe('an own Kafka broker from startKafkaBroker', () => {
  let broker: KafkaBrokerHandle | undefined;

  afterEach(async () => {
    await broker?.destroy();
    broker = undefined;
  });

  it('keeps its topics and committed offsets across a SIGKILL and restart', async () => {
    broker = await startKafkaBroker({ name: 'smoke-bounce' });
    const kafka = kafkaClient({ brokers: [...broker.brokers], retry: { retries: 10, initialRetryTime: 200 } });
    const topic = uniqueName('bounce');
    const groupId = uniqueName('bounce-group');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    await produceKeyed(kafka, topic, 6);
    await consume(kafka, topic, groupId, 6, () => 4);

    const pidBefore = broker.pid;
    await broker.restart({ hard: true });
    expect(broker.pid).not.toBe(pidBefore);

    const second = await consume(kafka, topic, groupId, 2);
    expect(second.map((r) => r.offset)).toEqual([4, 5]);
  });

  it('accepts SCRAM-SHA-256 and SCRAM-SHA-512 logins with the right password and rejects a wrong one', async () => {
    broker = await startKafkaBroker({
      name: 'smoke-scram',
      sasl: { users: [{ name: 'alice', password: 'alice-secret' }] },
    });
    const saslAdmin = (sasl: SASLOptions) =>
      kafkaClient({ brokers: [...broker!.saslBrokers], sasl, retry: { retries: 0 }, logLevel: logLevel.NOTHING }).admin();
    const logins: SASLOptions[] = [
      { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' },
      { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' },
    ];
    for (const login of logins) {
      const good = saslAdmin(login);
      await good.connect();
      await expect(good.listTopics()).resolves.toBeInstanceOf(Array);
      await good.disconnect();
    }
    const bad = saslAdmin({ mechanism: 'scram-sha-256', username: 'alice', password: 'wrong' });
    await expect(bad.connect()).rejects.toThrow(/SASL|authentication/i);
    await bad.disconnect();
  });
});

describe('an own NATS server from startNatsServer', () => {
  let server: NatsServerHandle | undefined;

  afterEach(async () => {
    await server?.destroy();
    server = undefined;
  });

  it('requires its credentials and keeps its JetStream streams across a SIGKILL and restart', async () => {
    server = await startNatsServer({ name: 'smoke', auth: { user: 'bob', password: 'bob-secret' } });
    await expect(connect({ servers: server.url, user: 'bob', pass: 'wrong', reconnect: false })).rejects.toThrow(
      /Authorization/i,
    );
    const stream = uniqueName('smoke').replace(/-/g, '_');
    const nc = await connect({ servers: server.url, user: 'bob', pass: 'bob-secret' });
    await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${stream}.>`] });
    await nc.close();

    await server.restart({ hard: true });

    const again = await connect({ servers: server.url, user: 'bob', pass: 'bob-secret' });
    try {
      const info = await (await jetstreamManager(again)).streams.info(stream);
      expect(info.config.subjects).toEqual([`${stream}.>`]);
    } finally {
      await again.close();
    }
  });
});
