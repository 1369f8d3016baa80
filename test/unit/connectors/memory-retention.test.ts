import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { MemoryPartition } from '../../../src/connectors/memory/memory-partition.js';
import { MemoryRetention } from '../../../src/connectors/memory/memory-retention.js';
import { MemoryTopic, TopicRegistry } from '../../../src/connectors/memory/memory-topic.js';

const values = (records: readonly LogRecord[]) => records.map((r) => r.value!.toString());

async function produce(log: MemoryLog, topic: string, n: number, from = 0): Promise<void> {
  await log.producer().send(topic, Array.from({ length: n }, (_, i) => ({ partition: 0, value: `v${from + i}` })));
}

/** A member of `groupId` on `topic` that takes every batch and commits where it is told. */
async function member(log: MemoryLog, groupId: string, topic: string) {
  const seen: string[] = [];
  const consumer = log.groupConsumer({ groupId, topics: [topic], fromBeginning: true });
  await consumer.start({ onAssigned: async () => undefined, onRevoked: async () => undefined, onBatch: async (b) => void seen.push(...values(b.records)) });
  return { seen, consumer, commit: (offset: number) => consumer.commit([{ topic, partition: 0, offset }]) };
}

describe('MemoryLog retention: memory stays bounded on a long run', () => {
  it('drops what every group reading the topic has committed, and nothing a group still needs', async () => {
    const log = new MemoryLog();
    log.createTopic('in', 1);
    await produce(log, 'in', 10);
    const a = await member(log, 'a', 'in');
    const b = await member(log, 'b', 'in');
    await a.commit(7);
    // b reads the topic and has not committed: nothing is dropped.
    expect(values(log.read('in'))).toHaveLength(10);
    await b.commit(4);
    expect(values(log.read('in'))).toEqual(['v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
    await b.commit(9);
    expect(values(log.read('in'))).toEqual(['v7', 'v8', 'v9']);
    await a.consumer.stop();
    await b.consumer.stop();
    // A later member of b resumes at b's commit: nothing it needs is gone.
    const again = await member(log, 'b', 'in');
    await produce(log, 'in', 2, 10);
    await expectEventually(() => expect(again.seen).toEqual(['v9', 'v10', 'v11']));
    // A new group starts at the log start, as a Kafka consumer after retention.
    const fresh = await member(log, 'c', 'in');
    await expectEventually(() => expect(fresh.seen).toEqual(['v7', 'v8', 'v9', 'v10', 'v11']));
    await again.consumer.stop();
    await fresh.consumer.stop();
  });

  it('keeps topics nobody reads, compacted topics, and everything with trimCommitted: false', async () => {
    const log = new MemoryLog();
    await log.admin().ensureTopics([{ name: 'changelog', partitions: 1, config: { 'cleanup.policy': 'compact' } }]);
    log.createTopic('out', 1);
    log.createTopic('in', 1);
    await produce(log, 'changelog', 5);
    await produce(log, 'out', 5);
    await produce(log, 'in', 5);
    const c = await member(log, 'g', 'changelog');
    await c.commit(5);
    const i = await member(log, 'g2', 'in');
    await i.commit(5);
    expect(log.read('changelog')).toHaveLength(5);
    expect(log.read('out')).toHaveLength(5);
    expect(log.read('in')).toHaveLength(0);
    await c.consumer.stop();
    await i.consumer.stop();

    const keeping = new MemoryLog({ trimCommitted: false });
    keeping.createTopic('in', 1);
    await produce(keeping, 'in', 5);
    const k = await member(keeping, 'g', 'in');
    await k.commit(5);
    expect(keeping.read('in')).toHaveLength(5);
    await k.consumer.stop();
  });

  it("honours the topic's retention.ms and retention.bytes, whoever has read the records", async () => {
    let now = 1_000_000;
    const log = new MemoryLog({ clock: () => now });
    await log.admin().ensureTopics([
      { name: 'timed', partitions: 1, config: { 'retention.ms': '60000' } },
      { name: 'sized', partitions: 1, config: { 'retention.bytes': '40000' } },
    ]);
    await produce(log, 'timed', 1_500);
    now += 120_000;
    await produce(log, 'timed', 1_000, 1_500);
    // The check runs every 1,000 records appended: the 1,500 older than 60 s are gone.
    expect(log.read('timed')).toHaveLength(1_000);
    expect(values(log.read('timed'))[0]).toBe('v1500');
    await produce(log, 'sized', 10_000);
    const held = log.read('sized');
    const bytes = held.reduce((sum, r) => sum + r.value!.length, 0);
    expect(bytes).toBeLessThanOrEqual(40_000);
    expect(bytes).toBeGreaterThan(30_000);
    expect(values(held).at(-1)).toBe('v9999');
  });

  it("reads a topic's retention config once, not at every append", () => {
    const reads: string[] = [];
    const config = new Proxy<Record<string, string>>(
      { 'retention.bytes': '40000' },
      {
        get: (target, name): unknown => {
          if (typeof name === 'string') reads.push(name);
          return Reflect.get(target, name);
        },
      },
    );
    const topic = new MemoryTopic('sized', 1, config);
    const registry = new TopicRegistry(1, false);
    const retention = new MemoryRetention(registry, new Map(), { trimCommitted: true, clock: () => 0 });
    const partition = topic.partitions[0];
    for (let i = 0; i < 5_000; i++) {
      partition.append([{ topic: 'sized', partition: 0, offset: i, key: null, value: Buffer.from(`value ${i}`), headers: {}, timestamp: 0 }]);
      retention.appended(topic, 0, 1);
    }
    expect(reads.filter((name) => name.startsWith('retention.')).length).toBeLessThanOrEqual(2);
    // Still applied: every 1,000 records the partition is cut to 40,000 bytes.
    expect(partition.all().reduce((sum, r) => sum + r.value!.length, 0)).toBeLessThanOrEqual(40_000);
  });

  it('reads by offset across gaps: batches from any offset equal the held records at or after it (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.integer({ min: 0, max: 220 }), { maxLength: 4 }),
        fc.integer({ min: 0, max: 220 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 230 }),
        (n, trims, from, max, until) => {
          const partition = new MemoryPartition('t', 0);
          const all: LogRecord[] = Array.from({ length: n }, (_, offset) => ({ topic: 't', partition: 0, offset, key: null, value: Buffer.from(`v${offset}`), headers: {}, timestamp: 0 }));
          partition.append(all);
          for (const t of trims) partition.trimBefore(t);
          const start = Math.min(n, Math.max(0, ...trims));
          expect(partition.logStartOffset).toBe(start);
          // Reading batch after batch from `from` to `until` yields exactly the held records in that range.
          const read: number[] = [];
          let offset = from;
          for (let guard = 0; offset < Math.min(until, n) && guard < 1_000; guard++) {
            const batch = partition.batch(offset, max, until);
            expect(batch.records.length).toBeLessThanOrEqual(max);
            read.push(...batch.records.map((r) => r.offset));
            expect(batch.next).toBeGreaterThan(offset);
            offset = batch.next;
          }
          const expected = all.map((r) => r.offset).filter((o) => o >= Math.max(from, start) && o < Math.min(until, n));
          expect(read).toEqual(expected);
        },
      ),
    );
  });
});

async function expectEventually(check: () => void, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
