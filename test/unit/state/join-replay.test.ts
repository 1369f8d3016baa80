import fc from 'fast-check';
import { map, partition, share, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import type { LateRecord } from '../../../src/streams/late-output.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { regularJoin } from '../../../src/streams/regular-join.js';
import { streamTableJoin } from '../../../src/streams/stream-table-join.js';
import { tableTableJoin } from '../../../src/streams/table-table-join.js';
import { windowedJoin, type WindowedJoinType } from '../../../src/streams/windowed-join.js';
import {
  regularJoinReference,
  rowValue,
  streamTableJoinReference,
  tableTableJoinReference,
  updateValue,
  windowedJoinReference,
  type Ttl,
} from '../../unit/streams/join-references.js';
import { joinEventsArb, type JoinEvent } from '../../unit/streams/join-support.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });
type Sides = (lefts: Observable<JoinEvent>, rights: Observable<JoinEvent>) => Observable<string>;

interface Collected {
  readonly results: string[];
  readonly late: number[];
  restoredKeys: number;
}

/**
 * A join on MemoryLog (one partition: both sides in one topic, in the events' order), failing
 * the partition before each event in `failAt` once; what it writes (identical re-emissions
 * included) and the indexes of the records sent to the `late` sink go to `out`.
 */
function joinApp(log: MemoryLog, out: Collected, options: { failAt: ReadonlySet<number>; maxBatchRecords: number; bound: number; join: Sides }) {
  const { failAt, maxBatchRecords, bound, join } = options;
  const failed = new Set<number>();
  const app = createTributary({
    log,
    logger,
    restartBackoff: { minMs: 1, maxMs: 5 },
    processors: [
      defineProcessor<string | null, JoinEvent>({
        id: 'joins',
        source: { topics: 'events', timestamp: (r) => r.value.ts },
        eventTime: { outOfOrdernessMs: bound },
        commitIntervalMs: 3,
        maxBatchRecords,
        // A small buffer behind a slow sink: failures can come after checkpoints.
        buffer: { highWater: 8 },
        pipeline: (records: Observable<StreamRecord<string | null, JoinEvent>>) => {
          const events$ = records.pipe(
            map((r) => {
              if (failAt.has(r.value.i) && !failed.has(r.value.i)) {
                failed.add(r.value.i);
                throw new Error(`injected failure before event ${r.value.i}`);
              }
              return r.value;
            }),
            share(),
          );
          const [lefts, rights] = partition(events$, (e) => e.side === 'L');
          return join(lefts, rights);
        },
        sinks: {
          default: toFunction('results', async (items: readonly string[]) => {
            out.results.push(...items);
            await new Promise((r) => setTimeout(r, 1 + (items.length % 3)));
          }),
          late: toFunction('late', (items: readonly LateRecord<JoinEvent>[]) => void out.late.push(...items.map((l) => l.element.i))),
        },
      }),
    ],
  });
  app.lifecycle.subscribe((e) => {
    if (e.type === 'partition.restored') out.restoredKeys += e.keys;
  });
  return app;
}

const send = (log: MemoryLog, events: readonly JoinEvent[]) => log.producer().send('events', events.map((e) => ({ key: e.k, value: JSON.stringify(e) })));

/** {@link joinApp} over the whole input, to its end. */
async function run(events: readonly JoinEvent[], failAt: ReadonlySet<number>, maxBatchRecords: number, bound: number, join: Sides): Promise<Collected> {
  const log = new MemoryLog();
  log.createTopic('events', 1);
  await send(log, events);
  const out: Collected = { results: [], late: [], restoredKeys: 0 };
  const app = joinApp(log, out, { failAt, maxBatchRecords, bound, join });
  await app.start();
  await app.processor('joins').finishInput({ timeoutMs: 20_000 });
  await app.stop();
  return out;
}

/** The first `split` events on one app, stopped (it commits its stores), the rest on a new one that restores them. */
async function runInTwo(events: readonly JoinEvent[], split: number, bound: number, join: Sides): Promise<Collected> {
  const log = new MemoryLog();
  log.createTopic('events', 1);
  const out: Collected = { results: [], late: [], restoredKeys: 0 };
  await send(log, events.slice(0, split));
  const first = joinApp(log, out, { failAt: new Set(), maxBatchRecords: 100, bound, join });
  await first.start();
  await eventually(() => expect(first.processor('joins').gauges()[0]?.position).toBe(split));
  await first.stop();
  await send(log, events.slice(split));
  const second = joinApp(log, out, { failAt: new Set(), maxBatchRecords: 100, bound, join });
  await second.start();
  await second.processor('joins').finishInput({ timeoutMs: 20_000 });
  await second.stop();
  return out;
}

// Failures mostly past the first checkpoints, so that restarts restore kept records.
const failsArb = fc.uniqueArray(fc.integer({ min: 200, max: 999 }), { minLength: 1, maxLength: 4 });
const within = (fails: number[], length: number) => new Set(fails.map((f) => Math.floor((f / 1000) * length)));
const indexes = (late: readonly string[]) => new Set(late.map((l) => Number(l.split(' ')[0])));
const byKey = (e: JoinEvent) => e.k;
const byTime = (e: JoinEvent) => e.ts;
const eventsArb = joinEventsArb({ nullKeys: true, minLength: 40, maxLength: 120 });

describe('joins under failures and restarts', () => {
  it('windowedJoin: the plain loop join and late records, with failures at random records', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        failsArb,
        fc.integer({ min: 1, max: 12 }),
        fc.record({ before: fc.integer({ min: 0, max: 5 }), after: fc.integer({ min: 0, max: 5 }), grace: fc.integer({ min: 0, max: 2 }), bound: fc.integer({ min: 0, max: 3 }) }),
        fc.constantFrom<WindowedJoinType>('inner', 'left', 'outer'),
        async (events, fails, batch, p, type) => {
          const sides: Sides = (lefts, rights) =>
            lefts.pipe(
              windowedJoin<JoinEvent, JoinEvent, string, string>(rights, {
                ...p, type, store: 'wj', key: byKey, otherKey: byKey, timestamp: byTime, otherTimestamp: byTime,
                join: (l: JoinEvent | null, r: JoinEvent | null) => `${l?.i ?? '-'}|${r?.i ?? '-'}`,
              }),
              map((j: { value: string; timestamp: number }) => `${j.value}@${j.timestamp}`),
            );
          const expected = windowedJoinReference(events, { ...p, type });
          const { results, late } = await run(events, within(fails, events.length), batch, p.bound, sides);
          expect([...new Set(results)].sort()).toEqual([...new Set(expected.results)].sort());
          expect(new Set(late)).toEqual(indexes(expected.late));
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);

  it('regularJoin: the plain loop pairs, with per-side TTLs, with failures at random records', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        failsArb,
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 3 }),
        fc.option(fc.record({ left: fc.integer({ min: 1, max: 15 }), right: fc.integer({ min: 1, max: 15 }) }), { nil: undefined }),
        async (events, fails, batch, bound, ttl: Ttl) => {
          const sides: Sides = (lefts, rights) =>
            lefts.pipe(
              regularJoin(rights, {
                ttl, store: 'rj', key: byKey, otherKey: byKey, timestamp: byTime, otherTimestamp: byTime,
                join: (l: JoinEvent, r: JoinEvent) => `${l.i}|${r.i}`,
              }),
              map((j) => `${j.value}@${j.timestamp}`),
            );
          const expected = regularJoinReference(events, bound, ttl);
          const { results, late } = await run(events, within(fails, events.length), batch, bound, sides);
          expect([...new Set(results)].sort()).toEqual([...new Set(expected.results)].sort());
          expect(new Set(late)).toEqual(indexes(expected.late));
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);

  it('streamTableJoin: the plain loop lookups, with failures at random records', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, failsArb, fc.integer({ min: 1, max: 12 }), fc.constantFrom<'inner' | 'left'>('inner', 'left'), async (events, fails, batch, type) => {
        const sides: Sides = (records, updates) =>
          records.pipe(
            streamTableJoin<JoinEvent, JoinEvent, string, string, string>(updates, {
              type, store: 'table', key: byKey, otherKey: byKey, otherValue: updateValue, timestamp: byTime,
              join: (r: JoinEvent, v: string | null) => `${r.i}|${v ?? '-'}`,
            }),
            map((j: { value: string; timestamp: number }) => `${j.value}@${j.timestamp}`),
          );
        const expected = streamTableJoinReference(events, type);
        const { results, late } = await run(events, within(fails, events.length), batch, 0, sides);
        expect([...new Set(results)].sort()).toEqual([...new Set(expected.results)].sort());
        expect(new Set(late)).toEqual(indexes(expected.late));
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it('tableTableJoin: the plain loop updates, ending at the same joined table, with failures at random records', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, failsArb, fc.integer({ min: 1, max: 12 }), fc.constantFrom<'inner' | 'left'>('inner', 'left'), async (events, fails, batch, type) => {
        const sides: Sides = (lefts, rights) =>
          lefts.pipe(
            tableTableJoin<JoinEvent, JoinEvent, string, string, string, string>(rights, {
              type, store: 'tt', key: byKey, otherKey: byKey, value: rowValue, otherValue: rowValue, timestamp: byTime, otherTimestamp: byTime,
              join: (l: string, r: string | null) => `${l}+${r ?? '-'}`,
            }),
            map((u: { key: string; value: string | null; timestamp: number }) => `${u.key} ${u.value}@${u.timestamp}`),
          );
        const expected = tableTableJoinReference(events, type);
        const { results, late } = await run(events, within(fails, events.length), batch, 0, sides);
        expect([...new Set(results)].sort()).toEqual([...new Set(expected.results)].sort());
        const last = (updates: readonly string[]) => new Map(updates.map((u) => [u.split(' ')[0], u] as const));
        expect(last(results)).toEqual(last(expected.results));
        expect(new Set(late)).toEqual(indexes(expected.late));
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it('a stop and a new owner between two runs: every join restores its stores and gives the plain loop results', async () => {
    const byJoin: Array<[string, Sides, (events: readonly JoinEvent[]) => string[]]> = [
      [
        'windowedJoin',
        (l, r) => l.pipe(
          windowedJoin(r, { type: 'outer', timeDifference: 5, store: 'wj', key: byKey, otherKey: byKey, timestamp: byTime, otherTimestamp: byTime, join: (a, b) => `${a?.i ?? '-'}|${b?.i ?? '-'}` }),
          map((j) => `${j.value}@${j.timestamp}`),
        ),
        (events) => windowedJoinReference(events, { type: 'outer', before: 5, after: 5, grace: 0, bound: 0 }).results,
      ],
      [
        'regularJoin',
        (l, r) => l.pipe(regularJoin(r, { store: 'rj', key: byKey, otherKey: byKey, timestamp: byTime, otherTimestamp: byTime, join: (a, b) => `${a.i}|${b.i}` }), map((j) => `${j.value}@${j.timestamp}`)),
        (events) => regularJoinReference(events, 0, undefined).results,
      ],
      [
        'streamTableJoin',
        (l, r) => l.pipe(streamTableJoin(r, { type: 'left', store: 'table', key: byKey, otherKey: byKey, otherValue: updateValue, timestamp: byTime, join: (a, v) => `${a.i}|${v ?? '-'}` }), map((j) => `${j.value}@${j.timestamp}`)),
        (events) => streamTableJoinReference(events, 'left').results,
      ],
      [
        'tableTableJoin',
        (l, r) => l.pipe(
          tableTableJoin(r, { store: 'tt', key: byKey, otherKey: byKey, value: rowValue, otherValue: rowValue, timestamp: byTime, otherTimestamp: byTime, join: (a, b) => `${a}+${b}` }),
          map((u) => `${u.key} ${u.value}@${u.timestamp}`),
        ),
        (events) => tableTableJoinReference(events, 'inner').results,
      ],
    ];
    // Both sides of key a before the stop, both again after: each join has state to restore.
    const events: JoinEvent[] = [
      { side: 'R', k: 'a', ts: 10, i: 1 },
      { side: 'L', k: 'a', ts: 11, i: 2 },
      { side: 'L', k: 'b', ts: 12, i: 3 },
      { side: 'R', k: 'a', ts: 13, i: 5 },
      { side: 'L', k: 'a', ts: 14, i: 6 },
      { side: 'R', k: 'b', ts: 14, i: 7 },
    ];
    for (const [name, join, reference] of byJoin) {
      const { results, restoredKeys } = await runInTwo(events, 3, 0, join);
      expect({ name, results: [...new Set(results)].sort() }).toEqual({ name, results: [...new Set(reference(events))].sort() });
      expect({ name, restored: restoredKeys > 0 }).toEqual({ name, restored: true });
    }
  });
});
