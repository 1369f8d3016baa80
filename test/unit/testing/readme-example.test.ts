import { map } from 'rxjs';
import { expect, it } from 'vitest';
import { counting, defineProcessor, toTopic, tumbling } from '../../../src/index.js';
import { createTestDriver } from '../../../src/testing/index.js';

interface Click {
  readonly page: string;
  readonly ts: number;
}

// The README's "Testing a processor", as written there.
const pageViews = defineProcessor<string | null, Click>({
  id: 'page-views',
  source: { topics: 'clicks', timestamp: (r) => r.value.ts },
  pipeline: (clicks) =>
    clicks.pipe(
      tumbling({ size: 60_000, key: (r) => r.value.page, aggregate: counting(), store: 'views-per-minute' }),
      map((w) => ({ page: w.key, windowStart: w.windowStart, views: w.value })),
    ),
  sinks: toTopic('page-views'),
});

it('the README example runs as written', async () => {
  const driver = await createTestDriver({ processors: [pageViews] });
  const clicks = driver.input<string, Click>('clicks');
  driver.failAt({ topic: 'clicks', offset: 1 }); // the 2nd record fails, once
  await clicks.pipe([
    { key: 'u1', value: { page: '/a', ts: 1_000 } },
    { key: 'u2', value: { page: '/a', ts: 59_999 } },
  ]);
  await driver.advanceWallClock(100); // the restart's backoff: replayed
  expect(driver.output('page-views').values()).toEqual([]);
  await driver.advanceEventTime(60_000); // the window [0, 60 s) fires
  expect(driver.output('page-views').values()).toEqual([{ page: '/a', windowStart: 0, views: 2 }]);
  expect(driver.lifecycle.filter((e) => e.type === 'partition.started').map((e) => (e as { offset: number }).offset)).toEqual([0, 0]);
  expect(driver.lifecycle.some((e) => e.type === 'partition.failed')).toBe(true);
  await driver.close(); // no timer left behind
  expect(driver.pendingTimers).toBe(0);
});
