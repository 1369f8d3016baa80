import fc from 'fast-check';
import { Subject, map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { counting } from '../../../src/streams/counting.js';
import { session } from '../../../src/streams/session.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { summing } from '../../../src/streams/summing.js';
import { topN } from '../../../src/streams/top-n.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';
import type { WindowResult } from '../../../src/streams/window-result.js';
import { byCodeUnits, rec, RecordingHolds, runOnClock } from './support.js';

interface Click {
  readonly page: string;
}
type ClickRecord = StreamRecord<string, Click>;
interface TopPages {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly top: Array<{ page: string; views: number }>;
}

const MINUTE = 60_000;
const BOUND = 5_000;

/** page-views, then top-pages over page-views' results, on one clock: the clickstream chain. */
function topPages(clicks: Observable<ClickRecord>, clock: WatermarkClock, late: (stage: string) => void, holds = new RecordingHolds()) {
  return clicks.pipe(
    tumbling({ size: MINUTE, key: (r) => r.value.page, aggregate: counting(), clock, holds, late: () => late('page-views') }),
    tumbling({
      size: MINUTE,
      key: () => 'all',
      aggregate: topN({ n: 3, compare: (a, b) => b.value - a.value || byCodeUnits(a.key, b.key) }),
      clock,
      holds,
      late: () => late('top-pages'),
    }),
    map(
      (w): TopPages => ({
        windowStart: w.windowStart,
        windowEnd: w.windowEnd,
        top: w.value.map((v) => ({ page: v.key, views: v.value })),
      }),
    ),
  );
}

/** The spec's top-pages, as a plain loop. */
function reference(clicks: readonly ClickRecord[]): TopPages[] {
  const views = new Map<number, Map<string, number>>();
  for (const c of clicks) {
    const start = Math.floor(c.timestamp / MINUTE) * MINUTE;
    const pages = views.get(start) ?? new Map<string, number>();
    pages.set(c.value.page, (pages.get(c.value.page) ?? 0) + 1);
    views.set(start, pages);
  }
  return [...views]
    .sort(([a], [b]) => a - b)
    .map(([start, pages]) => ({
      windowStart: start,
      windowEnd: start + MINUTE,
      top: [...pages]
        .map(([page, n]) => ({ page, views: n }))
        .sort((a, b) => b.views - a.views || byCodeUnits(a.page, b.page))
        .slice(0, 3),
    }));
}

const click = (page: string, ts: number, offset: number): ClickRecord => rec(`user-${offset % 3}`, ts, offset, { page });

describe('chained window operators on one clock', () => {
  it("gives the second stage everything the first stage fired for a window before it reacts to the same advance", () => {
    const clicks = [
      click('/b', 1_000, 0),
      click('/a', 2_000, 1),
      click('/c', 30_000, 2),
      click('/a', 59_999, 3),
      click('/b', 58_000, 4),
      click('/d', 59_000, 5),
      click('/b', 66_000, 6), // watermark 61,000: minute 0 fires in both stages on this advance
      click('/e', 130_000, 7),
    ];
    const lateStages: string[] = [];
    const out = runOnClock(clicks, (source, clock) => topPages(source, clock, (s) => lateStages.push(s)), { outOfOrderness: BOUND });
    expect(lateStages).toEqual([]);
    expect(out).toEqual([
      { windowStart: 0, windowEnd: MINUTE, top: [{ page: '/a', views: 2 }, { page: '/b', views: 2 }, { page: '/c', views: 1 }] },
      { windowStart: MINUTE, windowEnd: 2 * MINUTE, top: [{ page: '/b', views: 1 }] },
      { windowStart: 2 * MINUTE, windowEnd: 3 * MINUTE, top: [{ page: '/e', views: 1 }] },
    ]);
  });

  it('the second stage fires a window on the same advance as the first stage, not one advance later', () => {
    const clicks = [click('/a', 1_000, 0), click('/b', 2_000, 1), click('/a', 70_000, 2), click('/a', 200_000, 3)];
    const clock = new WatermarkClock({ outOfOrderness: BOUND });
    const source = new Subject<ClickRecord>();
    let delivering = -1;
    const firedOn: Array<[number, number]> = [];
    topPages(source, clock, () => undefined).subscribe((t) => firedOn.push([t.windowStart, delivering]));
    for (const c of clicks) {
      delivering = c.offset;
      source.next(c);
      clock.observe(c.timestamp);
    }
    delivering = -1;
    clock.close();
    // minute 0 fires when the click at 70,000 (offset 2) moves the watermark to 65,000
    expect(firedOn).toEqual([
      [0, 2],
      [MINUTE, 3],
      [3 * MINUTE, -1],
    ]);
  });

  it('top-pages over page-views equals the plain-loop reference for any clicks within the bound', () => {
    const clicksWithinBound = fc
      .array(fc.record({ page: fc.constantFrom('/a', '/b', '/c', '/d', '/e', '/A'), delta: fc.integer({ min: -BOUND, max: 20_000 }) }), { maxLength: 80 })
      .map((steps) => {
        let max = 0;
        return steps.map((s, offset) => {
          const ts = Math.max(0, max + s.delta);
          max = Math.max(max, ts);
          return click(s.page, ts, offset);
        });
      });
    fc.assert(
      fc.property(clicksWithinBound, (clicks) => {
        const lateStages: string[] = [];
        const out = runOnClock(clicks, (source, clock) => topPages(source, clock, (s) => lateStages.push(s)), { outOfOrderness: BOUND });
        expect(lateStages).toEqual([]);
        expect(out).toEqual(reference(clicks));
      }),
    );
  });

  it('a three-stage chain loses nothing between stages', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 50 }), (times) => {
        const sorted = [...times].sort((a, b) => a - b);
        const records = sorted.map((t, i) => rec(`k${i % 4}`, t, i));
        const lateCount = { n: 0 };
        const out = runOnClock(records, (source, clock) =>
          source.pipe(
            tumbling({ size: 10, aggregate: counting(), clock, late: () => lateCount.n++ }),
            tumbling({ size: 10, key: () => 'all', aggregate: summing((w: WindowResult<string, number>) => w.value), clock, late: () => lateCount.n++ }),
            tumbling({ size: 30, key: () => 'all', aggregate: summing((w: WindowResult<string, number>) => w.value), clock, late: () => lateCount.n++ }),
          ),
        );
        expect(lateCount.n).toBe(0);
        expect(out.reduce((n, w) => n + w.value, 0)).toBe(records.length);
      }),
    );
  });

  it('a window over session results accepts every session: a session result is stamped with its closing time', () => {
    const records = [rec('u', 1, 0), rec('u', 5, 1), rec('v', 7, 2), rec('u', 40, 3), rec('v', 90, 4)];
    const lateCount = { n: 0 };
    const out = runOnClock(records, (source, clock) =>
      source.pipe(
        session({ gap: 10, aggregate: counting(), clock, late: () => lateCount.n++ }),
        tumbling({ size: 20, key: () => 'all', aggregate: counting(), clock, late: () => lateCount.n++ }),
      ),
    );
    expect(lateCount.n).toBe(0);
    expect(out.reduce((n, w) => n + w.value, 0)).toBe(4);
  });

  it('takes no holds in either stage: the open windows of both are in stores', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ page: fc.constantFrom('/a', '/b', '/c'), delta: fc.integer({ min: -BOUND, max: 30_000 }) }), { maxLength: 60 }),
        (steps) => {
          let max = 0;
          const clicks = steps.map((s, offset) => {
            const ts = Math.max(0, max + s.delta);
            max = Math.max(max, ts);
            return click(s.page, ts, offset);
          });
          const holds = new RecordingHolds();
          const firedWindows = new Set<number>();
          runOnClock(
            clicks,
            (source, clock) => topPages(source, clock, () => undefined, holds).pipe(map((t) => firedWindows.add(t.windowStart))),
            {
              outOfOrderness: BOUND,
              afterEach: () => expect(holds.count).toBe(0),
            },
          );
          expect(holds.count).toBe(0);
          expect(holds.doubleReleases).toBe(0);
        },
      ),
    );
  });
});
