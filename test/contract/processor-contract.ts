/**
 * The contract every log tributary runs on must keep, as seen through a processor. One suite,
 * run against the embedded MemoryLog and a real Kafka broker (see the two *.contract.test.ts).
 */
import { map, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTributary, type Tributary } from '../../src/app/tributary.js';
import type { LogConnector, LogRecord, OutgoingRecord } from '../../src/connectors/log.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor, type ProcessorDefinition } from '../../src/processor/define-processor.js';
import type { LifecycleEvent } from '../../src/processor/lifecycle-event.js';
import { json } from '../../src/serdes/json.js';
import { toFunction } from '../../src/sinks/function-sink.js';
import { toTopic } from '../../src/sinks/topic-sink.js';
import type { StreamRecord } from '../../src/streams/stream-record.js';
import { DeadLetterHeaders } from '../../src/supervision/dead-letter.js';
import { uniqueName } from '../helpers/names.js';
import { eventually, readTopic } from './read-topic.js';

export interface ContractTarget {
  /** A connector to the log under test; each call may share the same underlying log. */
  readonly connect: () => LogConnector;
  /** Records to pre-load for the backpressure test. */
  readonly backlog: number;
}

interface Seen {
  partition: number;
  offset: number;
  key: string | null;
  n: number;
}

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });

async function produce(log: LogConnector, topic: string, records: OutgoingRecord[]): Promise<void> {
  const producer = log.producer();
  for (let i = 0; i < records.length; i += 5_000) await producer.send(topic, records.slice(i, i + 5_000));
  await producer.close();
}

async function createTopic(log: LogConnector, name: string, partitions: number): Promise<void> {
  const admin = log.admin();
  await admin.ensureTopics([{ name, partitions }]);
  await admin.close();
}

function keyed(count: number, from = 0): OutgoingRecord[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % 17}`, value: JSON.stringify({ n: from + i }) }));
}

const identity = (records: Observable<StreamRecord<string | null, { n: number }>>) =>
  records.pipe(map((r): Seen => ({ partition: r.partition, offset: r.offset, key: r.key, n: r.value.n })));

export function processorContract(name: string, target: ContractTarget): void {
  describe(`processor contract on ${name}`, () => {
    const apps: Tributary[] = [];
    afterEach(async () => {
      for (const app of apps.splice(0)) await app.stop().catch(() => {});
    });

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    function startApp(log: LogConnector, definition: ProcessorDefinition<any, any>, extra: { shutdownTimeoutMs?: number } = {}) {
      const app = createTributary({ log, processors: [definition], logger, ...extra });
      apps.push(app);
      return app;
    }

    it('keeps per-partition order and delivers every record once', async () => {
      const log = target.connect();
      const topic = uniqueName('order');
      await createTopic(log, topic, 3);
      await produce(log, topic, keyed(600));
      const seen: Seen[] = [];
      const app = startApp(
        log,
        defineProcessor({ id: uniqueName('order-p'), source: { topics: topic }, pipeline: identity, sinks: toFunction('collect', (items: readonly Seen[]) => void seen.push(...items)) }),
      );
      await app.start();
      await eventually(() => expect(seen.length).toBe(600));
      expect(new Set(seen.map((s) => s.n)).size).toBe(600);
      for (const p of [0, 1, 2]) {
        const offsets = seen.filter((s) => s.partition === p).map((s) => s.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        expect(offsets.length).toBeGreaterThan(0);
      }
      // The same key always lands in the same partition.
      const partitionOfKey = new Map<string | null, number>();
      for (const s of seen) {
        expect(partitionOfKey.get(s.key) ?? s.partition).toBe(s.partition);
        partitionOfKey.set(s.key, s.partition);
      }
    });

    it('commits offsets only after the sink acknowledges', async () => {
      const log = target.connect();
      const topic = uniqueName('ack');
      await createTopic(log, topic, 1);
      await produce(log, topic, keyed(50));
      let release!: () => void;
      const acknowledged = new Promise<void>((resolve) => (release = resolve));
      const written: Seen[] = [];
      const id = uniqueName('ack-p');
      const app = startApp(
        log,
        defineProcessor({
          id,
          source: { topics: topic },
          pipeline: identity,
          commitIntervalMs: 50,
          sinks: toFunction('gated', async (items: readonly Seen[]) => {
            written.push(...items);
            await acknowledged;
          }),
        }),
      );
      await app.start();
      await eventually(() => expect(written.length).toBe(50));
      await new Promise((r) => setTimeout(r, 300)); // several commit intervals
      const before = app.processor(id).status();
      expect(before[0].committed).toBe(0);
      expect(before[0].pending).toBe(50);
      release();
      await eventually(() => expect(app.processor(id).status()[0].committed).toBe(50));
    });

    it('resumes a restarted processor from the committed offset with nothing lost', async () => {
      const log = target.connect();
      const topic = uniqueName('resume');
      await createTopic(log, topic, 2);
      await produce(log, topic, keyed(100));
      const id = uniqueName('resume-p');
      const first: Seen[] = [];
      const definition = (into: Seen[]) =>
        defineProcessor({ id, source: { topics: topic }, pipeline: identity, sinks: toFunction('collect', (items: readonly Seen[]) => void into.push(...items)) });
      const app1 = startApp(log, definition(first));
      await app1.start();
      await eventually(() => expect(first.length).toBe(100));
      await app1.stop();
      await produce(log, topic, keyed(50, 100));
      const second: Seen[] = [];
      const app2 = startApp(target.connect(), definition(second));
      await app2.start();
      await eventually(() => expect(second.length).toBe(50));
      await new Promise((r) => setTimeout(r, 200));
      expect(second.map((s) => s.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    });

    it(`keeps memory bounded behind a slow sink with a backlog of ${target.backlog} records`, async () => {
      const log = target.connect();
      const topic = uniqueName('backlog');
      await createTopic(log, topic, 2);
      const value = JSON.stringify({ n: 0, pad: 'x'.repeat(80) });
      const producer = log.producer();
      for (let i = 0; i < target.backlog; i += 10_000) {
        await producer.send(topic, Array.from({ length: Math.min(10_000, target.backlog - i) }, (_, j) => ({ key: `k${i + j}`, value })));
      }
      await producer.close();
      const id = uniqueName('backlog-p');
      const highWater = 1_000;
      let delivered = 0;
      let maxPending = 0;
      const events: LifecycleEvent[] = [];
      global.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      let heapPeak = heapBefore;
      const app: Tributary = startApp(
        log,
        defineProcessor({
          id,
          source: { topics: topic },
          pipeline: (records) => records.pipe(map((r) => r.offset)),
          buffer: { highWater, lowWater: 200 },
          sinks: toFunction('slow', async (items: readonly number[]) => {
            await new Promise((r) => setTimeout(r, 5));
            delivered += items.length;
            for (const s of app.processor(id).status()) maxPending = Math.max(maxPending, s.pending);
            heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
          }),
        }),
      );
      app.lifecycle.subscribe((e) => events.push(e));
      await app.start();
      await eventually(() => expect(delivered).toBe(target.backlog), 240_000);
      expect(events.some((e) => e.type === 'partition.paused')).toBe(true);
      expect(events.some((e) => e.type === 'partition.resumed')).toBe(true);
      // In flight per partition: at most the high-water mark plus one fetched batch.
      expect(maxPending).toBeLessThan(highWater + 5_000);
      expect(heapPeak - heapBefore).toBeLessThan(200 * 1024 * 1024);
    }, 300_000);

    it('splits partitions between two instances and, when one stops, the other takes over with nothing lost', async () => {
      const log = target.connect();
      const topic = uniqueName('split');
      await createTopic(log, topic, 4);
      const id = uniqueName('split-p');
      const seenA: Seen[] = [];
      const seenB: Seen[] = [];
      const definition = (into: Seen[]) =>
        defineProcessor({
          id,
          source: { topics: topic },
          pipeline: identity,
          commitIntervalMs: 100,
          sinks: toFunction('collect', (items: readonly Seen[]) => void into.push(...items)),
        });
      const a = startApp(target.connect(), definition(seenA));
      const b = startApp(target.connect(), definition(seenB));
      await a.start();
      await b.start();
      await eventually(() => {
        const pa = a.processor(id).status().length;
        const pb = b.processor(id).status().length;
        expect(pa + pb).toBe(4);
        expect(pa).toBeGreaterThan(0);
        expect(pb).toBeGreaterThan(0);
      }, 60_000);
      await produce(log, topic, keyed(400));
      await eventually(() => expect(new Set([...seenA, ...seenB].map((s) => s.n)).size).toBe(400));
      expect(new Set(seenA.map((s) => s.partition)).size).toBeGreaterThan(0);
      expect(new Set(seenB.map((s) => s.partition)).size).toBeGreaterThan(0);
      await a.stop();
      await eventually(() => expect(b.processor(id).status().length).toBe(4), 60_000);
      await produce(log, topic, keyed(400, 400));
      await eventually(() => expect(new Set([...seenA, ...seenB].map((s) => s.n)).size).toBe(800));
      const all = [...seenA, ...seenB].map((s) => s.n);
      expect(new Set(all)).toEqual(new Set(Array.from({ length: 800 }, (_, i) => i)));
    }, 120_000);

    it('restarts a failed partition, replays from the committed offset, and dead-letters a record that fails every time', async () => {
      const log = target.connect();
      const topic = uniqueName('poison');
      await createTopic(log, topic, 1);
      await produce(log, topic, keyed(30));
      const id = uniqueName('poison-p');
      const seen: number[] = [];
      const flakyFailures = new Set<number>();
      const events: LifecycleEvent[] = [];
      const app = startApp(
        log,
        defineProcessor({
          id,
          source: { topics: topic },
          commitIntervalMs: 20,
          pipeline: (records: Observable<StreamRecord<string | null, { n: number }>>) =>
            records.pipe(
              map((r) => {
                // n=7 fails once, then succeeds on replay; n=20 fails every time (a poison record).
                if (r.value.n === 7 && !flakyFailures.has(7)) {
                  flakyFailures.add(7);
                  throw new Error('transient failure at 7');
                }
                if (r.value.n === 20) throw new Error('poison at 20');
                return r.value.n;
              }),
            ),
          sinks: toFunction('collect', (items: readonly number[]) => void seen.push(...items)),
        }),
        {},
      );
      app.lifecycle.subscribe((e) => events.push(e));
      await app.start();
      await eventually(() => expect(new Set(seen).size).toBe(29));
      expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((n) => n !== 20));
      const letters = await readTopic(log, `${id}.dlq`, 1);
      expect(letters).toHaveLength(1);
      expect(String(letters[0].headers[DeadLetterHeaders.reason])).toBe('poison');
      expect(String(letters[0].headers[DeadLetterHeaders.attempts])).toBe('3');
      expect(String(letters[0].headers[DeadLetterHeaders.error])).toMatch(/failed 3 times: poison at 20/);
      expect(events.filter((e) => e.type === 'partition.failed')).toHaveLength(4); // once at 7, three times at 20
      expect(events.filter((e) => e.type === 'partition.restarting')).toHaveLength(4);
    });

    it('sends bad records to the dead-letter topic with their reason and keeps the partition flowing', async () => {
      const log = target.connect();
      const topic = uniqueName('dlq');
      await createTopic(log, topic, 1);
      const id = uniqueName('dlq-p');
      const big = JSON.stringify({ n: 99, pad: 'x'.repeat(3_000) });
      await produce(log, topic, [
        { key: 'a', value: '{"n":1}' },
        { key: 'a', value: '{"n":' },
        { key: 'a', value: '{"n":2}' },
        { key: 'a', value: '{"n":3,"__proto__":{"polluted":true}}' },
        { key: 'a', value: '{"n":"four"}' },
        { key: 'a', value: big },
        { key: 'a', value: '{"n":5}' },
      ]);
      const seen: number[] = [];
      const app = startApp(
        log,
        defineProcessor({
          id,
          source: { topics: topic, value: json({ schema: z.object({ n: z.number().int() }) }), maxRecordBytes: 1_000 },
          pipeline: (records) => records.pipe(map((r) => r.value.n)),
          sinks: toFunction('collect', (items: readonly number[]) => void seen.push(...items)),
        }),
      );
      await app.start();
      await eventually(() => expect(seen).toEqual([1, 2, 5]));
      const letters: LogRecord[] = await readTopic(log, `${id}.dlq`, 4);
      const byOffset = new Map(letters.map((l) => [Number(String(l.headers[DeadLetterHeaders.offset])), l]));
      const header = (offset: number, h: string) => String(byOffset.get(offset)?.headers[h]);
      expect([...byOffset.keys()].sort()).toEqual([1, 3, 4, 5]);
      expect(header(1, DeadLetterHeaders.error)).toMatch(/malformed JSON/);
      expect(header(3, DeadLetterHeaders.error)).toMatch(/forbidden key/);
      expect(header(4, DeadLetterHeaders.error)).toMatch(/schema violation: n:/);
      expect(header(5, DeadLetterHeaders.reason)).toBe('oversized');
      expect(header(5, DeadLetterHeaders.topic)).toBe(topic);
      expect(header(5, DeadLetterHeaders.partition)).toBe('0');
      expect(byOffset.get(1)?.value?.toString()).toBe('{"n":');
      const counted = await app.metrics.registry.getSingleMetricAsString('tributary_dead_letters_total');
      expect(counted).toMatch(/reason="deserialization"} 3/);
      expect(counted).toMatch(/reason="oversized"} 1/);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('gives the pipeline decoded keys, values and event times, and dead-letters a record whose timestamp extractor fails with its original bytes', async () => {
      // On Kafka each record is decoded in place (one object from the fetch to the pipeline):
      // a record that becomes a dead letter after its value was decoded must still carry its bytes.
      const log = target.connect();
      const topic = uniqueName('decode');
      await createTopic(log, topic, 1);
      const id = uniqueName('decode-p');
      await produce(log, topic, [
        { key: 'a', value: '{"n":1,"at":1000}', timestamp: 5 },
        { key: 'b', value: '{"n":2}', timestamp: 6 },
        { key: 'c', value: '{"n":3,"at":"never"}', timestamp: 7 },
        { key: 'd', value: '{"n":4,"at":4000}', timestamp: 8 },
      ]);
      const seen: Array<{ key: unknown; value: unknown; timestamp: number; offset: number }> = [];
      const app = startApp(
        log,
        defineProcessor<string, { n: number; at?: unknown }>({
          id,
          source: { topics: topic, value: json(), timestamp: (r) => (r.value.at === undefined ? r.timestamp : (r.value.at as number)) },
          pipeline: (records) => records,
          sinks: toFunction('collect', (items: readonly StreamRecord[]) => void seen.push(...items.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, offset: r.offset })))),
        }),
      );
      await app.start();
      await eventually(() => expect(seen).toHaveLength(3));
      expect(seen).toEqual([
        { key: 'a', value: { n: 1, at: 1000 }, timestamp: 1000, offset: 0 },
        { key: 'b', value: { n: 2 }, timestamp: 6, offset: 1 },
        { key: 'd', value: { n: 4, at: 4000 }, timestamp: 4000, offset: 3 },
      ]);
      const [letter] = await readTopic(log, `${id}.dlq`, 1);
      expect(String(letter.headers[DeadLetterHeaders.reason])).toBe('timestamp');
      expect(String(letter.headers[DeadLetterHeaders.offset])).toBe('2');
      expect(Buffer.isBuffer(letter.value)).toBe(true);
      expect(letter.value?.toString()).toBe('{"n":3,"at":"never"}');
      expect(letter.key?.toString()).toBe('c');
    });

    it('dead-letters a result the output topic refuses (too large) and keeps the partition flowing', async () => {
      const log = target.connect();
      const topic = uniqueName('refused-in');
      const output = uniqueName('refused-out');
      await createTopic(log, topic, 1);
      const id = uniqueName('refused-p');
      await produce(log, topic, keyed(20));
      const events: LifecycleEvent[] = [];
      const app = startApp(
        log,
        defineProcessor<string | null, { n: number }>({
          id,
          source: { topics: topic },
          maxBatchRecords: 5,
          // Record 12's result is ~3 kB: more than the output topic takes here.
          pipeline: (records) => records.pipe(map((r) => ({ n: r.value.n, pad: r.value.n === 12 ? 'x'.repeat(3_000) : '' }))),
          sinks: toTopic<{ n: number; pad: string }>(output, { partitions: 1, key: (v) => String(v.n), maxRecordBytes: 2_000 }),
        }),
      );
      app.lifecycle.subscribe((e) => events.push(e));
      await app.start();
      const written = await readTopic(log, output, 19);
      expect(written.map((r) => (JSON.parse(String(r.value)) as { n: number }).n)).toEqual([...Array(20).keys()].filter((n) => n !== 12));
      const [letter] = await readTopic(log, `${id}.dlq`, 1);
      expect(String(letter.headers[DeadLetterHeaders.reason])).toBe('output-rejected');
      expect(String(letter.headers[DeadLetterHeaders.error])).toMatch(/result for sink default of the records at offsets \d+\.\.\d+ rejected: record of \d+ bytes for topic .* exceeds maxRecordBytes \(2000\)/);
      expect(String(letter.key)).toBe('12');
      expect((JSON.parse(String(letter.value)) as { n: number }).n).toBe(12);
      expect(events.filter((e) => e.type === 'partition.failed')).toEqual([]);
      const counted = await app.metrics.registry.getSingleMetricAsString('tributary_dead_letters_total');
      expect(counted).toMatch(/reason="output-rejected"} 1/);
    });
  });
}
