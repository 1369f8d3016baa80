import { filter, from, map, mergeMap } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { counting, defineProcessor, PartitionStalledError, StallDetector, toFunction, tumbling, type LifecycleEvent, type Sink } from '../../../src/index.js';
import { createTestDriver, type TestDriver } from '../../../src/testing/index.js';

interface Event {
  readonly k: string;
  readonly ts: number;
}

const STALL = 1_000; // checked every 250 ms

let driver: TestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

/** A processor whose only sink is `sink`, its results the events as read (or windowed counts). */
function processor(sink: Sink<unknown>, options: { windowed?: boolean; highWater?: number; drop?: boolean } = {}) {
  return defineProcessor<string | null, Event>({
    id: 'p',
    source: { topics: 'in', timestamp: (r) => r.value.ts },
    buffer: options.highWater ? { highWater: options.highWater, lowWater: 1 } : undefined,
    pipeline: (records) =>
      options.windowed
        ? records.pipe(tumbling({ size: 1_000, key: (r) => r.value.k, aggregate: counting(), store: 'counts' }), map((w) => `${w.key}@${w.windowStart}=${w.value}`))
        : records.pipe(map((r) => `${r.value.k}@${r.value.ts}`)),
    sinks: sink,
  });
}

const events = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${(from + i) % 3}`, value: { k: `k${(from + i) % 3}`, ts: (from + i) * 100 } }));
const types = (d: TestDriver): string[] => d.lifecycle.map((e) => e.type).filter((t) => t.startsWith('partition.') && t !== 'partition.restored');
const stalled = (d: TestDriver) => d.lifecycle.filter((e): e is Extract<LifecycleEvent, { type: 'partition.stalled' }> => e.type === 'partition.stalled');

describe('the liveness watchdog', () => {
  it('restarts a partition whose sink never settles, after stallTimeoutMs without progress, and the results are exact after the replay', async () => {
    const got: string[] = [];
    let writes = 0;
    const sink = toFunction<string>('results', (items) => {
      if (writes++ === 0) return new Promise<void>(() => undefined); // the first write never settles
      got.push(...items);
    });
    driver = await createTestDriver({ processors: [processor(sink, { windowed: true })], supervision: { stallTimeoutMs: STALL } });
    await driver.input<string, Event>('in').pipe(events(0, 25)); // windows [0, 1 s) and [1 s, 2 s) fire
    await driver.advanceWallClock(STALL - 1);
    expect(types(driver)).toEqual(['partition.started']);
    // Sampled every 250 ms from 250 ms on: no progress since the 250 ms sample, stalled at the 1,250 ms one.
    await driver.advanceWallClock(251);
    expect(types(driver)).toEqual(['partition.started', 'partition.stalled', 'partition.failed', 'partition.restarting']);
    expect(stalled(driver)[0]).toMatchObject({ pending: 25, firstIncomplete: 0, committed: 0, waitingOn: ['default'] });
    expect(driver.lifecycle.find((e) => e.type === 'partition.failed')).toMatchObject({ error: expect.any(PartitionStalledError) as unknown });
    await driver.advanceWallClock(99);
    expect(types(driver)).toHaveLength(4);
    await driver.advanceWallClock(1); // the backoff: replayed from the committed offset 0
    expect(types(driver).slice(4)).toEqual(['partition.started']);
    await driver.input<string, Event>('in').pipe(events(25, 10)); // [2 s, 3 s) fires
    // The plain loop's counts of the three windows that fired: each exactly once.
    const expected = new Map<string, number>();
    for (const e of events(0, 30)) expected.set(`${e.value.k}@${Math.floor(e.value.ts / 1_000) * 1_000}`, (expected.get(`${e.value.k}@${Math.floor(e.value.ts / 1_000) * 1_000}`) ?? 0) + 1);
    expect(got.sort()).toEqual([...expected].map(([w, n]) => `${w}=${n}`).sort());
    const health = driver.app.health() as unknown as { processors: Array<{ partitions: Array<{ stalls: number }> }>; eventLoopLag: { p99Ms: number } };
    expect(health.processors[0].partitions[0].stalls).toBe(1);
    expect(typeof health.eventLoopLag.p99Ms).toBe('number');
    const metrics = await driver.metrics.registry.getSingleMetricAsString('tributary_partition_stalls_total');
    expect(metrics).toContain('tributary_partition_stalls_total{processor="p",topic="in",partition="0"} 1');
  });

  it('restarts a partition waiting on a reply that never comes; the retry gets its reply, nothing is lost, and only what followed the lost one is asked again', async () => {
    // A remote service: answers each request 5 ms later (simulated), except the first request for k2@500, lost.
    const answered: string[] = [];
    let lost = false;
    const request = (item: string): Promise<void> =>
      new Promise((resolve) => {
        if (item === 'k2@500' && !lost) {
          lost = true;
          return; // no reply, ever
        }
        driver!.clock.setTimeout(() => {
          answered.push(item);
          resolve();
        }, 5);
      });
    const sink = toFunction<string>('enrich', async (items) => {
      for (const item of items) await request(item);
    });
    driver = await createTestDriver({ processors: [processor(sink)], supervision: { stallTimeoutMs: STALL } });
    const input = driver.input<string, Event>('in');
    for (let i = 0; i < 10; i++) {
      await input.pipe(events(i, 1));
      await driver.advanceWallClock(10);
    }
    await driver.advanceWallClock(2_000);
    expect(stalled(driver)).toHaveLength(1);
    expect(stalled(driver)[0]).toMatchObject({ firstIncomplete: 5, waitingOn: ['default'] });
    await driver.advanceWallClock(1_000);
    const all = events(0, 10).map((e) => `${e.value.k}@${e.value.ts}`);
    expect([...new Set(answered)].sort()).toEqual([...all].sort());
    // At-least-once: the records after the lost reply were answered, but the commit cannot pass
    // the one still waiting, so the replay from it asks them again (the same requests).
    expect(answered.filter((a, i) => answered.indexOf(a) !== i).sort()).toEqual(all.slice(6).sort());
  });

  it('leaves a slow sink that keeps acknowledging alone, also while backpressure pauses the partition', async () => {
    // Each write is acknowledged 800 ms after the previous one: slower than the input, under the timeout.
    let queue = Promise.resolve();
    const got: string[] = [];
    const sink = toFunction<string>('slow', (items) => {
      queue = queue.then(() => new Promise<void>((resolve) => driver!.clock.setTimeout(resolve, 800))).then(() => void got.push(...items));
      return queue;
    });
    driver = await createTestDriver({ processors: [processor(sink, { highWater: 4 })], supervision: { stallTimeoutMs: STALL } });
    const input = driver.input<string, Event>('in');
    for (let i = 0; i < 50; i++) {
      await input.pipe(events(i, 1));
      await driver.advanceWallClock(200);
    }
    await driver.advanceWallClock(60_000);
    expect(types(driver)).toContain('partition.paused');
    expect(stalled(driver)).toEqual([]);
    expect(types(driver).filter((t) => t === 'partition.failed')).toEqual([]);
    expect(got).toHaveLength(50);
  });

  it('restarts a partition whose operator swallows its input: it holds each record until a reply that, once, never comes', async () => {
    const answered: string[] = [];
    let lost = false;
    const request = (item: string): Promise<string> =>
      new Promise((resolve) => {
        if (item === 'k1@400' && !lost) {
          lost = true;
          return; // swallowed: no reply, ever
        }
        driver!.clock.setTimeout(() => resolve(item), 5);
      });
    const got: string[] = [];
    const enriching = defineProcessor<string | null, Event>({
      id: 'p',
      source: { topics: 'in', timestamp: (r) => r.value.ts },
      pipeline: (records, ctx) =>
        records.pipe(
          mergeMap((r) => {
            // It owes a result for this record: hold its offset until the reply is emitted.
            const release = ctx.holds.hold(r.offset);
            return from(request(`${r.value.k}@${r.value.ts}`)).pipe(
              map((reply) => {
                release();
                answered.push(reply);
                return reply;
              }),
            );
          }),
        ),
      sinks: toFunction<string>('results', (items) => void got.push(...items)),
    });
    driver = await createTestDriver({ processors: [enriching], supervision: { stallTimeoutMs: STALL } });
    const input = driver.input<string, Event>('in');
    for (let i = 0; i < 10; i++) {
      await input.pipe(events(i, 1));
      await driver.advanceWallClock(200); // commits pass every answered record, up to the hold at offset 4
    }
    await driver.advanceWallClock(2_000);
    expect(stalled(driver)).toHaveLength(1);
    expect(stalled(driver)[0]).toMatchObject({ pending: 0, heldOffset: 4, committed: 4 });
    await driver.advanceWallClock(1_000);
    const all = events(0, 10).map((e) => `${e.value.k}@${e.value.ts}`);
    expect([...new Set(got)].sort()).toEqual([...all].sort()); // nothing lost
    expect(got.filter((g, i) => got.indexOf(g) !== i).sort()).toEqual(all.slice(5).sort()); // the replay from offset 4 asks again
    expect(types(driver).filter((t) => t === 'partition.failed')).toHaveLength(1);
  });

  it('leaves a paused partition with nothing pending alone, and an operator that drops its input (nothing is owed: its records complete)', async () => {
    const sink = toFunction<string>('none', () => new Promise<void>(() => undefined)); // would hang, were it ever written to
    const swallow = defineProcessor<string | null, Event>({
      id: 'p',
      source: { topics: 'in', timestamp: (r) => r.value.ts },
      pipeline: (records) => records.pipe(filter(() => false)),
      sinks: sink,
    });
    driver = await createTestDriver({ processors: [swallow], supervision: { stallTimeoutMs: STALL } });
    await driver.input<string, Event>('in').pipe(events(0, 20));
    await driver.advanceWallClock(1_000);
    expect(driver.app.processor('p').status()[0]).toMatchObject({ committed: 20, pending: 0 });
    driver.app.processor('p').pause();
    await driver.input<string, Event>('in').pipe(events(20, 5));
    await driver.advanceWallClock(10 * 60_000);
    expect(stalled(driver)).toEqual([]);
    expect(driver.app.processor('p').status()[0]).toMatchObject({ committed: 20, pending: 0, stalls: 0 });
  });

  it('with stallTimeoutMs Infinity, never restarts, even a sink that never settles', async () => {
    driver = await createTestDriver({ processors: [processor(toFunction('hang', () => new Promise<void>(() => undefined)))], supervision: { stallTimeoutMs: Infinity } });
    await driver.input<string, Event>('in').pipe(events(0, 3));
    await driver.advanceWallClock(10 * 60_000);
    expect(types(driver)).toEqual(['partition.started']);
    expect(driver.app.processor('p').status()[0]).toMatchObject({ pending: 3, stalls: 0 });
  });
});

describe('StallDetector', () => {
  it('is stalled only after stallTimeoutMs of pending work with nothing acknowledged and nothing committed', () => {
    const d = new StallDetector(1_000);
    expect(d.observe({ pending: 5, firstIncomplete: 10, committed: 10 }, 0)).toEqual({ stalled: false, stuckForMs: 0 });
    expect(d.observe({ pending: 7, firstIncomplete: 10, committed: 10 }, 999)).toEqual({ stalled: false, stuckForMs: 999 }); // more input is not progress
    expect(d.observe({ pending: 7, firstIncomplete: 10, committed: 10 }, 1_000)).toEqual({ stalled: true, stuckForMs: 1_000 });
  });

  it('counts an acknowledgement (fewer pending, or the oldest done) or a commit as progress, and nothing pending as no work', () => {
    const d = new StallDetector(1_000);
    d.observe({ pending: 5, firstIncomplete: 10, committed: 10 }, 0);
    expect(d.observe({ pending: 4, firstIncomplete: 10, committed: 10 }, 900).stalled).toBe(false);
    expect(d.observe({ pending: 4, firstIncomplete: 10, committed: 10 }, 1_899).stalled).toBe(false);
    expect(d.observe({ pending: 6, firstIncomplete: 11, committed: 10 }, 1_900).stalled).toBe(false);
    expect(d.observe({ pending: 6, firstIncomplete: 11, committed: 11 }, 2_899).stalled).toBe(false);
    expect(d.observe({ pending: 0, firstIncomplete: 17, committed: 11 }, 10_000).stalled).toBe(false);
    expect(d.observe({ pending: 0, firstIncomplete: 17, committed: 11 }, 20_000).stalled).toBe(false);
    expect(() => new StallDetector(0)).toThrow(/stallTimeoutMs/);
  });

  it('counts an offset user code holds as pending work, and its release as progress', () => {
    const d = new StallDetector(1_000);
    d.observe({ pending: 0, firstIncomplete: 9, committed: 4, lowestHold: 4 }, 0);
    expect(d.observe({ pending: 0, firstIncomplete: 9, committed: 4, lowestHold: 4 }, 999).stalled).toBe(false);
    expect(d.observe({ pending: 0, firstIncomplete: 9, committed: 4, lowestHold: 6 }, 1_500).stalled).toBe(false); // 4 released
    expect(d.observe({ pending: 0, firstIncomplete: 9, committed: 4, lowestHold: 6 }, 2_500)).toEqual({ stalled: true, stuckForMs: 1_000 });
  });
});
