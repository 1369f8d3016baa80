import { afterEach, describe, expect, it } from 'vitest';
import { toFunction, toTopic } from '../../../src/index.js';
import { createTestDriver, type TestDriver } from '../../../src/testing/index.js';
import { clickstreamProcessors } from '../../../examples/clickstream/app.js';
import { SESSION_GAP_MS, type Click } from '../../../examples/clickstream/click.js';
import type { PageView } from '../../../examples/clickstream/page-views.js';
import type { Session } from '../../../examples/clickstream/sessions.js';
import type { TopPages } from '../../../examples/clickstream/top-pages.js';

const T = 1_700_000_000_000 - (1_700_000_000_000 % 60_000); // a minute boundary
const BOUND = 5_000;

/** The clickstream app's three stages, as `npm run example -- clickstream` runs them, with topic sinks. */
function clickstream(partitions: number) {
  return clickstreamProcessors({
    prefix: '',
    inputTopic: 'clicks',
    partitions,
    outOfOrdernessMs: BOUND,
    sinks: {
      'page-views': toTopic('page-views'),
      sessions: toTopic('sessions'),
      'top-pages': toTopic('top-pages'),
      late: toFunction('late', () => undefined),
    },
  });
}

const click = (userId: string, page: string, ts: number) => ({ key: userId, value: { userId, page, ts } });

let driver: TestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('clickstream under the test driver', () => {
  it('keeps clicks exactly 30 minutes apart in one session, and splits them 1 ms later', async () => {
    driver = await createTestDriver({ processors: clickstream(2), partitions: { clicks: 2 } });
    const clicks = driver.input<string, Click>('clicks');
    await clicks.pipe([
      click('u1', '/a', T),
      click('u2', '/a', T),
      click('u1', '/b', T + SESSION_GAP_MS), // exactly the gap: same session
      click('u2', '/a', T + SESSION_GAP_MS + 1), // 1 ms more: a new session
    ]);
    await driver.endInput();
    const sessions = driver.output<Session>('sessions').values();
    const of = (user: string) => sessions.filter((s) => s.userId === user).sort((a, b) => a.sessionStart - b.sessionStart);
    expect(of('u1')).toEqual([{ userId: 'u1', sessionStart: T, sessionEnd: T + SESSION_GAP_MS, events: 2, pages: 2, bounce: false }]);
    expect(of('u2')).toEqual([
      { userId: 'u2', sessionStart: T, sessionEnd: T, events: 1, pages: 1, bounce: true },
      { userId: 'u2', sessionStart: T + SESSION_GAP_MS + 1, sessionEnd: T + SESSION_GAP_MS + 1, events: 1, pages: 1, bounce: true },
    ]);
  });

  it('fires a session when the watermark passes its last click by the 30-minute gap, not a millisecond earlier', async () => {
    driver = await createTestDriver({ processors: clickstream(1) });
    const clicks = driver.input<string, Click>('clicks');
    await clicks.pipe([click('u1', '/a', T), click('u1', '/b', T + 60_000)]);
    const sessions = driver.output<Session>('sessions');
    const last = T + 60_000;
    await driver.advanceEventTime(last + SESSION_GAP_MS, { processor: 'clickstream' });
    expect(sessions.values()).toEqual([]);
    // A click then, exactly the gap after the last one, still joins the session.
    await clicks.pipe(click('u1', '/c', last + SESSION_GAP_MS));
    await driver.advanceEventTime(last + 2 * SESSION_GAP_MS, { processor: 'clickstream' });
    expect(sessions.values()).toEqual([]);
    await driver.advanceEventTime(last + 2 * SESSION_GAP_MS + 1, { processor: 'clickstream' });
    expect(sessions.values()).toEqual([{ userId: 'u1', sessionStart: T, sessionEnd: last + SESSION_GAP_MS, events: 3, pages: 3, bounce: false }]);
  });

  it('a click exactly 30 minutes after a session that has fired is late (its minute is still open), and is in no output', async () => {
    driver = await createTestDriver({ processors: clickstream(1) });
    const clicks = driver.input<string, Click>('clicks');
    await clicks.pipe([click('u1', '/a', T), click('u2', '/a', T + SESSION_GAP_MS + 1 + BOUND)]); // watermark T + gap + 1: u1's session fires
    expect(driver.output<Session>('sessions').values().map((s) => s.userId)).toEqual(['u1']);
    await clicks.pipe(click('u1', '/b', T + SESSION_GAP_MS)); // within the gap of the fired session; its minute has not ended
    await driver.endInput();
    expect(driver.lateRecords<{ value: Click }>('clickstream').map((r) => r.value)).toEqual([{ userId: 'u1', page: '/b', ts: T + SESSION_GAP_MS }]);
    const sessions = driver.output<Session>('sessions').values();
    expect(sessions.filter((s) => s.userId === 'u1')).toHaveLength(1);
    const views = driver.output<PageView>('page-views').values();
    expect(views.reduce((n, v) => n + v.views, 0)).toBe(2);
  });

  it('counts page views per minute through the repartition stages, and ranks the top pages, exactly after a failure in the page stage', async () => {
    const run = async (failing: boolean) => {
      const d = await createTestDriver({ processors: clickstream(2), partitions: { clicks: 2 } });
      if (failing) d.failAt({ processor: 'clickstream-by-page', when: (r) => (r.value as Click).page === '/c' });
      const clicks = d.input<string, Click>('clicks');
      const pages = ['/a', '/b', '/a', '/c', '/a', '/b', '/d'];
      await clicks.pipe(pages.map((page, i) => click(`u${i % 3}`, page, T + i * 1_000)));
      await clicks.pipe(pages.map((page, i) => click(`u${i % 2}`, page, T + 60_000 + i * 1_000)));
      await d.advanceWallClock(1_000);
      await d.endInput();
      const result = {
        views: d.output<PageView>('page-views').values().sort((a, b) => a.windowStart - b.windowStart || (a.page < b.page ? -1 : 1)),
        top: d.output<TopPages>('top-pages').values().sort((a, b) => a.windowStart - b.windowStart),
        failures: d.lifecycle.filter((e) => e.type === 'partition.failed').length,
      };
      await d.close();
      return result;
    };
    const clean = await run(false);
    const failed = await run(true);
    expect(failed.failures).toBe(1);
    expect(clean.failures).toBe(0);
    expect(failed.views).toEqual(clean.views);
    expect(failed.top).toEqual(clean.top);
    expect(clean.top[0]).toEqual({
      windowStart: T,
      windowEnd: T + 60_000,
      top: [
        { page: '/a', views: 3 },
        { page: '/b', views: 2 },
        { page: '/c', views: 1 },
      ],
    });
    expect(clean.views.filter((v) => v.windowStart === T + 60_000).map((v) => [v.page, v.views])).toEqual([
      ['/a', 3],
      ['/b', 2],
      ['/c', 1],
      ['/d', 1],
    ]);
  });
});
