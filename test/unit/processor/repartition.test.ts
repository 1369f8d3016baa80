import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor, type PipelineContext } from '../../../src/processor/define-processor.js';
import { repartition } from '../../../src/processor/repartition.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { counting } from '../../../src/streams/counting.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { tumbling } from '../../../src/streams/tumbling.js';

const logger = createLogger({ level: 'silent' });
const SIZE = 200;
const BOUND = 100;

interface Click {
  user: string;
  page: string;
  ts: number;
  i: number;
}
interface View {
  page: string;
  timestamp: number;
  i: number;
}
interface Count {
  page: string;
  windowStart: number;
  views: number;
}

async function pageViews(
  clicks: Click[],
  opts: { inPartitions: number; outPartitions: number; failUpstream: ReadonlySet<number>; failDownstream: ReadonlySet<number>; maxBatchRecords: number },
): Promise<{ results: Count[]; late: number }> {
  const log = new MemoryLog();
  log.createTopic('clicks', opts.inPartitions);
  await log.producer().send(
    'clicks',
    clicks.map((c) => ({ key: c.user, value: JSON.stringify(c) })),
  );
  const results: Count[] = [];
  let late = 0;
  const failedUp = new Set<number>();
  const failedDown = new Set<number>();
  const app = createTributary({
    log,
    logger,
    restartBackoff: { minMs: 1, maxMs: 5 },
    processors: [
      defineProcessor<string | null, Click>({
        id: 'clicks',
        source: { topics: 'clicks', timestamp: (r) => r.value.ts },
        eventTime: { outOfOrdernessMs: BOUND },
        commitIntervalMs: 5,
        maxBatchRecords: opts.maxBatchRecords,
        pipeline: (records: Observable<StreamRecord<string | null, Click>>) =>
          records.pipe(
            map((r): View => {
              if (opts.failUpstream.has(r.value.i) && !failedUp.has(r.value.i)) {
                failedUp.add(r.value.i);
                throw new Error(`injected upstream failure at ${r.value.i}`);
              }
              return { page: r.value.page, timestamp: r.timestamp, i: r.value.i };
            }),
          ),
        sinks: repartition<View>({
          name: 'by-page',
          key: (v) => v.page,
          partitions: opts.outPartitions,
          pipeline: (views: Observable<StreamRecord<string, View>>, ctx: PipelineContext) =>
            views.pipe(
              map((r) => {
                if (opts.failDownstream.has(r.value.i) && !failedDown.has(r.value.i)) {
                  failedDown.add(r.value.i);
                  throw new Error(`injected downstream failure at ${r.value.i}`);
                }
                return r;
              }),
              tumbling({ size: SIZE, key: (r) => r.value.page, aggregate: counting(), clock: ctx.clock, holds: ctx.holds, late: () => void late++ }),
              map((w): Count => ({ page: w.key, windowStart: w.windowStart, views: w.value })),
            ),
          sinks: toFunction('page-views', (items: readonly Count[]) => void results.push(...items)),
        }),
      }),
    ],
  });
  await app.start();
  await app.finishInput({ timeoutMs: 20_000 });
  await app.stop();
  return { results, late };
}

function reference(clicks: Click[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of clicks) {
    const id = `${c.page}@${Math.floor(c.ts / SIZE) * SIZE}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function byWindow(results: Count[]): Map<string, number> {
  const windows = new Map<string, number>();
  for (const r of results) {
    const id = `${r.page}@${r.windowStart}`;
    if (windows.has(id)) expect(r.views).toBe(windows.get(id)); // re-emitted only identically
    windows.set(id, r.views);
  }
  return windows;
}

const clicksArb = fc
  .array(
    fc.record({ user: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6'), page: fc.constantFrom('/', '/a', '/b', '/c'), jitter: fc.integer({ min: 0, max: BOUND }) }),
    { minLength: 30, maxLength: 250, size: 'max' },
  )
  .map((raw) => {
    let clock = 10_000;
    return raw.map(({ user, page, jitter }, i): Click => {
      clock += (i * 7919) % 40;
      return { user, page, ts: clock - jitter, i };
    });
  });

describe('repartition', () => {
  it('counts per new key downstream with no late records when disorder stays within the bound, whatever the partitions', async () => {
    await fc.assert(
      fc.asyncProperty(clicksArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 20 }), async (clicks, inPartitions, outPartitions, maxBatchRecords) => {
        const { results, late } = await pageViews(clicks, { inPartitions, outPartitions, failUpstream: new Set(), failDownstream: new Set(), maxBatchRecords });
        expect(late).toBe(0);
        expect(byWindow(results)).toEqual(reference(clicks));
      }),
      { numRuns: 30 },
    );
  }, 120_000);

  it('gives the same counts when upstream and downstream partition actors fail and replay', async () => {
    await fc.assert(
      fc.asyncProperty(
        clicksArb,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.noBias(fc.nat(1_000_000)), { maxLength: 3 }),
        fc.array(fc.noBias(fc.nat(1_000_000)), { maxLength: 3 }),
        fc.integer({ min: 1, max: 10 }),
        async (clicks, inPartitions, outPartitions, upSeeds, downSeeds, maxBatchRecords) => {
          const failUpstream = new Set(upSeeds.map((s) => s % clicks.length));
          const failDownstream = new Set(downSeeds.map((s) => s % clicks.length));
          const { results, late } = await pageViews(clicks, { inPartitions, outPartitions, failUpstream, failDownstream, maxBatchRecords });
          expect(late).toBe(0);
          expect(byWindow(results)).toEqual(reference(clicks));
        },
      ),
      { numRuns: 30 },
    );
  }, 120_000);
});

describe('behind a repartition', () => {
  it("a downstream stage sees the records' own headers, never the repartition's internal ones; a late record's dead letter names the window it missed", async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', 1);
    // 5,000 moves the watermark past the window [0, 1000): the click at 10 is late downstream.
    await log.producer().send('clicks', [
      { key: 'u', value: JSON.stringify({ page: '/a', ts: 5 }) },
      { key: 'u', value: JSON.stringify({ page: '/a', ts: 5_000 }) },
      { key: 'u', value: JSON.stringify({ page: '/a', ts: 10 }) },
    ]);
    const headerNames: string[][] = [];
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, { page: string; ts: number }>({
          id: 'views',
          source: { topics: 'clicks', timestamp: (r) => r.value.ts },
          eventTime: { outOfOrdernessMs: 0 },
          // One record a batch: the watermark reaches the repartition topic after each (see issue 21: it moves per batch).
          maxBatchRecords: 1,
          pipeline: (records) => records.pipe(map((r) => ({ page: r.value.page, timestamp: r.timestamp }))),
          sinks: repartition<{ page: string; timestamp: number }>({
            name: 'by-page',
            key: (v) => v.page,
            timestamp: (v) => v.timestamp,
            partitions: 1,
            pipeline: (views) =>
              views.pipe(
                map((r) => {
                  headerNames.push(Object.keys(r.headers));
                  return r;
                }),
                tumbling({ size: 1_000, aggregate: counting(), store: 'per-page' }),
              ),
            sinks: { default: toFunction('out', () => undefined) },
          }),
        }),
      ],
    });
    await app.start();
    await app.finishInput();
    await app.stop();
    expect(headerNames.length).toBe(3);
    expect(headerNames.flat().filter((h) => h.startsWith('tributary.'))).toEqual([]);
    const letters = log.read('views-by-page.dlq');
    expect(letters).toHaveLength(1);
    expect(String(letters[0].headers['tributary.error'])).toContain('window [0, 1000) had fired');
  });
});
