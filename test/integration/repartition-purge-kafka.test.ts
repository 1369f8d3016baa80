import { spawn, type ChildProcess } from 'node:child_process';
import { Kafka, type Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import type { LogRecord } from '../../src/connectors/log.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Guarantee } from '../../src/processor/define-processor.js';
import { eventually, readTopic } from '../contract/read-topic.js';
import { kafkaBrokers } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';
import { readAllRecords } from '../helpers/read-all.js';

interface Total {
  readonly key: string;
  readonly total: number;
  readonly i: number;
}

const HALF = 1_500;
const KEYS = 12;
const order = (i: number): { k: string; amount: number; i: number } => ({ k: `k${i % KEYS}`, amount: 1 + ((i * 7919) % 13), i });

/** The worker process (test/integration/fixtures/purge-worker.ts). */
function worker(input: string, output: string, id: string, guarantee: Guarantee): { child: ChildProcess; stdout: () => string; exited: Promise<number | null> } {
  const args = ['--import', 'tsx', 'test/integration/fixtures/purge-worker.ts', kafkaBrokers().join(','), input, output, id, guarantee];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, exited };
}

async function produce(kafka: Kafka, topic: string, from: number, to: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (let b = from; b < to; b += 50) {
    await producer.send({ topic, messages: Array.from({ length: Math.min(50, to - b) }, (_, j) => { const o = order(b + j); return { key: o.k, value: JSON.stringify(o) }; }) });
  }
  await producer.disconnect();
}

/** Per key, the totals in output order as `i:total`; the reference is a plain loop's running totals. */
function byKey(records: readonly LogRecord[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of records) {
    const t = JSON.parse(r.value!.toString()) as Total;
    out.set(t.key, [...(out.get(t.key) ?? []), `${t.i}:${t.total}`]);
  }
  return out;
}
function reference(count: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const totals = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const { k, amount } = order(i);
    totals.set(k, (totals.get(k) ?? 0) + amount);
    out.set(k, [...(out.get(k) ?? []), `${i}:${totals.get(k)}`]);
  }
  return out;
}
/** At-least-once after a kill: each result may come twice (an identical duplicate), never wrong, never missing. */
function deduplicated(results: Map<string, string[]>): Map<string, string[]> {
  return new Map([...results].map(([key, list]) => [key, [...new Set(list)]]));
}

/** Per partition: [the stage group's committed offset, the repartition topic's low watermark]. */
async function purgeState(admin: Admin, groupId: string, topic: string): Promise<Array<[number, number]>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const offsets = await admin.fetchTopicOffsets(topic);
  return [0, 1, 2].map((partition) => {
    const c = Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
    const o = offsets.find((p) => p.partition === partition)!;
    return [c, Number(o.low)];
  });
}
const lows = async (admin: Admin, topic: string): Promise<number[]> => (await admin.fetchTopicOffsets(topic)).map((o) => Number(o.low));

describe('repartition purge on real Kafka', () => {
  for (const guarantee of ['at-least-once', 'exactly-once'] as const) {
    it(`${guarantee}: the stage deletes its repartition topic below its committed offsets (low watermark = committed), user topics and the changelog stay whole, and a SIGKILL and restart after the purge still gives exact results`, async () => {
      const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: 0 });
      const admin = kafka.admin();
      await admin.connect();
      const input = uniqueName('purge-in');
      const output = uniqueName('purge-out');
      const id = uniqueName('purge');
      const stageGroup = `${id}-by-key`;
      const repartitionTopic = `${id}-by-key-repartition`;
      const changelog = `${id}-by-key-totals-changelog`;
      await admin.createTopics({ topics: [{ topic: input, numPartitions: 2 }, { topic: output, numPartitions: 2 }], waitForLeaders: true });
      const connector = new KafkaConnector({ brokers: kafkaBrokers() }, createLogger({ level: 'error' }));
      const workers: ChildProcess[] = [];
      try {
        await produce(kafka, input, 0, HALF);
        // The first half, processed and purged.
        const first = worker(input, output, id, guarantee);
        workers.push(first.child);
        await readTopic(connector, output, HALF, 90_000);
        let firstLows: number[] = [];
        await eventually(async () => {
          const state = await purgeState(admin, stageGroup, repartitionTopic);
          for (const [committed, low] of state) {
            expect(committed).toBeGreaterThan(0);
            expect(low).toBe(committed);
          }
          firstLows = state.map(([, low]) => low);
        }, 30_000, 100);
        expect(await lows(admin, input)).toEqual([0, 0]);
        expect(await lows(admin, output)).toEqual([0, 0]);
        expect((await lows(admin, changelog)).every((low) => low === 0)).toBe(true);

        // The second half: the first node is SIGKILLed as soon as it has purged past the first half,
        // mid-run, with records read and not yet committed (at-least-once: its sink acknowledges 1 s
        // late; exactly-once: its open transaction), which a purge past the committed offset would lose.
        await produce(kafka, input, HALF, 2 * HALF);
        for (;;) {
          const state = await purgeState(admin, stageGroup, repartitionTopic);
          if (state.some(([, low], partition) => low > firstLows[partition])) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        first.child.kill('SIGKILL');
        await first.exited;

        // The next node resumes every partition at its committed offset, the repartition topic's
        // log start: nothing it needs was deleted.
        const second = worker(input, output, id, guarantee);
        workers.push(second.child);
        const expected = reference(2 * HALF);
        await eventually(async () => {
          const results = byKey(await readAllRecords(connector, output, 2));
          expect(guarantee === 'exactly-once' ? results : deduplicated(results)).toEqual(expected);
        }, 120_000, 500);
        // And it purges again, up to its own commits (every partition got the second half's watermarks at least).
        await eventually(async () => {
          const state = await purgeState(admin, stageGroup, repartitionTopic);
          state.forEach(([committed, low], partition) => {
            expect(low).toBe(committed);
            expect(low).toBeGreaterThan(firstLows[partition]);
          });
        }, 30_000, 100);
        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);
        // The first node was killed mid-run: the second had results of its own to write.
        expect(second.stdout()).toMatch(/written [1-9]/);
        const results = byKey(await readAllRecords(connector, output, 2));
        expect(guarantee === 'exactly-once' ? results : deduplicated(results)).toEqual(expected);
        expect(await lows(admin, input)).toEqual([0, 0]);
        expect(await lows(admin, output)).toEqual([0, 0]);
      } finally {
        // A failed assertion must not leave a worker running.
        for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await admin.disconnect();
      }
    }, 240_000);
  }
});
