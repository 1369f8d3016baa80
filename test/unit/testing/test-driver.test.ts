import { map } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { countByKey, counting, defineProcessor, toFunction, toTopic, tumbling, type KeyValueStore, type LateRecord, type WindowStore } from '../../../src/index.js';
import { createTestDriver, type TestDriver } from '../../../src/testing/index.js';

interface Click {
  readonly user: string;
  readonly page: string;
  readonly ts: number;
}
interface Views {
  readonly page: string;
  readonly windowStart: number;
  readonly views: number;
}

const MINUTE = 60_000;

/** Views per page per minute, late clicks to a `late` sink, bad input to the dead letters. */
function pageViews(options: { idleTimeoutMs?: number; late?: boolean; outOfOrdernessMs?: number } = {}) {
  const late: Click[] = [];
  const processor = defineProcessor<string | null, Click>({
    id: 'page-views',
    source: { topics: 'clicks', timestamp: (r) => r.value.ts },
    eventTime: { outOfOrdernessMs: options.outOfOrdernessMs ?? 0, idleTimeoutMs: options.idleTimeoutMs },
    pipeline: (clicks) => ({
      views: clicks.pipe(
        // Keyed by page over clicks keyed by user: each partition counts its own clicks of a page, on purpose.
        tumbling({ size: MINUTE, key: (r) => r.value.page, aggregate: counting(), store: 'views-per-minute', partitioning: 'per-partition' }),
        map((w): Views => ({ page: w.key, windowStart: w.windowStart, views: w.value })),
      ),
    }),
    sinks: {
      views: toTopic<Views>('page-views', { key: (v) => v.page }),
      ...(options.late === false ? {} : { late: toFunction('late', (items: readonly LateRecord<{ value: Click }>[]) => void late.push(...items.map((l) => l.element.value))) }),
    },
  });
  return { processor, late };
}

let driver: TestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('the test driver', () => {
  it('pipes keyed records with timestamps and headers into a topic of several partitions, and reads the output topic', async () => {
    const echo = defineProcessor<string | null, { n: number }>({
      id: 'echo',
      source: { topics: 'in' },
      pipeline: (records) => records.pipe(map((r) => ({ user: r.key, n: r.value.n, ts: r.timestamp, line: r.headers.line?.toString() }))),
      sinks: toTopic<{ user: string | null }>('out', { key: (v) => v.user, partitions: 3 }),
    });
    driver = await createTestDriver({ processors: [echo], partitions: { in: 2 }, startTime: 1_000 });
    await driver.input<string, { n: number }>('in').pipe([
      { key: 'u1', value: { n: 1 }, timestamp: 50, headers: { line: '1' } },
      { key: 'u2', value: { n: 2 }, headers: { line: '2' } },
      { key: 'u1', value: { n: 3 }, timestamp: 70, partition: 1 },
    ]);
    const out = driver.output<{ user: string; n: number; ts: number; line?: string }>('out').records();
    expect(out.map((r) => r.value).sort((a, b) => a.n - b.n)).toEqual([
      { user: 'u1', n: 1, ts: 50, line: '1' },
      { user: 'u2', n: 2, ts: 1_000, line: '2' }, // no timestamp: the driver's wall clock
      { user: 'u1', n: 3, ts: 70 },
    ]);
    expect(new Set(out.filter((r) => r.key === 'u1').map((r) => r.partition)).size).toBe(1); // keyed output
    expect(driver.results('echo')).toHaveLength(3);
  });

  it('fires a window only when event time passes its end, by a record or by advanceEventTime', async () => {
    const { processor } = pageViews();
    driver = await createTestDriver({ processors: [processor] });
    const clicks = driver.input<string, Click>('clicks');
    await clicks.pipe([
      { key: 'u1', value: { user: 'u1', page: '/a', ts: 1_000 } },
      { key: 'u2', value: { user: 'u2', page: '/a', ts: 59_999 } },
      { key: 'u1', value: { user: 'u1', page: '/b', ts: 30_000 } },
    ]);
    const views = driver.output<Views>('page-views');
    expect(views.values()).toEqual([]);
    await clicks.pipe({ key: 'u3', value: { user: 'u3', page: '/a', ts: MINUTE } }); // watermark 60,000: [0, 60,000) fires
    expect(views.readValues()).toEqual([
      { page: '/a', windowStart: 0, views: 2 },
      { page: '/b', windowStart: 0, views: 1 },
    ]);
    await driver.advanceEventTime(2 * MINUTE - 1);
    expect(views.readValues()).toEqual([]);
    await driver.advanceEventTime(2 * MINUTE);
    expect(views.readValues()).toEqual([{ page: '/a', windowStart: MINUTE, views: 1 }]);
  });

  it('reads the dead letters (malformed, schema, timestamp) and the late records', async () => {
    const { processor, late } = pageViews();
    driver = await createTestDriver({ processors: [processor] });
    const clicks = driver.input<string, Click>('clicks');
    await clicks.pipeRaw([{ key: 'u1', value: '{"user": "u1", "page": ' }, { key: 'u2', value: '{"user":"u2","page":"/"}' }]);
    await clicks.pipe([
      { key: 'u1', value: { user: 'u1', page: '/a', ts: 2 * MINUTE } },
      { key: 'u1', value: { user: 'u1', page: '/a', ts: MINUTE - 1 } }, // behind the watermark (120,000): late
    ]);
    const letters = driver.deadLetters('page-views');
    expect(letters.map((d) => [d.kind, d.offset, d.attempts])).toEqual([
      ['deserialization', 0, 1],
      ['timestamp', 1, 1],
    ]);
    expect(letters[0].reason).toMatch(/JSON/);
    expect(letters[0].value).toBe('{"user": "u1", "page": ');
    expect(late).toEqual([{ user: 'u1', page: '/a', ts: MINUTE - 1 }]);
    expect(driver.lateRecords('page-views')).toHaveLength(1);
  });

  it('without a late sink, reads late records from the dead letters', async () => {
    const { processor } = pageViews({ late: false });
    driver = await createTestDriver({ processors: [processor] });
    await driver.input<string, Click>('clicks').pipe([
      { key: 'u1', value: { user: 'u1', page: '/a', ts: 2 * MINUTE } },
      { key: 'u1', value: { user: 'u1', page: '/a', ts: 5 } },
    ]);
    expect(driver.lateRecords<{ value: Click; offset: number }>('page-views').map((r) => [r.value.ts, r.offset])).toEqual([[5, 1]]);
  });

  it('commits only when the wall clock passes the commit interval', async () => {
    const { processor } = pageViews();
    driver = await createTestDriver({ processors: [processor] });
    await driver.input<string, Click>('clicks').pipe([1, 2, 3].map((i) => ({ key: 'u', value: { user: 'u', page: '/', ts: i * 1_000 } })));
    const committed = (): number => driver!.app.processor('page-views').status()[0].committed;
    expect(committed()).toBe(0);
    await driver.advanceWallClock(999);
    expect(committed()).toBe(0);
    await driver.advanceWallClock(1);
    expect(committed()).toBe(3);
    expect(driver.now).toBe(1_000);
  });

  it('an idle partition’s watermark follows the simulated wall clock after idleTimeoutMs', async () => {
    const { processor } = pageViews({ idleTimeoutMs: 30_000, outOfOrdernessMs: 5_000 });
    driver = await createTestDriver({ processors: [processor], startTime: 10 * MINUTE });
    await driver.input<string, Click>('clicks').pipe({ key: 'u', value: { user: 'u', page: '/', ts: 10 * MINUTE + 1 } });
    const views = driver.output<Views>('page-views');
    // 30 s idle (10:30): watermark = now − 5 s = 10:25, inside the window [10:00, 11:00); at 11:00, 10:55
    await driver.advanceWallClock(60_000);
    expect(views.values()).toEqual([]);
    // the check at 11:30 moves it to 11:25: the window fires
    await driver.advanceWallClock(30_000);
    expect(views.values()).toEqual([{ page: '/', windowStart: 10 * MINUTE, views: 1 }]);
  });

  it('reads and queries stores: a table and the open windows', async () => {
    const totals = defineProcessor<string | null, Click>({
      id: 'clicks-per-user',
      source: { topics: 'clicks', timestamp: (r) => r.value.ts },
      pipeline: (clicks) => clicks.pipe(countByKey({ key: (r) => r.value.user, store: 'clicks-per-user' })),
      sinks: toTopic('clicks-per-user'),
    });
    const { processor } = pageViews();
    driver = await createTestDriver({ processors: [totals, processor] });
    await driver.input<string, Click>('clicks').pipe([
      { key: 'u1', value: { user: 'u1', page: '/a', ts: 1 } },
      { key: 'u2', value: { user: 'u2', page: '/a', ts: 2 } },
      { key: 'u1', value: { user: 'u1', page: '/b', ts: 3 } },
    ]);
    const table = driver.store<KeyValueStore<string, number>>('clicks-per-user', 'clicks-per-user');
    expect([...table.all()]).toEqual([
      ['u1', 2],
      ['u2', 1],
    ]);
    expect(driver.query('clicks-per-user', 'clicks-per-user', 'u1')).toMatchObject({ owned: true, found: true, value: 2, stale: false });
    const windows = driver.store<WindowStore<string, number>>('page-views', 'views-per-minute');
    expect([...windows.window(0)!].map(([page, entry]) => [page, (entry as unknown as { acc: number }).acc])).toEqual([
      ['/a', 2],
      ['/b', 1],
    ]);
    expect(() => driver!.store('page-views', 'nope')).toThrow(/no store 'nope' \(have: views-per-minute\)/);
  });

  it('injects a failure at a record: the partition restarts after its backoff and replays from the committed offset, results exact', async () => {
    const { processor } = pageViews();
    driver = await createTestDriver({ processors: [processor] });
    const clicks = driver.input<string, Click>('clicks');
    await clicks.pipe([0, 1, 2].map((i) => ({ key: 'u', value: { user: 'u', page: '/a', ts: i } })));
    await driver.advanceWallClock(1_000); // commits offset 3
    const failure = driver.failAt({ topic: 'clicks', partition: 0, offset: 4 });
    await clicks.pipe([3, 4, 5].map((i) => ({ key: 'u', value: { user: 'u', page: '/a', ts: i } })));
    expect(failure.fired).toBe(1);
    const types = (): string[] => driver!.lifecycle.filter((e) => e.type !== 'partition.restored' && e.type.startsWith('partition.')).map((e) => e.type);
    expect(types()).toEqual(['partition.started', 'partition.failed', 'partition.restarting']);
    expect(driver.lifecycle.find((e) => e.type === 'partition.restarting')).toMatchObject({ delayMs: 100, attempt: 1 });
    await driver.advanceWallClock(99);
    expect(types()).toHaveLength(3);
    await driver.advanceWallClock(1);
    const restarted = driver.lifecycle.filter((e) => e.type === 'partition.started');
    // With stores, a restart resumes from the last checkpoint (the commit at 1,000 ms): 3 and 4 are replayed.
    expect(restarted.map((e) => (e as { offset: number }).offset)).toEqual([0, 3]);
    await clicks.pipe({ key: 'u', value: { user: 'u', page: '/a', ts: MINUTE } });
    expect(driver.output<Views>('page-views').values()).toEqual([{ page: '/a', windowStart: 0, views: 6 }]);
  });

  it('a record that fails every time goes to the dead letters as poison after 3 attempts, and the partition goes on', async () => {
    const { processor } = pageViews();
    driver = await createTestDriver({ processors: [processor] });
    driver.failAt({ when: (r) => (r.value as Click).page === '/poison', times: Infinity });
    const clicks = driver.input<string, Click>('clicks');
    await clicks.pipe([
      { key: 'u', value: { user: 'u', page: '/a', ts: 1 } },
      { key: 'u', value: { user: 'u', page: '/poison', ts: 2 } },
      { key: 'u', value: { user: 'u', page: '/a', ts: 3 } },
    ]);
    await driver.advanceWallClock(100); // second attempt
    await driver.advanceWallClock(200); // third attempt: dead-lettered on the next start
    await driver.advanceWallClock(400);
    expect(driver.deadLetters('page-views').map((d) => [d.kind, d.offset, d.attempts])).toEqual([['poison', 1, 3]]);
    await clicks.pipe({ key: 'u', value: { user: 'u', page: '/a', ts: MINUTE } });
    expect(driver.output<Views>('page-views').values()).toEqual([{ page: '/a', windowStart: 0, views: 2 }]);
  });

  it('is deterministic: the same calls give the same outputs, dead letters and lifecycle in the same order', async () => {
    const run = async () => {
      const { processor, late } = pageViews({ outOfOrdernessMs: 1_000 });
      const d = await createTestDriver({ processors: [processor], partitions: { clicks: 3 } });
      d.failAt({ topic: 'clicks', partition: 1, offset: 2 });
      const clicks = d.input<string, Click>('clicks');
      for (let batch = 0; batch < 10; batch++) {
        await clicks.pipe(
          Array.from({ length: 20 }, (_, i) => {
            const n = batch * 20 + i;
            return { key: `u${n % 7}`, value: { user: `u${n % 7}`, page: `/p${n % 3}`, ts: n * 1_000 - ((n * 7_919) % 11) * 500 } };
          }),
        );
        await d.advanceWallClock(150);
      }
      await d.endInput();
      await d.close();
      // All but the restores' measured durations (real time, for the logs).
      const lifecycle = d.lifecycle.map((e) => ({ ...e, error: undefined, durationMs: undefined }));
      return { views: d.output<Views>('page-views').records(), late, dead: d.deadLetters(), lifecycle, now: d.now };
    };
    const first = await run();
    const second = await run();
    expect(first.views.length).toBeGreaterThan(0);
    expect(first.late.length).toBeGreaterThan(0);
    expect(first.lifecycle.some((e) => e.type === 'partition.failed')).toBe(true);
    expect(second).toEqual(first);
  });

  it('leaves no timer behind: none on the simulated clock, no real one', async () => {
    // Every real timer set while the driver lives, until it fires or is cleared.
    const live = new Set<unknown>();
    const { setTimeout: realSet, clearTimeout: realClear, setInterval: realInterval, clearInterval: realClearInterval } = globalThis;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      const handle = realSet(() => {
        live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return handle;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((handle: NodeJS.Timeout) => {
      live.delete(handle);
      realClear(handle);
    }) as typeof clearTimeout;
    globalThis.setInterval = ((fn: () => void, ms?: number) => {
      const handle = realInterval(fn, ms);
      live.add(handle);
      return handle;
    });
    globalThis.clearInterval = ((handle: NodeJS.Timeout) => {
      live.delete(handle);
      realClearInterval(handle);
    }) as typeof clearInterval;
    try {
      const { processor } = pageViews({ idleTimeoutMs: 10_000 });
      const d = await createTestDriver({ processors: [processor], partitions: { clicks: 2 } });
      d.failAt({ topic: 'clicks', offset: 0 });
      await d.input<string, Click>('clicks').pipe([{ key: 'a', value: { user: 'a', page: '/', ts: 5 } }]);
      await d.advanceWallClock(5_000);
      expect(d.pendingTimers).toBeGreaterThan(0);
      await d.endInput();
      await d.close();
      expect(d.pendingTimers).toBe(0);
      expect(live.size).toBe(0);
    } finally {
      Object.assign(globalThis, { setTimeout: realSet, clearTimeout: realClear, setInterval: realInterval, clearInterval: realClearInterval });
    }
  });

  it('fails endInput with the refusal when a window is keyed unlike its input, instead of waiting for a processor that gave up', async () => {
    const processor = defineProcessor<string | null, Click>({
      id: 'page-views',
      source: { topics: 'clicks', timestamp: (r) => r.value.ts },
      pipeline: (clicks) => clicks.pipe(tumbling({ size: MINUTE, key: (r) => r.value.page, aggregate: counting(), store: 'views-per-minute' })),
      sinks: toTopic('page-views'),
    });
    driver = await createTestDriver({ processors: [processor], partitions: { clicks: 4 } });
    await driver.input<string, Click>('clicks').pipe(Array.from({ length: 100 }, (_, i) => ({ key: `u${i}`, value: { user: `u${i}`, page: `/p${i % 13}`, ts: i } })));
    await expect(driver.endInput()).rejects.toThrow(/endInput: the app gave up: .*operator tumbling \(store 'views-per-minute'\) is keyed unlike its input.*repartition\(\{ key \}\)/);
    expect(driver.output('page-views').values()).toEqual([]);
  });

  it('counts 10,000 records in windows across 4 partitions exactly as a plain loop', async () => {
    const { processor } = pageViews();
    driver = await createTestDriver({ processors: [processor], partitions: { clicks: 4 } });
    const records = Array.from({ length: 10_000 }, (_, i) => ({ key: `u${i % 97}`, value: { user: `u${i % 97}`, page: `/p${i % 13}`, ts: i * 60 } }));
    await driver.input<string, Click>('clicks').pipe(records);
    await driver.endInput();
    const expected = new Map<string, number>();
    for (const r of records) {
      const id = `${r.value.page}@${Math.floor(r.value.ts / MINUTE) * MINUTE}`;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    // Each input partition (by user) counts its own clicks of a page: the sums are the loop's counts.
    const actual = new Map<string, number>();
    for (const v of driver.output<Views>('page-views').values()) actual.set(`${v.page}@${v.windowStart}`, (actual.get(`${v.page}@${v.windowStart}`) ?? 0) + v.views);
    expect(actual).toEqual(expected);
  });
});
