import fc from 'fast-check';
import { map, type Observable, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { ProducerFencedError, type LogConnector } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { ConfigError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor, type Guarantee, type PipelineContext } from '../../../src/processor/define-processor.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { toTopic } from '../../../src/sinks/topic-sink.js';
import { repartition } from '../../../src/processor/repartition.js';
import { aggregateByKey } from '../../../src/streams/aggregate-by-key.js';
import { keyedProcess } from '../../../src/streams/keyed-process.js';
import { counting } from '../../../src/streams/counting.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import { streamTableJoin } from '../../../src/streams/stream-table-join.js';
import { table } from '../../../src/streams/table.js';
import { DeadLetterHeaders } from '../../../src/supervision/dead-letter.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });

interface Order {
  readonly k: string;
  readonly amount: number;
  readonly i: number;
}
interface Total {
  readonly key: string;
  readonly total: number;
  readonly i: number;
}

/** Where a transaction fails: its n-th commit of the whole run throws before committing, or after (the commit applied, the caller told it failed). */
interface TransactionFaults {
  readonly before: ReadonlySet<number>;
  readonly after: ReadonlySet<number>;
}

/**
 * A MemoryLog whose transactional producers fail some commits: `before` ones throw without
 * committing, `after` ones commit and then throw (the caller cannot tell it committed).
 */
function faultyLog(log: MemoryLog, faults: TransactionFaults): LogConnector & { commits: number } {
  const faulty = Object.create(log) as MemoryLog & { commits: number };
  faulty.commits = 0;
  faulty.transactionalProducer = (id: string) => {
    const producer = log.transactionalProducer(id);
    const commit = producer.commit.bind(producer);
    producer.commit = async () => {
      const n = faulty.commits++;
      if (faults.before.has(n)) throw new Error(`injected failure before commit ${n}`);
      await commit();
      if (faults.after.has(n)) throw new Error(`injected failure after commit ${n}`);
    };
    return producer;
  };
  return faulty;
}

/**
 * A running total per key (a store, so a changelog) over `orders`, written to a topic, with the
 * partition actor failing before the records at `failAt` (once each) and the transactions
 * failing as `faults` says. Returns the totals read back read-committed.
 */
async function run(orders: readonly Order[], options: { partitions: number; failAt: ReadonlySet<number>; faults: TransactionFaults; maxBatchRecords: number; guarantee: Guarantee; holds?: boolean }): Promise<{ totals: Total[]; failures: number }> {
  const memory = new MemoryLog();
  memory.createTopic('orders', options.partitions);
  memory.createTopic('totals', 2);
  await memory.producer().send(
    'orders',
    orders.map((o) => ({ key: o.k, value: JSON.stringify(o) })),
  );
  const failed = new Set<number>();
  let failures = 0;
  // A first run with the faults, then one without: what the first left uncommitted (its last
  // commits may be the ones that fail) the second takes over, as a restarted node would.
  for (const faults of [options.faults, { before: new Set<number>(), after: new Set<number>() }]) {
    failures += await runOnce(faultyLog(memory, faults), options, failed);
  }
  const totals = memory.read('totals').map((r) => JSON.parse(r.value!.toString()) as Total);
  return { totals, failures };
}

async function runOnce(log: LogConnector, options: { failAt: ReadonlySet<number>; maxBatchRecords: number; guarantee: Guarantee; holds?: boolean }, failed: Set<number>): Promise<number> {
  const app = createTributary({
    log,
    logger,
    restartBackoff: { minMs: 1, maxMs: 5 },
    processors: [
      defineProcessor<string | null, Order>({
        id: 'totals',
        guarantee: options.guarantee,
        source: { topics: 'orders' },
        commitIntervalMs: 5,
        maxBatchRecords: options.maxBatchRecords,
        pipeline: (records: Observable<StreamRecord<string | null, Order>>) =>
          records.pipe(
            map((r) => {
              if (options.failAt.has(r.value.i) && !failed.has(r.value.i)) {
                failed.add(r.value.i);
                throw new Error(`injected failure before order ${r.value.i}`);
              }
              return r.value;
            }),
            options.holds ? totalsHoldingOffsets() : totalsByKey(),
          ),
        sinks: toTopic<Total>('totals', { key: (t) => t.key }),
      }),
    ],
  });
  let failures = 0;
  app.lifecycle.subscribe((e) => e.type === 'partition.failed' && failures++);
  await app.start();
  // The last commit may fail (a fault): the next run takes over.
  await app.processor('totals').finishInput({ timeoutMs: 20_000 }).catch(() => undefined);
  await app.stop();
  return failures;
}

/** The running totals per key, in a store. */
function totalsByKey(): OperatorFunction<Order, Total> {
  return (orders) =>
    orders.pipe(
      aggregateByKey({
        key: (o: Order) => o.k,
        store: 'totals',
        aggregate: { init: () => ({ total: 0, i: -1 }), add: (acc: { total: number; i: number }, o: Order) => ({ total: acc.total + o.amount, i: o.i }) },
      }),
      map((u): Total => ({ key: u.key, total: u.value.total, i: u.value.i })),
    );
}

/**
 * The same totals by a keyedProcess that holds each order's offset until its timer, 1 ms of event
 * time later, fires (user code owing something for it; the end of the input fires every timer):
 * the commit then names an older checkpoint than the results written past it, which a replay
 * must not write again.
 */
function totalsHoldingOffsets(): OperatorFunction<Order, Total> {
  const owed = new Map<string, Array<{ readonly time: number; readonly release: () => void }>>();
  return (orders) =>
    orders.pipe(
      keyedProcess<Order, number, Total, string>({
        key: (o) => o.k,
        store: 'held-totals',
        init: () => 0,
        onRecord: (ctx, o) => {
          ctx.state += o.amount;
          ctx.emit({ key: o.k, total: ctx.state, i: o.i });
          const list = owed.get(o.k) ?? [];
          list.push({ time: ctx.timestamp + 1, release: ctx.hold() });
          owed.set(o.k, list);
          ctx.registerTimer(ctx.timestamp + 1);
        },
        onTimer: (ctx, time) => {
          const list = owed.get(ctx.key) ?? [];
          for (const entry of list.filter((e) => e.time <= time)) entry.release();
          owed.set(ctx.key, list.filter((e) => e.time > time));
        },
      }),
    );
}

/** The reference: a plain loop, the running total of each key after each of its orders. */
function reference(orders: readonly Order[]): Map<string, Total[]> {
  const totals = new Map<string, number>();
  const out = new Map<string, Total[]>();
  for (const o of orders) {
    const total = (totals.get(o.k) ?? 0) + o.amount;
    totals.set(o.k, total);
    if (!out.has(o.k)) out.set(o.k, []);
    out.get(o.k)!.push({ key: o.k, total, i: o.i });
  }
  return out;
}

/** The totals read back, per key in the order of the output topic (one key stays in one partition). */
function byKey(totals: readonly Total[]): Map<string, Total[]> {
  const out = new Map<string, Total[]>();
  for (const t of totals) {
    if (!out.has(t.key)) out.set(t.key, []);
    out.get(t.key)!.push(t);
  }
  return out;
}

const ordersArb = fc
  .array(fc.record({ k: fc.constantFrom('a', 'b', 'c', 'd', 'e'), amount: fc.integer({ min: 1, max: 100 }) }), { minLength: 20, maxLength: 200 })
  .map((raw) => raw.map((o, i): Order => ({ ...o, i })));

describe("guarantee: 'exactly-once' on MemoryLog", () => {
  it.each([
    { holds: false, why: 'as a plain loop computes it' },
    { holds: true, why: "with the user's offset holds pinning the commit behind the results" },
  ])('writes each running total exactly once, $why, whatever fails and where', async ({ holds }) => {
    await fc.assert(
      fc.asyncProperty(
        ordersArb,
        fc.record({
          partitions: fc.integer({ min: 1, max: 3 }),
          failSeeds: fc.array(fc.nat(1_000_000), { maxLength: 3 }),
          before: fc.array(fc.nat(30), { maxLength: 3 }),
          after: fc.array(fc.nat(30), { maxLength: 3 }),
          maxBatchRecords: fc.integer({ min: 1, max: 8 }),
        }),
        async (orders, { partitions, failSeeds, before, after, maxBatchRecords }) => {
          const failAt = new Set(failSeeds.map((s) => s % orders.length));
          const { totals } = await run(orders, { partitions, failAt, faults: { before: new Set(before), after: new Set(after) }, maxBatchRecords, guarantee: 'exactly-once', holds });
          expect(byKey(totals)).toEqual(reference(orders));
        },
      ),
      { numRuns: holds ? 25 : 40 },
    );
  }, 120_000);

  it('fences a zombie: an owner stalled in its commit and removed from the group writes nothing visible, and the next owner\'s results are exact', async () => {
    const orders: Order[] = Array.from({ length: 120 }, (_, i) => ({ k: ['a', 'b', 'c'][i % 3], amount: 1 + (i % 7), i }));
    const memory = new MemoryLog();
    memory.createTopic('orders', 1);
    memory.createTopic('totals', 2);
    const send = (from: number, to: number): Promise<void> => memory.producer().send('orders', orders.slice(from, to).map((o) => ({ key: o.k, value: JSON.stringify(o) })));
    // Once told, the first owner's next commit stalls (a process stopped mid-transaction) until released.
    let stallNext = false;
    let zombieCommit: Promise<unknown> | undefined;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let stalled!: () => void;
    const stalledNow = new Promise<void>((resolve) => (stalled = resolve));
    const zombieLog = Object.create(memory) as MemoryLog;
    zombieLog.transactionalProducer = (id: string) => {
      const producer = memory.transactionalProducer(id);
      const commit = producer.commit.bind(producer);
      producer.commit = async () => {
        if (stallNext) {
          stallNext = false;
          stalled();
          await released;
          zombieCommit = commit().then(
            () => 'committed',
            (err: unknown) => err,
          );
          const outcome = await zombieCommit;
          if (outcome !== 'committed') throw outcome;
          return;
        }
        await commit();
      };
      return producer;
    };
    const definition = (): ReturnType<typeof defineProcessor<string | null, Order>> =>
      defineProcessor<string | null, Order>({
        id: 'totals',
        guarantee: 'exactly-once',
        source: { topics: 'orders' },
        commitIntervalMs: 5,
        maxBatchRecords: 10,
        pipeline: (records: Observable<StreamRecord<string | null, Order>>) =>
          records.pipe(
            map((r) => r.value),
            aggregateByKey({ key: (o: Order) => o.k, store: 'totals', aggregate: { init: () => ({ total: 0, i: -1 }), add: (acc: { total: number; i: number }, o: Order) => ({ total: acc.total + o.amount, i: o.i }) } }),
            map((u): Total => ({ key: u.key, total: u.value.total, i: u.value.i })),
          ),
        sinks: toTopic<Total>('totals', { key: (t) => t.key }),
      });
    const zombie = createTributary({ log: zombieLog, logger, restartBackoff: { minMs: 1, maxMs: 5 }, processors: [definition()] });
    await zombie.start();
    await send(0, 30);
    await eventually(() => expect(memory.read('totals')).toHaveLength(30));
    stallNext = true;
    await send(30, 60);
    await stalledNow;
    // The group gives its partition away (its session would expire); the zombie does not know.
    const member = zombie.processor('totals').groupMember!;
    await memory.groupEviction().removeMembers(member.groupId, [member.memberId]);
    const owner = createTributary({ log: memory, logger, restartBackoff: { minMs: 1, maxMs: 5 }, processors: [definition()] });
    await owner.start();
    await send(60, 120);
    await owner.processor('totals').finishInput({ timeoutMs: 20_000 });
    // The zombie wakes up and commits what it had: refused (fenced), nothing of it becomes visible.
    release();
    await owner.stop();
    await zombie.stop();
    const totals = memory.read('totals').map((r) => JSON.parse(r.value!.toString()) as Total);
    expect(await zombieCommit).toBeInstanceOf(ProducerFencedError);
    expect(byKey(totals)).toEqual(reference(orders));
  });

  it('behind a repartition, counts each window exactly once, as a plain loop does, with failures up and down and failed commits', async () => {
    const SIZE = 200;
    interface Click {
      readonly user: string;
      readonly page: string;
      readonly ts: number;
      readonly i: number;
    }
    const clicksArb = fc
      .array(fc.record({ user: fc.constantFrom('u1', 'u2', 'u3', 'u4'), page: fc.constantFrom('/', '/a', '/b') }), { minLength: 20, maxLength: 150 })
      .map((raw) => raw.map((c, i): Click => ({ ...c, ts: 10_000 + i * 37, i })));
    await fc.assert(
      fc.asyncProperty(
        clicksArb,
        fc.record({ up: fc.array(fc.nat(1_000), { maxLength: 2 }), down: fc.array(fc.nat(1_000), { maxLength: 2 }), before: fc.array(fc.nat(40), { maxLength: 3 }), after: fc.array(fc.nat(40), { maxLength: 3 }) }),
        async (clicks, { up, down, before, after }) => {
          const memory = new MemoryLog();
          memory.createTopic('clicks', 2);
          memory.createTopic('page-views', 2);
          await memory.producer().send('clicks', clicks.map((c) => ({ key: c.user, value: JSON.stringify(c) })));
          const failUp = new Set(up.map((n) => n % clicks.length));
          const failDown = new Set(down.map((n) => n % clicks.length));
          const failed = new Set<string>();
          const failOnce = (where: string, i: number, at: ReadonlySet<number>): void => {
            if (at.has(i) && !failed.has(`${where}${i}`)) {
              failed.add(`${where}${i}`);
              throw new Error(`injected ${where} failure at ${i}`);
            }
          };
          for (const faults of [{ before: new Set(before), after: new Set(after) }, { before: new Set<number>(), after: new Set<number>() }]) {
            const app = createTributary({
              log: faultyLog(memory, faults),
              logger,
              restartBackoff: { minMs: 1, maxMs: 5 },
              processors: [
                defineProcessor<string | null, Click>({
                  id: 'clicks',
                  guarantee: 'exactly-once',
                  source: { topics: 'clicks', timestamp: (r) => r.value.ts },
                  commitIntervalMs: 5,
                  maxBatchRecords: 7,
                  pipeline: (records: Observable<StreamRecord<string | null, Click>>) =>
                    records.pipe(
                      map((r) => {
                        failOnce('up', r.value.i, failUp);
                        return { page: r.value.page, timestamp: r.timestamp, i: r.value.i };
                      }),
                    ),
                  sinks: repartition<{ page: string; timestamp: number; i: number }>({
                    name: 'by-page',
                    key: (v) => v.page,
                    partitions: 2,
                    pipeline: (views: Observable<StreamRecord<string, { page: string; timestamp: number; i: number }>>, ctx: PipelineContext) =>
                      views.pipe(
                        map((r) => {
                          failOnce('down', r.value.i, failDown);
                          return r;
                        }),
                        tumbling({ size: SIZE, key: (r) => r.value.page, aggregate: counting(), clock: ctx.clock, holds: ctx.holds }),
                        map((w) => ({ page: w.key, windowStart: w.windowStart, views: w.value })),
                      ),
                    sinks: toTopic<{ page: string; windowStart: number; views: number }>('page-views', { key: (c) => c.page }),
                  }),
                }),
              ],
            });
            await app.start();
            await app.finishInput({ timeoutMs: 20_000 }).catch(() => undefined);
            await app.stop();
          }
          const windows = memory.read('page-views').map((r) => JSON.parse(r.value!.toString()) as { page: string; windowStart: number; views: number });
          const expected = new Map<string, number>();
          for (const c of clicks) {
            const id = `${c.page}@${Math.floor(c.ts / SIZE) * SIZE}`;
            expected.set(id, (expected.get(id) ?? 0) + 1);
          }
          const ids = windows.map((w) => `${w.page}@${w.windowStart}`);
          expect(new Set(ids).size).toBe(ids.length); // no window twice
          expect(new Map(windows.map((w) => [`${w.page}@${w.windowStart}`, w.views]))).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it("writes a table update that does not decode to the dead letters in the partition's transaction: an aborted commit takes it with it, and the replay writes it once", async () => {
    const memory = new MemoryLog();
    memory.createTopic('orders', 1);
    memory.createTopic('rates', 1);
    memory.createTopic('priced', 1);
    const producer = memory.producer();
    await producer.send('rates', [
      { key: 'EUR', value: '2', timestamp: 1 },
      { key: 'USD', value: '{not json', timestamp: 2 },
    ]);
    await producer.send('orders', Array.from({ length: 20 }, (_, i) => ({ key: i % 2 === 0 ? 'EUR' : 'USD', value: JSON.stringify({ k: i % 2 === 0 ? 'EUR' : 'USD', amount: i, i }), timestamp: 10 + i })));
    // A first run whose first commit fails before committing (its transaction, dead letter
    // included, aborted), then a clean one that takes over, as a restarted node would.
    let failures = 0;
    const rates = table<string, number>('rates');
    for (const faults of [{ before: new Set([0]), after: new Set<number>() }, { before: new Set<number>(), after: new Set<number>() }]) {
      const app = createTributary({
        log: faultyLog(memory, faults),
        logger,
        restartBackoff: { minMs: 1, maxMs: 5 },
        processors: [
          defineProcessor<string, Order>({
            id: 'priced',
            guarantee: 'exactly-once',
            source: { topics: 'orders' },
            tables: { rates },
            commitIntervalMs: 60_000, // the only commits: finishInput's
            pipeline: (records: Observable<StreamRecord<string, Order>>) =>
              records.pipe(
                map((r) => r.value),
                streamTableJoin(rates, { type: 'left', key: (o: Order) => o.k, join: (o: Order, rate: number | null) => `${o.i}:${rate ?? '-'}` }),
                map((j) => j.value),
              ),
            sinks: toTopic<string>('priced'),
          }),
        ],
      });
      app.lifecycle.subscribe((e) => e.type === 'partition.failed' && failures++);
      await app.start();
      await app.processor('priced').finishInput({ timeoutMs: 20_000 }).catch(() => undefined);
      await app.stop();
    }
    expect(failures).toBeGreaterThan(0); // the failed commit failed the partition: the update is taken again
    const letters = memory.read('priced.dlq').filter((r) => String(r.headers[DeadLetterHeaders.topic]) === 'rates');
    expect(letters.map((r) => String(r.headers[DeadLetterHeaders.offset]))).toEqual(['1']);
    // Each order once, joined with the rate taken before it (the element has no timestamp: the input record's time).
    expect(memory.read('priced').map((r) => r.value!.toString())).toEqual(Array.from({ length: 20 }, (_, i) => JSON.stringify(`${i}:${i % 2 === 0 ? 2 : '-'}`)));
  });

  it('refuses, at definition, a sink that cannot write in a transaction, and an unknown guarantee', () => {
    const base = { id: 'p', source: { topics: 'orders' }, pipeline: (r: Observable<StreamRecord<string | null, unknown>>) => r };
    expect(() => defineProcessor({ ...base, guarantee: 'exactly-once', sinks: toFunction('print', async () => undefined) })).toThrow(ConfigError);
    expect(() => defineProcessor({ ...base, guarantee: 'exactly-once', sinks: toFunction('print', async () => undefined) })).toThrow(/p\.sinks\.default.*cannot write in a transaction/);
    expect(() => defineProcessor({ ...base, guarantee: 'twice' as Guarantee, sinks: toTopic('out') })).toThrow(/p\.guarantee/);
    expect(() => defineProcessor({ ...base, guarantee: 'exactly-once', sinks: toTopic('out') })).not.toThrow();
  });
});
