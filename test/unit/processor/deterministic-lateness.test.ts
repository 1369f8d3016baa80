import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { repartition } from '../../../src/processor/repartition.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { counting } from '../../../src/streams/counting.js';
import type { LateRecord } from '../../../src/streams/late-output.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import type { WindowResult } from '../../../src/streams/window-result.js';

const logger = createLogger({ level: 'silent' });
const SIZE = 100;
const BOUND = 20;
type Click = { user: string; page: string; ts: number; i: number };
type View = { page: string; timestamp: number; i: number };

/**
 * The reference, by a plain loop: per input partition, in its order, a click is late when its
 * window has ended by that partition's watermark before it (max event time so far − the bound);
 * the counts are those of the clicks that were not.
 */
function reference(clicks: readonly Click[], partitions: number): { counts: string[]; late: number[] } {
  const late: number[] = [];
  const counts = new Map<string, number>();
  for (let p = 0; p < partitions; p++) {
    let maxSeen = -Infinity;
    for (const c of clicks.filter((c) => partitionForKey(c.user, partitions) === p)) {
      const start = Math.floor(c.ts / SIZE) * SIZE;
      if (start + SIZE <= maxSeen - BOUND) late.push(c.i);
      else counts.set(`${c.page} ${start}`, (counts.get(`${c.page} ${start}`) ?? 0) + 1);
      maxSeen = Math.max(maxSeen, c.ts);
    }
  }
  return { counts: [...counts].map(([w, n]) => `${w} ${n}`).sort(), late: late.sort((a, b) => a - b) };
}

/** Views per page per window behind a repartition by page, the upstream taking `batch` records a fetch. */
async function run(clicks: readonly Click[], partitions: number, batch: number): Promise<{ counts: string[]; late: number[] }> {
  const log = new MemoryLog();
  log.createTopic('clicks', partitions);
  await log.producer().send('clicks', clicks.map((c) => ({ key: c.user, value: JSON.stringify(c) })));
  const counts: string[] = [];
  const late: number[] = [];
  const app = createTributary({
    log,
    logger,
    processors: [
      defineProcessor<string | null, Click>({
        id: 'clicks',
        source: { topics: 'clicks', timestamp: (r) => r.value.ts },
        eventTime: { outOfOrdernessMs: BOUND },
        maxBatchRecords: batch,
        pipeline: (records: Observable<StreamRecord<string | null, Click>>) => records.pipe(map((r): View => ({ page: r.value.page, timestamp: r.timestamp, i: r.value.i }))),
        sinks: repartition<View>({
          name: 'by-page',
          key: (v) => v.page,
          partitions: 2,
          pipeline: (views: Observable<StreamRecord<string, View>>) =>
            views.pipe(
              tumbling({ size: SIZE, key: (r: StreamRecord<string, View>) => r.value.page, aggregate: counting(), store: 'views' }),
              map((w: WindowResult<string, number>) => `${w.key} ${w.windowStart} ${w.value}`),
            ),
          sinks: {
            default: toFunction('counts', (items: readonly string[]) => void counts.push(...items)),
            late: toFunction('late', (items: ReadonlyArray<LateRecord<StreamRecord<string, View>>>) => void late.push(...items.map((l) => l.element.value.i))),
          },
        }),
      }),
    ],
  });
  await app.start();
  await app.finishInput({ timeoutMs: 20_000 });
  await app.stop();
  return { counts: counts.sort(), late: late.sort((a, b) => a - b) };
}

describe('lateness behind a repartition', () => {
  it('is decided per record against its own input partition: the same late set and results whatever the batch size, equal to a plain loop', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ user: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5'), page: fc.constantFrom('/a', '/b', '/c'), jump: fc.integer({ min: -60, max: 40 }) }),
          { minLength: 5, maxLength: 150 },
        ),
        fc.integer({ min: 1, max: 3 }),
        async (steps, partitions) => {
          let t = 1_000;
          const clicks = steps.map((s, i) => ({ user: s.user, page: s.page, ts: Math.max(0, (t += s.jump)), i }));
          const expected = reference(clicks, partitions);
          for (const batch of [1, 7, 500]) expect(await run(clicks, partitions, batch)).toEqual(expected);
        },
      ),
      { numRuns: 20 },
    );
  }, 120_000);

  it('hands each late record to the late sink with why: the operator, its event time, the watermark and the window it missed; no internal header', async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', 1);
    const clicks: Click[] = [
      { user: 'u1', page: '/a', ts: 1_000, i: 0 },
      { user: 'u1', page: '/a', ts: 1_200, i: 1 },
      { user: 'u1', page: '/a', ts: 1_050, i: 2 }, // its window [1000, 1100) ended by the watermark 1200 − 20
    ];
    await log.producer().send('clicks', clicks.map((c) => ({ key: c.user, value: JSON.stringify(c) })));
    const late: Array<LateRecord<StreamRecord<string, View>>> = [];
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, Click>({
          id: 'clicks',
          source: { topics: 'clicks', timestamp: (r) => r.value.ts },
          eventTime: { outOfOrdernessMs: BOUND },
          pipeline: (records: Observable<StreamRecord<string | null, Click>>) => records.pipe(map((r): View => ({ page: r.value.page, timestamp: r.timestamp, i: r.value.i }))),
          sinks: repartition<View>({
            name: 'by-page',
            key: (v) => v.page,
            partitions: 2,
            pipeline: (views: Observable<StreamRecord<string, View>>) => views.pipe(tumbling({ size: SIZE, key: (r: StreamRecord<string, View>) => r.value.page, aggregate: counting(), store: 'views' })),
            sinks: {
              default: toFunction('counts', () => undefined),
              late: toFunction('late', (items: ReadonlyArray<LateRecord<StreamRecord<string, View>>>) => void late.push(...items)),
            },
          }),
        }),
      ],
    });
    await app.start();
    await app.finishInput({ timeoutMs: 20_000 });
    await app.stop();
    expect(late).toHaveLength(1);
    const [{ element, info }] = late;
    expect(element.value.i).toBe(2);
    expect(info).toMatchObject({ operator: 'tumbling', timestamp: 1_050, window: { start: 1_000, end: 1_100 } });
    expect(info.watermark).toBeGreaterThanOrEqual(1_100);
    expect(info.offset).toBe(element.offset);
    expect(Object.keys(element.headers).filter((h) => h.startsWith('tributary.'))).toEqual([]);
  });
});
