import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTributary, type Tributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { compareKeys, mergeScans, resolveScan } from '../../../src/processor/store-scan.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { countByKey } from '../../../src/streams/count-by-key.js';
import { counting } from '../../../src/streams/counting.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import { ConfigError, TributaryError } from '../../../src/errors.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });
const PARTITIONS = 3;

/** A table of counts per key over 3 partitions, running until `stop`. */
async function countsApp(keys: readonly string[]): Promise<{ app: Tributary; log: MemoryLog }> {
  const log = new MemoryLog();
  log.createTopic('in', PARTITIONS);
  await log.producer().send('in', keys.map((key) => ({ key, value: '{}' })));
  let seen = 0;
  const app = createTributary({
    log,
    logger,
    processors: [
      defineProcessor<string, unknown>({
        id: 'counts',
        source: { topics: 'in' },
        pipeline: (records) => records.pipe(countByKey({ store: 'totals' })),
        sinks: toFunction('out', (items: readonly unknown[]) => void (seen += items.length)),
      }),
    ],
  });
  await app.start();
  await eventually(() => expect(seen).toBe(keys.length));
  return { app, log };
}

/** The plain loop: counts per key, the keys in [from, to], sorted, the first `limit`. */
function reference(keys: readonly string[], from: string | undefined, to: string | undefined, limit: number) {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const rows = [...counts]
    .filter(([k]) => (from === undefined || k >= from) && (to === undefined || k <= to))
    .sort(([a], [b]) => compareKeys(a, b))
    .map(([key, value]) => ({ key, value, partition: partitionForKey(key, PARTITIONS) }));
  return { rows: rows.slice(0, limit), truncated: rows.length > limit };
}

describe('store scans (app.scan)', () => {
  it('a range or full scan over every partition equals the plain loop, sorted by key, limited', async () => {
    const letter = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    const key = fc.array(letter, { minLength: 1, maxLength: 3 }).map((cs) => cs.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(key, { minLength: 1, maxLength: 60 }),
        fc.array(fc.record({ from: fc.option(key, { nil: undefined }), to: fc.option(key, { nil: undefined }), limit: fc.integer({ min: 1, max: 40 }) }), { minLength: 1, maxLength: 5 }),
        async (keys, scans) => {
          const { app } = await countsApp(keys);
          try {
            for (const { from, to, limit } of scans) {
              const answer = await app.scan('counts', 'totals', { from, to, limit });
              const expected = reference(keys, from, to, limit);
              expect(answer.rows.map(({ key: k, value, partition }) => ({ key: k, value, partition }))).toEqual(expected.rows);
              expect(answer.truncated).toBe(expected.truncated);
              expect(answer).toMatchObject({ partitions: PARTITIONS, stale: false, nodes: [] });
            }
          } finally {
            await app.stop();
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('says truncated when one partition alone holds more rows than the limit', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`).filter((k) => partitionForKey(k, PARTITIONS) === 1).slice(0, 5);
    const { app } = await countsApp(keys);
    try {
      const answer = await app.scan('counts', 'totals', { limit: keys.length - 1 });
      expect(answer.truncated).toBe(true);
      expect(answer.rows.map((r) => r.key)).toEqual([...keys].sort().slice(0, keys.length - 1));
      expect((await app.scan('counts', 'totals', { limit: keys.length })).truncated).toBe(false);
    } finally {
      await app.stop();
    }
  });

  it('scans a window store: one row per key and open window, by key then window start', async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', 2);
    await log.producer().send('clicks', [['u2', 30], ['u1', 1_500], ['u1', 10], ['u1', 20]].map(([key, ts]) => ({ key: key as string, value: JSON.stringify({ ts }) })));
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, { ts: number }>({
          id: 'views',
          source: { topics: 'clicks', timestamp: (r) => r.value.ts },
          eventTime: { outOfOrdernessMs: 5_000 },
          pipeline: (records) => records.pipe(tumbling({ size: 1_000, aggregate: counting(), store: 'per-second' })),
          sinks: toFunction('out', () => undefined),
        }),
      ],
    });
    await app.start();
    try {
      await eventually(async () => {
        const { rows } = await app.scan('views', 'per-second');
        expect(rows.map(({ key, windowStart, value }) => ({ key, windowStart, value }))).toEqual([
          { key: 'u1', windowStart: 0, value: 2 },
          { key: 'u1', windowStart: 1_000, value: 1 },
          { key: 'u2', windowStart: 0, value: 1 },
        ]);
      });
    } finally {
      await app.stop();
    }
  });

  it('says clearly what cannot be scanned: an unknown store, a ctx.queryable lookup, a bad limit', async () => {
    const { app } = await countsApp(['x', 'y']);
    try {
      await expect(app.scan('counts', 'nope')).rejects.toThrow(/has no store 'nope' \(its stores: totals\)/);
      await expect(app.scan('counts', 'totals', { limit: 0 })).rejects.toBeInstanceOf(ConfigError);
      await expect(app.scan('counts', 'totals', { limit: 10_001 })).rejects.toBeInstanceOf(ConfigError);
    } finally {
      await app.stop();
    }
    const log = new MemoryLog();
    log.createTopic('in', 1);
    const lookupApp = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string, unknown>({
          id: 'lookups',
          source: { topics: 'in' },
          pipeline: (records, ctx) => {
            ctx.queryable('seen', () => 1);
            return records;
          },
          sinks: toFunction('out', () => undefined),
        }),
      ],
    });
    await lookupApp.start();
    try {
      await eventually(async () => {
        await expect(lookupApp.scan('lookups', 'seen')).rejects.toThrow(/ctx.queryable lookup: it answers point queries/);
      });
    } finally {
      await lookupApp.stop();
    }
  });

  it('merging answers counts each partition once, prefers a fresh answer, and names the partitions nobody answered', () => {
    const scan = resolveScan({ limit: 2 });
    const { answer, missing } = mergeScans(
      [
        { node: 'a', scans: { partitionCounts: { t: 3 }, partitions: [{ topic: 't', partition: 0, stale: true, rows: [{ key: 'k', value: 'old' }] }] } },
        { node: 'b', scans: { partitionCounts: { t: 3 }, partitions: [{ topic: 't', partition: 0, stale: false, rows: [{ key: 'k', value: 'new' }] }, { topic: 't', partition: 2, stale: false, rows: [{ key: 'j', value: 1 }, { key: 'l', value: 2 }] }] } },
      ],
      scan,
    );
    expect(missing).toEqual(['t-1']);
    expect(answer).toEqual({
      rows: [
        { key: 'j', value: 1, topic: 't', partition: 2 },
        { key: 'k', value: 'new', topic: 't', partition: 0 },
      ],
      truncated: true,
      stale: false,
      partitions: 2,
      nodes: ['b'],
    });
  });

  it('without a cluster, a scan of a node that does not run every partition fails naming them', async () => {
    const log = new MemoryLog();
    log.createTopic('in', 2);
    const apps = [0, 1].map(() =>
      createTributary({
        log,
        logger,
        processors: [defineProcessor<string, unknown>({ id: 'counts', source: { topics: 'in' }, pipeline: (r) => r.pipe(countByKey({ store: 'totals' })), sinks: toFunction('out', () => undefined) })],
      }),
    );
    await Promise.all(apps.map((a) => a.start()));
    try {
      await eventually(async () => {
        const failure = await apps[0].scan('counts', 'totals').then(() => undefined, (err: unknown) => err);
        expect(failure).toBeInstanceOf(TributaryError);
        expect(String(failure)).toMatch(/partitions in-\d are not assigned to this node/);
      });
    } finally {
      await Promise.all(apps.map((a) => a.stop()));
    }
  });
});
