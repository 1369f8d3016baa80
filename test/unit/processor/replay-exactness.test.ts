import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor, type PipelineContext } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { counting } from '../../../src/streams/counting.js';
import type { LateRecord } from '../../../src/streams/late-output.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { session } from '../../../src/streams/session.js';
import { tumbling } from '../../../src/streams/tumbling.js';

const logger = createLogger({ level: 'silent' });
const SIZE = 200;
const BOUND = 100;
/** Session gap: events advance 0-49 ms each, so sessions both merge and break. */
const GAP = 60;
type WindowKind = 'tumbling' | 'session';

interface Event {
  k: string;
  ts: number;
}
interface Count {
  key: string;
  windowStart: number;
  windowEnd: number;
  count: number;
}

/** Runs a windowed count over `events`, failing the partition actor before the records at `failAt` (once each). */
async function run(
  events: Event[],
  partitions: number,
  failAt: ReadonlySet<number>,
  maxBatchRecords: number,
  sinkDelays: readonly number[],
  kind: WindowKind = 'tumbling',
): Promise<{ results: Count[]; late: number[]; failures: number }> {
  const log = new MemoryLog();
  log.createTopic('events', partitions);
  await log.producer().send(
    'events',
    events.map((e, i) => ({ key: e.k, value: JSON.stringify({ ...e, i }) })),
  );
  const failed = new Set<number>();
  const results: Count[] = [];
  const late: number[] = [];
  let writes = 0;
  const app = createTributary({
    log,
    logger,
    restartBackoff: { minMs: 1, maxMs: 5 },
    processors: [
      defineProcessor<string | null, Event & { i: number }>({
        id: 'counts',
        source: { topics: 'events', timestamp: (r) => r.value.ts },
        eventTime: { outOfOrdernessMs: BOUND },
        commitIntervalMs: 5,
        maxBatchRecords,
        // Late records go to the `late` sink through ctx.late, as users see them: a replay does not
        // report again what it reported before (the replayed records' state may differ there: a
        // session fired and forgotten before the resume point is not rebuilt).
        pipeline: (records: Observable<StreamRecord<string | null, Event & { i: number }>>, ctx: PipelineContext) => ({
          results: records.pipe(
            map((r) => {
              if (failAt.has(r.value.i) && !failed.has(r.value.i)) {
                failed.add(r.value.i);
                throw new Error(`injected failure before event ${r.value.i}`);
              }
              return r;
            }),
            kind === 'tumbling'
              ? tumbling({ size: SIZE, key: (r) => r.value.k, aggregate: counting(), clock: ctx.clock, holds: ctx.holds, late: ctx.late })
              : session({ gap: GAP, key: (r) => r.value.k, aggregate: counting(), clock: ctx.clock, holds: ctx.holds, late: ctx.late }),
            map((w): Count => ({ key: w.key, windowStart: w.windowStart, windowEnd: w.windowEnd, count: w.value })),
          ),
        }),
        sinks: {
          // A sink whose acknowledgements take varying time, so turns complete out of order.
          results: toFunction('results', async (items: readonly Count[]) => {
            results.push(...items);
            const delay = sinkDelays[writes++ % Math.max(1, sinkDelays.length)] ?? 0;
            if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          }),
          late: toFunction('late', async (items: readonly LateRecord<StreamRecord<string | null, Event & { i: number }>>[]) => void late.push(...items.map((l) => l.element.value.i))),
        },
      }),
    ],
  });
  let failures = 0;
  app.lifecycle.subscribe((e) => e.type === 'partition.failed' && failures++);
  await app.start();
  await app.processor('counts').finishInput({ timeoutMs: 20_000 });
  await app.stop();
  return { results, late, failures };
}

/** The reference: a plain loop over the events, per partition in order (partition = hash of key, as the log does). */
function referenceCounts(events: Event[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    const id = `${e.k}@${Math.floor(e.ts / SIZE) * SIZE}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Windows as a map from `key@windowStart` (sessions: `key@start-end`) to count; a result emitted twice must be identical. */
function byWindow(results: Count[], kind: WindowKind = 'tumbling'): Map<string, number> {
  const windows = new Map<string, number>();
  for (const r of results) {
    const id = kind === 'tumbling' ? `${r.key}@${r.windowStart}` : `${r.key}@${r.windowStart}-${r.windowEnd}`;
    if (windows.has(id)) expect(r.count).toBe(windows.get(id));
    windows.set(id, r.count);
  }
  return windows;
}

const eventsArb = (maxJitter: number) =>
  fc
    .array(fc.record({ k: fc.constantFrom('a', 'b', 'c', 'd'), jitter: fc.integer({ min: 0, max: maxJitter }) }), {
      minLength: 40,
      maxLength: 300,
      size: 'max',
    })
    .map((raw) => {
      // Event time advances by 0-49 ms per event, each event shifted back by its jitter.
      let clock = 10_000;
      return raw.map(({ k, jitter }, i) => {
        clock += (i * 7919) % 50;
        return { k, ts: clock - jitter };
      });
    });

const scenario = fc.record({
  partitions: fc.integer({ min: 1, max: 3 }),
  failSeeds: fc.array(fc.noBias(fc.nat(1_000_000)), { maxLength: 4 }),
  maxBatchRecords: fc.integer({ min: 1, max: 8 }),
  sinkDelays: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 5 }),
});

describe('replay after a partition actor fails mid-window', () => {
  it('gives the window results of a plain loop, failures or not, duplicates only identical', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb(BOUND), scenario, async (events, { partitions, failSeeds, maxBatchRecords, sinkDelays }) => {
        const failAt = new Set(failSeeds.map((s) => s % events.length));
        const { results, late, failures } = await run(events, partitions, failAt, maxBatchRecords, sinkDelays);
        expect(late).toEqual([]); // within the bound, nothing is late
        expect(failures).toBe(failAt.size);
        expect(byWindow(results)).toEqual(referenceCounts(events));
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('with records beyond the bound, gives the same results and the same late records as an uninterrupted run', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb(4 * BOUND), scenario, async (events, { partitions, failSeeds, maxBatchRecords, sinkDelays }) => {
        const failAt = new Set(failSeeds.map((s) => s % events.length));
        const clean = await run(events, partitions, new Set(), maxBatchRecords, []);
        const failed = await run(events, partitions, failAt, maxBatchRecords, sinkDelays);
        expect(failed.failures).toBe(failAt.size);
        expect(byWindow(failed.results)).toEqual(byWindow(clean.results));
        expect(new Set(failed.late)).toEqual(new Set(clean.late));
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('session windows: with records beyond the bound, the same sessions and late records as an uninterrupted run', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb(4 * BOUND), scenario, async (events, { partitions, failSeeds, maxBatchRecords, sinkDelays }) => {
        const failAt = new Set(failSeeds.map((s) => s % events.length));
        const clean = await run(events, partitions, new Set(), maxBatchRecords, [], 'session');
        const failed = await run(events, partitions, failAt, maxBatchRecords, sinkDelays, 'session');
        expect(failed.failures).toBe(failAt.size);
        expect(byWindow(failed.results, 'session')).toEqual(byWindow(clean.results, 'session'));
        expect(new Set(failed.late)).toEqual(new Set(clean.late));
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
