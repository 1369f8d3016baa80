import { map } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { defineProcessor, toTopic } from '../../../src/index.js';
import { createTestDriver, type TestDriver } from '../../../src/testing/index.js';

interface Item {
  readonly n: number;
}

let driver: TestDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('sink writes', () => {
  // A sink request holds at most 1,000 records: 6,000 results per sink are at least six requests
  // each, which must follow one another as fast as the log acknowledges them, not one per commit
  // interval or any other timer. The driver's wall clock only moves when the test moves it.
  it('writes and acknowledges thousands of results in back-to-back requests, without any timer firing in between', async () => {
    const count = 6_000;
    const relay = defineProcessor<string | null, Item>({
      id: 'relay',
      source: { topics: 'in' },
      pipeline: (records) => ({
        out: records.pipe(map((r) => r.value)),
        doubled: records.pipe(map((r) => ({ n: r.value.n * 2 }))),
      }),
      sinks: {
        out: toTopic<Item>('out', { key: (v) => String(v.n % 7) }),
        doubled: toTopic<Item>('doubled', { key: (v) => String(v.n % 5) }),
      },
    });
    driver = await createTestDriver({ processors: [relay], partitions: { in: 2 } });
    const started = driver.now;
    await driver.input<string, Item>('in').pipe(Array.from({ length: count }, (_, n) => ({ key: `k${n % 11}`, value: { n } })));

    expect(driver.now).toBe(started);
    expect(driver.output<Item>('out').values()).toHaveLength(count);
    expect(driver.output<Item>('doubled').values()).toHaveLength(count);
    // Every turn acknowledged: nothing pending in any partition's offset tracker.
    const partitions = driver.app.status().processors.flatMap((p) => p.partitions);
    expect(partitions.map((p) => p.pending)).toEqual([0, 0]);

    // One commit tick then commits everything: the writes were acknowledged before it.
    await driver.advanceWallClock(1_000);
    const committed = driver.app
      .status()
      .processors.flatMap((p) => p.partitions)
      .reduce((sum, p) => sum + p.committed, 0);
    expect(committed).toBe(count);
  });
});
