import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import type { GroupConsumer, LogAdmin, LogConnector, PartitionOffset, TopicPartition } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { TributaryMetrics } from '../../../src/observability/metrics.js';
import { defineProcessor, resolveProcessor, type Guarantee, type PipelineContext, type ResolvedProcessor } from '../../../src/processor/define-processor.js';
import { newPartitionEntry, type PartitionEntry } from '../../../src/processor/partition-entry.js';
import { repartition } from '../../../src/processor/repartition.js';
import { RepartitionPurge } from '../../../src/processor/repartition-purge.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { toTopic } from '../../../src/sinks/topic-sink.js';
import { counting } from '../../../src/streams/counting.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import { SimulatedClock } from '../../../src/supervision/simulated-clock.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });
const SIZE = 100;

interface View {
  readonly page: string;
  readonly timestamp: number;
}

const offsets = (list: readonly PartitionOffset[]): number[] => [...list].sort((a, b) => a.partition - b.partition).map((o) => o.offset);

describe('repartition purge: the stage deletes its repartition topic below its committed offsets', () => {
  for (const guarantee of ['at-least-once', 'exactly-once'] as const satisfies readonly Guarantee[]) {
    it(`${guarantee}: moves the repartition topic's log start up to the stage's committed offsets, leaves the input and output topics whole, and counts exactly`, async () => {
      // trimCommitted: false, so that only the runtime's purge (DeleteRecords) removes anything.
      const log = new MemoryLog({ trimCommitted: false });
      log.createTopic('clicks', 2);
      log.createTopic('page-views', 1);
      const clicks = Array.from({ length: 600 }, (_, i) => ({ user: `u${i % 17}`, page: `/p${i % 5}`, ts: 1_000 + i * 3 }));
      await log.producer().send('clicks', clicks.map((c) => ({ key: c.user, value: JSON.stringify(c) })));
      const counts = new Map<string, number>();
      const app = createTributary({
        log,
        logger,
        processors: [
          defineProcessor<string | null, { page: string; ts: number }>({
            id: 'views',
            guarantee,
            source: { topics: 'clicks', timestamp: (r) => r.value.ts },
            commitIntervalMs: 5,
            maxBatchRecords: 50,
            repartitionPurgeIntervalMs: 20,
            pipeline: (records) => records.pipe(map((r): View => ({ page: r.value.page, timestamp: r.timestamp }))),
            sinks: repartition<View>({
              name: 'by-page',
              key: (v) => v.page,
              partitions: 3,
              pipeline: (views: Observable<StreamRecord<string, View>>, ctx: PipelineContext) =>
                views.pipe(tumbling({ size: SIZE, key: (r) => r.value.page, aggregate: counting(), clock: ctx.clock, holds: ctx.holds })),
              sinks: toTopic<{ key: string; windowStart: number; value: number }>('page-views', { key: (w) => w.key }),
            }),
          }),
        ],
      });
      await app.start();
      await app.finishInput({ timeoutMs: 20_000 });
      const admin = log.admin();
      const stageGroup = log.groupConsumer({ groupId: 'views-by-page', topics: ['views-by-page-repartition'] });
      const tps: TopicPartition[] = [0, 1, 2].map((partition) => ({ topic: 'views-by-page-repartition', partition }));
      await eventually(async () => {
        const committed = offsets(await stageGroup.committed(tps));
        expect(committed.every((o) => o > 0)).toBe(true);
        expect(offsets(await admin.startOffsets('views-by-page-repartition'))).toEqual(committed);
      }, 10_000);
      await app.stop();
      expect(offsets(await admin.startOffsets('clicks'))).toEqual([0, 0]);
      expect(offsets(await admin.startOffsets('page-views'))).toEqual([0]);
      for (const r of log.read('page-views')) {
        const w = JSON.parse(r.value!.toString()) as { key: string; windowStart: number; value: number };
        counts.set(`${w.key}@${w.windowStart}`, w.value);
      }
      const expected = new Map<string, number>();
      for (const c of clicks) expected.set(`${c.page}@${Math.floor(c.ts / SIZE) * SIZE}`, (expected.get(`${c.page}@${Math.floor(c.ts / SIZE) * SIZE}`) ?? 0) + 1);
      expect(counts).toEqual(expected);
    });
  }

  it('purges nothing with repartitionPurgeIntervalMs: Infinity', async () => {
    const log = new MemoryLog({ trimCommitted: false });
    log.createTopic('clicks', 1);
    await log.producer().send('clicks', Array.from({ length: 100 }, (_, i) => ({ value: JSON.stringify({ page: `/p${i % 3}`, ts: i }) })));
    let seen = 0;
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, { page: string; ts: number }>({
          id: 'keep',
          source: { topics: 'clicks', timestamp: (r) => r.value.ts },
          commitIntervalMs: 5,
          repartitionPurgeIntervalMs: Infinity,
          pipeline: (records) => records.pipe(map((r): View => ({ page: r.value.page, timestamp: r.timestamp }))),
          sinks: repartition<View>({ name: 'by-page', key: (v) => v.page, partitions: 2, pipeline: (views) => views, sinks: toFunction('seen', (items) => void (seen += items.length)) }),
        }),
      ],
    });
    await app.start();
    await app.finishInput({ timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 50));
    await app.stop();
    expect(seen).toBe(100);
    expect(offsets(await log.admin().startOffsets('keep-by-page-repartition'))).toEqual([0, 0]);
  });

  it('rejects a negative or fractional repartitionPurgeIntervalMs, naming it', () => {
    const base = { id: 'p', source: { topics: 'in' }, pipeline: (r: Observable<unknown>) => r, sinks: toFunction('s', () => {}) };
    expect(() => defineProcessor({ ...base, repartitionPurgeIntervalMs: -1 })).toThrow(/p\.repartitionPurgeIntervalMs/);
    expect(() => defineProcessor({ ...base, repartitionPurgeIntervalMs: 2.5 })).toThrow(/p\.repartitionPurgeIntervalMs/);
    expect(resolveProcessor(base).repartitionPurgeIntervalMs).toBe(30_000);
  });
});

/** A stage reading `stage-repartition` (3 partitions), its entries, a fake group member and a MemoryLog's admin, on a simulated clock. */
async function purgeFixture(options: { intervalMs?: number; assigned?: readonly number[]; groupCommitted?: (partition: number) => number; failDeletes?: number } = {}) {
  const log = new MemoryLog({ trimCommitted: false });
  log.createTopic('stage-repartition', 3);
  log.createTopic('other', 1);
  for (const partition of [0, 1, 2]) await log.producer().send('stage-repartition', Array.from({ length: 100 }, () => ({ partition, value: 'x' })));
  await log.producer().send('other', Array.from({ length: 100 }, () => ({ partition: 0, value: 'x' })));
  const processor: ResolvedProcessor = resolveProcessor<unknown, unknown>(
    defineProcessor({
      id: 'stage',
      source: { topics: ['stage-repartition', 'other'] },
      upstream: { topics: ['in'] },
      repartitionPurgeIntervalMs: options.intervalMs ?? 100,
      pipeline: (r: Observable<unknown>) => r,
      sinks: toFunction('s', () => {}),
    }),
  );
  const partitions = new Map<string, PartitionEntry>();
  const entries = [0, 1, 2].map((partition) => newPartitionEntry({ topic: 'stage-repartition', partition }, { offset: 0 }));
  entries.push(newPartitionEntry({ topic: 'other', partition: 0 }, { offset: 0 }));
  for (const e of entries) partitions.set(e.key, e);
  const assigned = options.assigned ?? [0, 1, 2];
  const consumer = {
    assignment: () => [...assigned.map((partition) => ({ topic: 'stage-repartition', partition })), { topic: 'other', partition: 0 }],
    committed: async (tps: readonly TopicPartition[]) =>
      tps.map((tp) => ({ ...tp, offset: options.groupCommitted ? options.groupCommitted(tp.partition) : partitions.get(`${tp.topic}:${tp.partition}`)!.lastCommitted })),
  } as unknown as GroupConsumer;
  const memoryAdmin = log.admin();
  let failuresLeft = options.failDeletes ?? 0;
  const deletes: string[] = [];
  const admin: LogAdmin = Object.assign(Object.create(memoryAdmin) as LogAdmin, {
    deleteRecords: async (topic: string, offsets: readonly { partition: number; offset: number }[]) => {
      deletes.push(`${topic} ${offsets.map((o) => `${o.partition}<${o.offset}`).join(' ')}`);
      if (failuresLeft-- > 0) throw new Error('broker says no');
      return memoryAdmin.deleteRecords(topic, offsets);
    },
    close: async () => undefined,
  });
  const clock = new SimulatedClock(1_000);
  const metrics = new TributaryMetrics();
  const purge = new RepartitionPurge({ processor, log: { admin: () => admin } as unknown as LogConnector, metrics, logger, clock, partitions, consumer: () => consumer });
  const commit = async (at: Record<string, number>): Promise<void> => {
    for (const [key, offset] of Object.entries(at)) partitions.get(key)!.lastCommitted = offset;
    purge.committed();
    await clock.settle();
  };
  const starts = async (): Promise<number[]> => offsets(await memoryAdmin.startOffsets('stage-repartition'));
  return { purge, commit, starts, advance: (ms: number) => clock.advance(ms), deletes, metrics, memoryAdmin };
}

describe('RepartitionPurge', () => {
  it('purges after a commit at most every repartitionPurgeIntervalMs, and a commit within the interval at its end', async () => {
    const f = await purgeFixture({ intervalMs: 100 });
    await f.commit({ 'stage-repartition:0': 10, 'stage-repartition:1': 20 });
    expect(await f.starts()).toEqual([10, 20, 0]);
    await f.commit({ 'stage-repartition:0': 30 });
    await f.advance(50);
    await f.commit({ 'stage-repartition:2': 40 });
    expect(await f.starts()).toEqual([10, 20, 0]); // within the interval: not yet
    await f.advance(50);
    expect(await f.starts()).toEqual([30, 20, 40]); // at its end, with every commit since
    expect(f.deletes).toEqual(['stage-repartition 0<10 1<20', 'stage-repartition 0<30 2<40']);
    await f.advance(500);
    expect(f.deletes).toHaveLength(2); // nothing committed since: nothing to do
    await f.purge.stop();
  });

  it("never touches a topic that is not the stage's own repartition topic, nor a partition not assigned to this member", async () => {
    const f = await purgeFixture({ assigned: [0, 2] });
    await f.commit({ 'stage-repartition:0': 10, 'stage-repartition:1': 20, 'stage-repartition:2': 30, 'other:0': 50 });
    expect(await f.starts()).toEqual([10, 0, 30]);
    expect(offsets(await f.memoryAdmin.startOffsets('other'))).toEqual([0]);
    await f.purge.stop();
  });

  it('deletes below the lower of what it committed and what the group holds (a commit kafkajs dropped counts for the runtime, not the group)', async () => {
    const f = await purgeFixture({ groupCommitted: (partition) => (partition === 1 ? 5 : partition === 2 ? -1 : 60) });
    await f.commit({ 'stage-repartition:0': 10, 'stage-repartition:1': 20, 'stage-repartition:2': 30 });
    expect(await f.starts()).toEqual([10, 5, 0]);
    await f.purge.stop();
  });

  it('logs and counts a failed purge, and the next commit after the interval tries again', async () => {
    const f = await purgeFixture({ intervalMs: 100, failDeletes: 1 });
    await f.commit({ 'stage-repartition:0': 10 });
    expect(await f.starts()).toEqual([0, 0, 0]);
    expect((await f.metrics.repartitionPurgeFailures.get()).values).toEqual([{ labels: { processor: 'stage', topic: 'stage-repartition' }, value: 1 }]);
    await f.advance(100);
    await f.commit({ 'stage-repartition:0': 12 });
    expect(await f.starts()).toEqual([12, 0, 0]);
    await f.purge.stop();
  });
});
