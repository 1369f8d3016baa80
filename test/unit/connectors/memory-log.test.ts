import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../../src/connectors/log.js';
import {
  ClientStateError,
  InvalidOptionError,
  InvalidTopicError,
  MemoryLog,
  PartitionCountMismatchError,
  RecordTooLargeError,
  UnknownPartitionError,
  UnknownTopicError,
} from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';

describe('MemoryLog producer', () => {
  it('appends records with offsets from 0 per partition, in send order', async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', 3);
    const producer = log.producer();
    for (let i = 0; i < 30; i++) await producer.send('clicks', [{ key: `user-${i % 5}`, value: `v${i}` }]);

    for (let p = 0; p < 3; p++) {
      const records = log.read('clicks', p);
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
      const values = records.map((r) => Number(r.value!.toString().slice(1)));
      expect(values).toEqual([...values].sort((a, b) => a - b));
      for (const r of records) expect(r.partition).toBe(partitionForKey(r.key!, 3));
    }
    expect(log.read('clicks')).toHaveLength(30);
  });

  it('stores keys, values and header values as Buffers copied at send time', async () => {
    const log = new MemoryLog();
    log.createTopic('t');
    const value = Buffer.from('abc');
    await log.producer().send('t', [{ key: 'k', value, headers: { origin: 'web', raw: Buffer.from([1, 2]) } }]);
    value[0] = 0x7a;

    const [record] = log.read('t');
    expect(record.key).toEqual(Buffer.from('k'));
    expect(record.value!.toString()).toBe('abc');
    expect(record.headers).toEqual({ origin: Buffer.from('web'), raw: Buffer.from([1, 2]) });
  });

  it('keeps null keys and values as null and spreads keyless records round-robin', async () => {
    const log = new MemoryLog({ defaultPartitions: 2 });
    log.createTopic('t');
    await log.producer().send('t', [{ value: null }, { value: 'x' }, { key: null, value: 'y' }]);
    expect(log.read('t', 0).map((r) => r.value?.toString() ?? null)).toEqual([null, 'y']);
    expect(log.read('t', 1).map((r) => [r.key, r.value?.toString()])).toEqual([[null, 'x']]);
  });

  it('uses an explicit partition over the key', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 4);
    await log.producer().send('t', [{ key: 'user-1', value: 'x', partition: 3 }]);
    expect(log.read('t', 3)).toHaveLength(1);
  });

  it("stamps records with the log's clock unless the producer gives a timestamp", async () => {
    let now = 1_000;
    const log = new MemoryLog({ clock: () => now });
    log.createTopic('t');
    const producer = log.producer();
    await producer.send('t', [{ value: 'a' }, { value: 'b', timestamp: 42 }]);
    now = 2_000;
    await producer.send('t', [{ value: 'c' }]);
    expect(log.read('t').map((r) => r.timestamp)).toEqual([1_000, 42, 2_000]);
  });

  it('rejects a record larger than maxMessageBytes, naming the topic and the size, and appends nothing', async () => {
    const log = new MemoryLog({ maxMessageBytes: 100 });
    log.createTopic('t');
    const records: OutgoingRecord[] = [
      { value: 'ok' },
      { key: 'k'.repeat(10), value: 'v'.repeat(80), headers: { h: 'x'.repeat(10) } },
    ];

    const error = await log.producer().send('t', records).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect(error).toMatchObject({ topic: 't', sizeBytes: 101, maxBytes: 100, retriable: false });
    expect((error as Error).message).toContain('"t"');
    expect(log.read('t')).toHaveLength(0);
  });

  it("defaults maxMessageBytes to Kafka's 1,048,576 bytes", async () => {
    const log = new MemoryLog();
    log.createTopic('t');
    const producer = log.producer();
    await producer.send('t', [{ value: Buffer.alloc(1_048_576) }]);
    await expect(producer.send('t', [{ value: Buffer.alloc(1_048_577) }])).rejects.toBeInstanceOf(RecordTooLargeError);
  });

  it('rejects a send to an unknown topic with an error naming it', async () => {
    const log = new MemoryLog();
    const error = await log.producer().send('nope', [{ value: 'x' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTopicError);
    expect(error).toMatchObject({ topic: 'nope' });
    expect((error as Error).message).toContain('"nope"');
  });

  it('creates unknown topics with defaultPartitions when autoCreateTopics is set', async () => {
    const log = new MemoryLog({ autoCreateTopics: true, defaultPartitions: 4 });
    await log.producer().send('fresh', [{ value: 'x' }]);
    expect(await log.admin().partitionCount('fresh')).toBe(4);
  });

  it('rejects a partition the topic does not have', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 2);
    await expect(log.producer().send('t', [{ value: 'x', partition: 2 }])).rejects.toBeInstanceOf(UnknownPartitionError);
    await expect(log.producer().send('t', [{ value: 'x', partition: 0.5 }])).rejects.toBeInstanceOf(UnknownPartitionError);
  });

  it('refuses to send once closed', async () => {
    const log = new MemoryLog();
    log.createTopic('t');
    const producer = log.producer();
    await producer.close();
    await expect(producer.send('t', [{ value: 'x' }])).rejects.toBeInstanceOf(ClientStateError);
  });
});

describe('MemoryLog admin', () => {
  it('creates missing topics and reports partition counts and end offsets', async () => {
    const log = new MemoryLog();
    const admin = log.admin();
    await admin.ensureTopics([{ name: 'a', partitions: 2 }, { name: 'b', partitions: 1, replicationFactor: 3 }]);
    await log.producer().send('a', [{ value: 'x', partition: 1 }, { value: 'y', partition: 1 }]);

    expect(await admin.partitionCount('a')).toBe(2);
    expect(await admin.partitionCount('missing')).toBeUndefined();
    expect(await admin.endOffsets('a')).toEqual([
      { topic: 'a', partition: 0, offset: 0 },
      { topic: 'a', partition: 1, offset: 2 },
    ]);
    await expect(admin.endOffsets('missing')).rejects.toBeInstanceOf(UnknownTopicError);
  });

  it('accepts an existing topic with the same partition count and rejects another count, creating nothing', async () => {
    const log = new MemoryLog();
    const admin = log.admin();
    await admin.ensureTopics([{ name: 'a', partitions: 2 }]);
    await admin.ensureTopics([{ name: 'a', partitions: 2 }]);

    const error = await admin
      .ensureTopics([{ name: 'new', partitions: 1 }, { name: 'a', partitions: 3 }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartitionCountMismatchError);
    expect(error).toMatchObject({ topic: 'a', expected: 3, actual: 2 });
    expect(await admin.partitionCount('new')).toBeUndefined();
  });

  it('rejects topic names and partition counts Kafka would reject', async () => {
    const log = new MemoryLog();
    await expect(log.admin().ensureTopics([{ name: 'a:b', partitions: 1 }])).rejects.toBeInstanceOf(InvalidTopicError);
    await expect(log.admin().ensureTopics([{ name: '..', partitions: 1 }])).rejects.toBeInstanceOf(InvalidTopicError);
    await expect(log.admin().ensureTopics([{ name: 'a', partitions: 0 }])).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

describe('MemoryLog', () => {
  it("is a LogConnector of kind 'memory'", () => {
    expect(new MemoryLog().kind).toBe('memory');
  });

  it('fails fast on invalid options, naming the setting', () => {
    expect(() => new MemoryLog({ defaultPartitions: 0 })).toThrow(/defaultPartitions/);
    expect(() => new MemoryLog({ maxMessageBytes: -1 })).toThrow(/maxMessageBytes/);
  });

  it('reads back a partition or the whole topic, and names unknown topics and partitions', async () => {
    const log = new MemoryLog();
    log.createTopic('t', 2);
    await log.producer().send('t', [{ value: 'b', partition: 1 }, { value: 'a', partition: 0 }]);
    expect(log.read('t').map((r) => r.value!.toString())).toEqual(['a', 'b']);
    expect(() => log.read('missing')).toThrow(UnknownTopicError);
    expect(() => log.read('t', 2)).toThrow(UnknownPartitionError);
  });

  it('creates a topic idempotently but not with another partition count', () => {
    const log = new MemoryLog({ defaultPartitions: 3 });
    log.createTopic('t');
    log.createTopic('t', 3);
    expect(() => log.createTopic('t', 1)).toThrow(PartitionCountMismatchError);
  });
});
