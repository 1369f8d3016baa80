import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { aggregateByKey, type TableEmit, type TableUpdate } from '../../../src/streams/aggregate-by-key.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { summing } from '../../../src/streams/summing.js';

const logger = createLogger({ level: 'silent' });
type Event = { k: string; n: number; i: number };

/** A running total per key on MemoryLog, failing the partition before each event in `failAt` once. */
async function run(events: Array<{ k: string; n: number }>, partitions: number, failAt: ReadonlySet<number>, maxBatchRecords: number, emit: TableEmit) {
  const log = new MemoryLog();
  log.createTopic('events', partitions);
  await log.producer().send('events', events.map((e, i) => ({ key: e.k, value: JSON.stringify({ ...e, i }) })));
  const failed = new Set<number>();
  const updates: Array<TableUpdate<string, number>> = [];
  let failures = 0;
  let restores = 0;
  const app = createTributary({
    log,
    logger,
    restartBackoff: { minMs: 1, maxMs: 5 },
    processors: [
      defineProcessor<string | null, Event>({
        id: 'totals',
        source: { topics: 'events' },
        commitIntervalMs: 3,
        maxBatchRecords,
        // A small buffer behind a slow sink: processing spans many commit intervals, so failures
        // come after checkpoints, and restarts restore from the changelog, not from nothing.
        buffer: { highWater: 8 },
        pipeline: (records: Observable<StreamRecord<string | null, Event>>) =>
          records.pipe(
            map((r) => {
              if (failAt.has(r.value.i) && !failed.has(r.value.i)) {
                failed.add(r.value.i);
                throw new Error(`injected failure before event ${r.value.i}`);
              }
              return r as StreamRecord<string, Event>;
            }),
            aggregateByKey({ store: 'totals', aggregate: summing((r: StreamRecord<string, Event>) => r.value.n), emit }),
          ),
        sinks: toFunction('updates', async (items: readonly TableUpdate<string, number>[]) => {
          updates.push(...items);
          await new Promise((r) => setTimeout(r, 1 + ((items.length * 7) % 5)));
        }),
      }),
    ],
  });
  app.lifecycle.subscribe((e) => {
    if (e.type === 'partition.failed') failures++;
    if (e.type === 'partition.restored') restores++;
  });
  await app.start();
  await app.processor('totals').finishInput({ timeoutMs: 20_000 });
  await app.stop();
  return { updates, failures, restores };
}

const eventsArb = fc.array(fc.record({ k: fc.constantFrom('a', 'b', 'c', 'd', 'e'), n: fc.integer({ min: 1, max: 9 }) }), { minLength: 20, maxLength: 200 });
/** Failure points as fractions of the input, so they fall inside it whatever its length. */
const failsArb = (max: number) => fc.uniqueArray(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: max });
const within = (fails: number[], length: number) => new Set(fails.map((f) => Math.floor((f / 1000) * length)));

describe('a table under failures', () => {
  it('emits only true running totals and ends at the plain loop totals, with failures at random records and random batch sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        fc.integer({ min: 1, max: 3 }),
        failsArb(6),
        fc.integer({ min: 1, max: 20 }),
        async (events, partitions, fails, batch) => {
          const failAt = within(fails, events.length);
          const { updates, failures, restores } = await run(events, partitions, failAt, batch, 'every-record');
          // Reference: each key's running totals, by a plain loop (per key, order is the log's).
          const prefix = new Map<string, Set<number>>();
          const total = new Map<string, number>();
          for (const e of events) {
            total.set(e.k, (total.get(e.k) ?? 0) + e.n);
            if (!prefix.has(e.k)) prefix.set(e.k, new Set());
            prefix.get(e.k)!.add(total.get(e.k)!);
          }
          // Never a double count, even transiently (at-least-once re-emits identical updates only).
          for (const u of updates) expect(prefix.get(u.key)!.has(u.value)).toBe(true);
          for (const [k, sums] of prefix) expect(new Set(updates.filter((u) => u.key === k).map((u) => u.value))).toEqual(sums);
          expect(failures).toBe(failAt.size);
          expect(restores).toBeGreaterThan(partitions); // every restart restored its partition from the changelog
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it("with emit 'on-commit', emits at most the true totals and ends at the plain loop's", async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, failsArb(4), fc.integer({ min: 1, max: 20 }), async (events, fails, batch) => {
        const failAt = within(fails, events.length);
        const { updates, restores } = await run(events, 2, failAt, batch, 'on-commit');
        const total = new Map<string, number>();
        const prefix = new Map<string, Set<number>>();
        for (const e of events) {
          total.set(e.k, (total.get(e.k) ?? 0) + e.n);
          if (!prefix.has(e.k)) prefix.set(e.k, new Set());
          prefix.get(e.k)!.add(total.get(e.k)!);
        }
        for (const u of updates) expect(prefix.get(u.key)!.has(u.value)).toBe(true);
        const last = new Map<string, number>();
        for (const u of updates) last.set(u.key, u.value);
        expect(last).toEqual(total);
        expect(updates.length).toBeLessThanOrEqual(events.length + 5 * (restores + 1) * 2);
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
