import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { repartition } from '../../../src/processor/repartition.js';
import { CoPartitioningError } from '../../../src/processor/co-partitioning-error.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { DeadLetterHeaders } from '../../../src/supervision/dead-letter.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { countByKey } from '../../../src/streams/count-by-key.js';
import { streamTableJoin } from '../../../src/streams/stream-table-join.js';
import { globalTable, table, type TableSource } from '../../../src/streams/table.js';
import { tableTableJoin } from '../../../src/streams/table-table-join.js';
import { eventually } from '../../contract/read-topic.js';
import { createTestDriver } from '../../../src/testing/index.js';

const logger = createLogger({ level: 'silent' });
const KEYS = ['a', 'b', 'c', 'd', 'e'];

/** A stream record: its index, key, event time. */
interface Order {
  readonly i: number;
  readonly k: string;
  readonly ts: number;
}
/** A table update: a number, a tombstone, or bytes that are not JSON. */
interface Update {
  readonly k: string;
  readonly v: number | null | 'bad';
  readonly ts: number;
}

const ordersArb = fc.array(fc.record({ k: fc.constantFrom(...KEYS), ts: fc.integer({ min: 0, max: 60 }) }), { minLength: 40, maxLength: 150 });
const updatesArb = fc.array(
  fc.record({ k: fc.constantFrom(...KEYS), v: fc.oneof(fc.integer({ min: 0, max: 99 }), fc.constant(null), fc.constant('bad' as const)), ts: fc.integer({ min: 0, max: 60 }) }),
  { minLength: 0, maxLength: 60 },
);

/**
 * The plain loop: per partition, each stream record takes the table updates (in the table
 * topic's order) whose times are at most its own, stopping at the first later one, then looks its
 * key up. A 'bad' update is skipped (the key keeps its value) and dead-lettered when taken.
 */
function reference(orders: readonly Order[], updates: readonly Update[], partitions: number, type: 'inner' | 'left') {
  const results: string[] = [];
  const deadLettered = new Set<string>();
  const tables = new Map<string, number>();
  for (let p = 0; p < partitions; p++) {
    const table = new Map<string, number>();
    const ups = updates.map((u, offset) => ({ ...u, offset: 0, index: offset })).filter((u) => partitionForKey(u.k, partitions) === p);
    ups.forEach((u, offset) => (u.offset = offset));
    let h = 0;
    for (const o of orders.filter((o) => partitionForKey(o.k, partitions) === p)) {
      while (h < ups.length && ups[h].ts <= o.ts) {
        const u = ups[h++];
        if (u.v === 'bad') deadLettered.add(`${p}@${u.offset}`);
        else if (u.v === null) table.delete(u.k);
        else table.set(u.k, u.v);
      }
      const v = table.get(o.k);
      if (v !== undefined || type === 'left') results.push(`${o.i}:${o.k}=${v ?? '-'}@${o.ts}`);
    }
    for (const [k, v] of table) tables.set(k, v);
  }
  return { results, deadLettered, tables };
}

async function write(log: MemoryLog, orders: readonly Order[], updates: readonly Update[]): Promise<void> {
  const producer = log.producer();
  await producer.send('rates', updates.map((u) => ({ key: u.k, value: u.v === null ? null : u.v === 'bad' ? '{not json' : JSON.stringify(u.v), timestamp: u.ts })));
  await producer.send('orders', orders.map((o) => ({ key: o.k, value: JSON.stringify(o), timestamp: o.ts })));
}

interface Out {
  readonly results: string[];
}

function app(log: MemoryLog, out: Out, rates: TableSource<string, number>, type: 'inner' | 'left', failAt: ReadonlySet<number>, batch: number) {
  const failed = new Set<number>();
  return createTributary({
    log,
    logger,
    restartBackoff: { minMs: 1, maxMs: 5 },
    processors: [
      defineProcessor<string, Order>({
        id: 'priced',
        source: { topics: 'orders', timestamp: (r) => r.value.ts },
        tables: { rates },
        commitIntervalMs: 3,
        maxBatchRecords: batch,
        buffer: { highWater: 8 },
        pipeline: (records: Observable<StreamRecord<string, Order>>) =>
          records.pipe(
            map((r) => {
              if (failAt.has(r.value.i) && !failed.has(r.value.i)) {
                failed.add(r.value.i);
                throw new Error(`injected failure before order ${r.value.i}`);
              }
              return r.value;
            }),
            streamTableJoin(rates, { type, key: (o: Order) => o.k, timestamp: (o: Order) => o.ts, join: (o: Order, v: number | null) => `${o.i}:${o.k}=${v ?? '-'}@${o.ts}` }),
            map((j) => j.value),
          ),
        sinks: toFunction('results', async (items: readonly string[]) => {
          out.results.push(...items);
          await new Promise((r) => setTimeout(r, 1 + (items.length % 3)));
        }),
      }),
    ],
  });
}

function newLog(partitions: number): MemoryLog {
  const log = new MemoryLog();
  log.createTopic('orders', partitions);
  log.createTopic('rates', partitions);
  return log;
}

async function deadLetteredUpdates(log: MemoryLog): Promise<Set<string>> {
  const seen = new Set<string>();
  const reader = log.reader();
  await reader.read({ topic: 'priced.dlq', partition: 0 }, 0, Infinity, (records) => {
    for (const r of records) {
      const h = r.headers;
      const text = (name: string) => String(h[name]);
      if (text(DeadLetterHeaders.topic) === 'rates') seen.add(`${text(DeadLetterHeaders.partition)}@${text(DeadLetterHeaders.offset)}`);
    }
  });
  await reader.close();
  return seen;
}

describe('tables read from topics', () => {
  let restoresWithRecords = 0;
  it('streamTableJoin on table(topic) gives the plain loop lookups (timestamp-synchronised), with tombstones, undecodable updates and failures at random records', async () => {
    await fc.assert(
      fc.asyncProperty(
        ordersArb,
        updatesArb,
        fc.constantFrom(1, 2),
        fc.constantFrom<'inner' | 'left'>('inner', 'left'),
        // Failures mostly past the first checkpoints, so that restarts restore tables with positions.
        fc.uniqueArray(fc.integer({ min: 400, max: 999 }), { maxLength: 3 }),
        fc.integer({ min: 1, max: 12 }),
        async (raw, updates, partitions, type, fails, batch) => {
          const orders = raw.map((o, i) => ({ ...o, i }));
          const log = newLog(partitions);
          await write(log, orders, updates);
          const out: Out = { results: [] };
          const rates = table<string, number>('rates');
          const running = app(log, out, rates, type, new Set(fails.map((f) => Math.floor((f / 1000) * orders.length))), batch);
          running.lifecycle.subscribe((e) => {
            if (e.type === 'partition.restored' && e.records > 0) restoresWithRecords++;
          });
          await running.start();
          await running.processor('priced').finishInput({ timeoutMs: 20_000 });
          const expected = reference(orders, updates, partitions, type);
          // The table's store answers queries, with the values it has taken.
          for (const k of KEYS) expect((await running.query('priced', 'rates', k)).value).toEqual(expected.tables.get(k));
          await running.stop();
          expect([...new Set(out.results)].sort()).toEqual([...expected.results].sort());
          // Written before the commits that passed them (finishInput and stop commit).
          expect(await deadLetteredUpdates(log)).toEqual(expected.deadLettered);
          // The source topic is the table's changelog: no second copy.
          expect(await log.admin().partitionCount('priced-rates-changelog')).toBeUndefined();
        },
      ),
      { numRuns: 25 },
    );
    // The failures did restore tables from their topic, up to a committed position.
    expect(restoresWithRecords).toBeGreaterThan(0);
  }, 120_000);

  it('a table timestamp extractor decides when updates are taken (the log timestamps here are far ahead of the stream)', async () => {
    await fc.assert(
      fc.asyncProperty(ordersArb, updatesArb, fc.constantFrom(1, 2), async (raw, updates, partitions) => {
        const orders = raw.map((o, i) => ({ ...o, i }));
        const log = newLog(partitions);
        const producer = log.producer();
        // The time in the value; tombstones (no value) and updates that do not decode (taken at their log time) keep it in the log timestamp.
        await producer.send('rates', updates.map((u) => ({ key: u.k, value: u.v === null ? null : u.v === 'bad' ? '{not json' : JSON.stringify({ v: u.v, at: u.ts }), timestamp: typeof u.v === 'number' ? 9_000_000_000_000 : u.ts })));
        await producer.send('orders', orders.map((o) => ({ key: o.k, value: JSON.stringify(o), timestamp: o.ts })));
        const out: Out = { results: [] };
        const rates = table<string, { v: number; at: number }>('rates', { timestamp: (u) => u.value?.at ?? u.timestamp });
        const running = createTributary({
          log,
          logger,
          processors: [
            defineProcessor<string, Order>({
              id: 'priced',
              source: { topics: 'orders', timestamp: (r) => r.value.ts },
              tables: { rates },
              pipeline: (records: Observable<StreamRecord<string, Order>>) =>
                records.pipe(
                  streamTableJoin(rates, { type: 'left', key: (r: StreamRecord<string, Order>) => r.value.k, join: (r: StreamRecord<string, Order>, v: { v: number } | null) => `${r.value.i}:${r.value.k}=${v?.v ?? '-'}@${r.value.ts}` }),
                  map((j) => j.value),
                ),
              sinks: toFunction('results', (items: readonly string[]) => void out.results.push(...items)),
            }),
          ],
        });
        await running.start();
        await running.processor('priced').finishInput({ timeoutMs: 20_000 });
        await running.stop();
        expect(out.results.sort()).toEqual(reference(orders, updates, partitions, 'left').results.sort());
      }),
      { numRuns: 10 },
    );
  });

  it("counts each table's updates not taken yet in tributary_table_lag_records at the commit: one later than every order", async () => {
    const log = newLog(1);
    const producer = log.producer();
    await producer.send('rates', [
      { key: 'a', value: '1', timestamp: 1 },
      { key: 'b', value: '2', timestamp: 5 },
      { key: 'a', value: '3', timestamp: 1_000_000 },
    ]);
    await producer.send('orders', Array.from({ length: 10 }, (_, i) => ({ key: 'a', value: JSON.stringify({ k: 'a', ts: 10 + i, i }), timestamp: 10 + i })));
    const rates = table<string, number>('rates');
    const out: Out = { results: [] };
    const running = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string, Order>({
          id: 'priced',
          source: { topics: 'orders', timestamp: (r) => r.value.ts },
          tables: { rates },
          pipeline: (records: Observable<StreamRecord<string, Order>>) =>
            records.pipe(
              streamTableJoin(rates, { type: 'left', key: (r: StreamRecord<string, Order>) => r.value.k, join: (r: StreamRecord<string, Order>, v: number | null) => `${r.value.i}=${v ?? '-'}` }),
              map((j) => j.value),
            ),
          sinks: toFunction('results', (items: readonly string[]) => void out.results.push(...items)),
        }),
      ],
    });
    await running.start();
    await running.processor('priced').finishInput({ timeoutMs: 20_000 });
    const lag = await running.metrics.registry.getSingleMetricAsString('tributary_table_lag_records');
    await running.stop();
    expect(out.results).toEqual(Array.from({ length: 10 }, (_, i) => `${i}=1`)); // the update at 1,000,000 not taken
    expect(lag).toContain('processor="priced",topic="orders",partition="0",table="rates"} 1');
  });

  it('with the test driver, random interleavings of table updates and orders: each order sees the updates piped before it, up to its time', async () => {
    await fc.assert(
      fc.asyncProperty(ordersArb, updatesArb, fc.constantFrom(1, 2), fc.constantFrom<'inner' | 'left'>('inner', 'left'), fc.infiniteStream(fc.boolean()), async (raw, updates, partitions, type, coin) => {
        const orders = raw.map((o, i) => ({ ...o, i }));
        // The interleaving: a random merge of both lists, each in its own order.
        const steps: Array<{ order: Order } | { update: Update }> = [];
        const coins = coin[Symbol.iterator]();
        for (let a = 0, b = 0; a < orders.length || b < updates.length; ) {
          if (b >= updates.length || (a < orders.length && coins.next().value === true)) steps.push({ order: orders[a++] });
          else steps.push({ update: updates[b++] });
        }
        // The plain loop: per partition, the updates piped so far, taken in order while their time is at most the order's.
        const expected: string[] = [];
        const piped = Array.from({ length: partitions }, () => [] as Update[]);
        const heads = new Array<number>(partitions).fill(0);
        const tables = Array.from({ length: partitions }, () => new Map<string, number>());
        for (const step of steps) {
          if ('update' in step) {
            piped[partitionForKey(step.update.k, partitions)].push(step.update);
            continue;
          }
          const o = step.order;
          const p = partitionForKey(o.k, partitions);
          while (heads[p] < piped[p].length && piped[p][heads[p]].ts <= o.ts) {
            const u = piped[p][heads[p]++];
            if (u.v === null) tables[p].delete(u.k);
            else if (u.v !== 'bad') tables[p].set(u.k, u.v);
          }
          const v = tables[p].get(o.k);
          if (v !== undefined || type === 'left') expected.push(`${o.i}:${o.k}=${v ?? '-'}@${o.ts}`);
        }
        const out: Out = { results: [] };
        const rates = table<string, number>('rates');
        const processor = defineProcessor<string, Order>({
          id: 'priced',
          source: { topics: 'orders', timestamp: (r) => r.value.ts },
          tables: { rates },
          pipeline: (records: Observable<StreamRecord<string, Order>>) =>
            records.pipe(
              streamTableJoin(rates, { type, key: (r: StreamRecord<string, Order>) => r.value.k, join: (r: StreamRecord<string, Order>, v: number | null) => `${r.value.i}:${r.value.k}=${v ?? '-'}@${r.value.ts}` }),
              map((j) => j.value),
            ),
          sinks: toFunction('results', (items: readonly string[]) => void out.results.push(...items)),
        });
        const driver = await createTestDriver({ processors: [processor], partitions: { orders: partitions } });
        try {
          const rateInput = driver.input<string, unknown>('rates', { value: { name: 'raw', serialize: (v: unknown) => v as string | null, deserialize: () => null } });
          const orderInput = driver.input<string, Order>('orders');
          for (const step of steps) {
            if ('order' in step) await orderInput.pipe({ key: step.order.k, value: step.order, timestamp: step.order.ts });
            else await rateInput.pipe({ key: step.update.k, value: step.update.v === null ? null : step.update.v === 'bad' ? '{not json' : JSON.stringify(step.update.v), timestamp: step.update.ts });
          }
          await driver.endInput();
        } finally {
          await driver.close();
        }
        expect([...out.results].sort()).toEqual([...expected].sort());
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('a new owner restores the table from its topic up to the committed position, then follows it (stop mid-run, more input, start again)', async () => {
    await fc.assert(
      fc.asyncProperty(ordersArb, updatesArb, fc.constantFrom(1, 2), fc.integer({ min: 1, max: 9 }), async (raw, updates, partitions, tenth) => {
        const orders = raw.map((o, i) => ({ ...o, i }));
        const split = Math.floor((orders.length * tenth) / 10);
        const log = newLog(partitions);
        const rates = table<string, number>('rates');
        // All table updates first (the interleaving is then a function of the timestamps alone), the orders in two parts.
        await write(log, orders.slice(0, split), updates);
        const out: Out = { results: [] };
        const first = app(log, out, rates, 'left', new Set(), 5);
        await first.start();
        await eventually(() => expect(first.processor('priced').gauges().reduce((n, g) => n + (g.position ?? 0), 0)).toBe(split));
        await first.stop();
        const restoredKeys: number[] = [];
        await write(log, orders.slice(split), []);
        const second = app(log, out, rates, 'left', new Set(), 5);
        second.lifecycle.subscribe((e) => {
          if (e.type === 'partition.restored') restoredKeys.push(e.keys);
        });
        await second.start();
        await second.processor('priced').finishInput({ timeoutMs: 20_000 });
        await second.stop();
        expect([...new Set(out.results)].sort()).toEqual(reference(orders, updates, partitions, 'left').results.sort());
        expect(restoredKeys).toHaveLength(partitions);
        expect(await log.admin().partitionCount('priced-rates-changelog')).toBeUndefined();
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it('fails the start with a CoPartitioningError naming both topics and their partition counts', async () => {
    const log = new MemoryLog();
    log.createTopic('orders', 4);
    log.createTopic('rates', 2);
    const out: Out = { results: [] };
    const running = app(log, out, table<string, number>('rates'), 'inner', new Set(), 10);
    const started = running.start();
    await expect(started).rejects.toBeInstanceOf(CoPartitioningError);
    await expect(started).rejects.toThrow(/topic orders \(4 partitions\) and the topic rates of its table 'rates' \(2 partitions\) are not co-partitioned.*repartition/);
    await running.stop().catch(() => undefined);
  });

  it('refuses a table the processor does not name, and a table topic that is also a source topic', async () => {
    const rates = table<string, number>('rates');
    // Outside a processor, and in a processor whose tables do not name it: a ConfigError when the pipeline is built.
    expect(() => streamTableJoin(rates, { key: (o: Order) => o.k, join: (o: Order, v: number) => `${o.i}=${v}` })).toThrow(/not one of the processor's tables: name it in the processor's `tables` option/);
    const log = newLog(1);
    await log.producer().send('orders', [{ key: 'a', value: JSON.stringify({ i: 0, k: 'a', ts: 0 }) }]);
    const errors: string[] = [];
    const unnamed = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string, Order>({
          id: 'unnamed',
          source: { topics: 'orders' },
          pipeline: (records) => records.pipe(streamTableJoin(rates, { key: (r: StreamRecord<string, Order>) => r.value.k, join: (r: StreamRecord<string, Order>, v: number) => `${r.value.i}=${v}` })),
          sinks: toFunction('x', () => undefined),
        }),
      ],
    });
    unnamed.lifecycle.subscribe((e) => {
      if (e.type === 'partition.failed') errors.push(e.error.message);
    });
    await unnamed.start();
    await eventually(() => expect(errors[0]).toMatch(/the table of topic rates is not one of the processor's tables/));
    await unnamed.stop().catch(() => undefined);
    // A store of the same name as a table: the partition fails (a commit has one position per name).
    const clashes: string[] = [];
    const clash = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string, Order>({
          id: 'clash',
          source: { topics: 'orders' },
          tables: { rates: table<string, number>('rates') },
          pipeline: (records) => records.pipe(countByKey({ store: 'rates' })),
          sinks: toFunction('x', () => undefined),
        }),
      ],
    });
    clash.lifecycle.subscribe((e) => {
      if (e.type === 'partition.failed') clashes.push(e.error.message);
    });
    await clash.start();
    await eventually(() => expect(clashes[0]).toMatch(/store rates is declared by an operator and is also a table of the processor/));
    await clash.stop().catch(() => undefined);
    // A global table whose topic does not exist fails the start.
    const missing = createTributary({
      log,
      logger,
      processors: [defineProcessor({ id: 'missing', source: { topics: 'orders' }, tables: { fx: globalTable('no-such-topic') }, pipeline: (r) => r, sinks: toFunction('x', () => undefined) })],
    });
    await expect(missing.start()).rejects.toThrow(/processor missing: the topic no-such-topic of its table 'fx' does not exist/);
    await missing.stop().catch(() => undefined);
    expect(() =>
      defineProcessor({ id: 'p', source: { topics: 'rates' }, tables: { rates }, pipeline: (r) => r, sinks: toFunction('x', () => undefined) }),
    ).toThrow(/both a source topic and a table/);
    expect(() => defineProcessor({ id: 'p', source: { topics: 'o' }, tables: { rates: {} as never }, pipeline: (r) => r, sinks: toFunction('x', () => undefined) })).toThrow(/table\(topic\) or globalTable/);
  });

  it('tableTableJoin with table(topic) as its right side gives the plain loop joined table, with failures at random records', async () => {
    interface Left extends Order {
      readonly v: number | null;
    }
    const leftsArb = fc.array(fc.record({ k: fc.constantFrom(...KEYS), ts: fc.integer({ min: 0, max: 60 }), v: fc.option(fc.integer({ min: 0, max: 9 }), { nil: null }) }), { minLength: 40, maxLength: 120 });
    /** Per partition: before each left update at t, the right updates up to t, each as an update of the right table; then the left one. */
    const referenceOf = (lefts: readonly Left[], updates: readonly Update[], partitions: number, type: 'inner' | 'left'): string[] => {
      const results: string[] = [];
      for (let p = 0; p < partitions; p++) {
        const tables = { L: new Map<string, { v: number; ts: number }>(), R: new Map<string, { v: number; ts: number }>() };
        const joinedOf = (k: string) => {
          const l = tables.L.get(k);
          const r = tables.R.get(k);
          if (l === undefined || (type === 'inner' && r === undefined)) return undefined;
          return `${l.v}+${r?.v ?? '-'}@${Math.max(l.ts, r?.ts ?? -Infinity)}`;
        };
        const apply = (side: 'L' | 'R', k: string, v: number | null, ts: number) => {
          const table = tables[side];
          if (v === null && !table.has(k)) return;
          const before = joinedOf(k);
          if (v === null) table.delete(k);
          else table.set(k, { v, ts });
          const after = joinedOf(k);
          if (after !== undefined) results.push(`${k} ${after}`);
          else if (before !== undefined) results.push(`${k} null@${ts}`);
        };
        const rights = updates.filter((u) => partitionForKey(u.k, partitions) === p);
        let h = 0;
        for (const l of lefts.filter((l) => partitionForKey(l.k, partitions) === p)) {
          while (h < rights.length && rights[h].ts <= l.ts) {
            const u = rights[h++];
            if (u.v !== 'bad') apply('R', u.k, u.v, u.ts);
          }
          apply('L', l.k, l.v, l.ts);
        }
      }
      return results;
    };
    await fc.assert(
      fc.asyncProperty(
        leftsArb,
        updatesArb,
        fc.constantFrom(1, 2),
        fc.constantFrom<'inner' | 'left'>('inner', 'left'),
        fc.uniqueArray(fc.integer({ min: 400, max: 999 }), { maxLength: 3 }),
        async (raw, updates, partitions, type, fails) => {
          const lefts: Left[] = raw.map((l, i) => ({ ...l, i }));
          const failAt = new Set(fails.map((f) => Math.floor((f / 1000) * lefts.length)));
          const failed = new Set<number>();
          const log = newLog(partitions);
          const producer = log.producer();
          await producer.send('rates', updates.map((u) => ({ key: u.k, value: u.v === null ? null : u.v === 'bad' ? '{not json' : JSON.stringify(u.v), timestamp: u.ts })));
          await producer.send('orders', lefts.map((l) => ({ key: l.k, value: JSON.stringify(l), timestamp: l.ts })));
          const results: string[] = [];
          const rates = table<string, number>('rates');
          const running = createTributary({
            log,
            logger,
            restartBackoff: { minMs: 1, maxMs: 5 },
            processors: [
              defineProcessor<string, Left>({
                id: 'joined',
                source: { topics: 'orders', timestamp: (r) => r.value.ts },
                tables: { rates },
                commitIntervalMs: 3,
                maxBatchRecords: 7,
                buffer: { highWater: 8 },
                pipeline: (records: Observable<StreamRecord<string, Left>>) =>
                  records.pipe(
                    map((r) => {
                      if (failAt.has(r.value.i) && !failed.has(r.value.i)) {
                        failed.add(r.value.i);
                        throw new Error(`injected failure before update ${r.value.i}`);
                      }
                      return { key: r.value.k, value: r.value.v, timestamp: r.value.ts };
                    }),
                    tableTableJoin(rates, { type, store: 'joined', join: (l: number, r: number | null) => `${l}+${r ?? '-'}` }),
                    map((u) => `${u.key} ${u.value ?? 'null'}@${u.timestamp}`),
                  ),
                sinks: toFunction('results', async (items: readonly string[]) => {
                  results.push(...items);
                  await new Promise((r) => setTimeout(r, 1 + (items.length % 3)));
                }),
              }),
            ],
          });
          await running.start();
          await running.processor('joined').finishInput({ timeoutMs: 20_000 });
          await running.stop();
          expect([...new Set(results)].sort()).toEqual([...new Set(referenceOf(lefts, updates, partitions, type))].sort());
          expect(await log.admin().partitionCount('joined-joined.right-changelog')).toBeUndefined();
          expect(await log.admin().partitionCount('joined-rates-changelog')).toBeUndefined();
        },
      ),
      { numRuns: 20 },
    );
  }, 120_000);

  it('globalTable: every node reads every partition before its partitions start, a key extractor joins without co-partitioning, later updates are followed', async () => {
    await fc.assert(
      fc.asyncProperty(ordersArb, updatesArb, fc.constantFrom(1, 3), fc.constantFrom(1, 2), async (raw, updates, tablePartitions, partitions) => {
        // Orders keyed by their index (not the join key): they need no co-partitioning with the table.
        const orders = raw.map((o, i) => ({ ...o, i }));
        const log = new MemoryLog();
        log.createTopic('orders', partitions);
        log.createTopic('currencies', tablePartitions);
        const producer = log.producer();
        await producer.send('currencies', updates.map((u) => ({ key: u.k, value: u.v === null ? null : u.v === 'bad' ? '{not json' : JSON.stringify(u.v), timestamp: u.ts })));
        await producer.send('orders', orders.map((o) => ({ key: `order-${o.i}`, value: JSON.stringify(o), timestamp: o.ts })));
        const results: string[] = [];
        const currencies = globalTable<string, number>('currencies');
        const running = createTributary({
          log,
          logger,
          processors: [
            defineProcessor<string, Order>({
              id: 'converted',
              source: { topics: 'orders', timestamp: (r) => r.value.ts },
              tables: { currencies },
              commitIntervalMs: 3,
              pipeline: (records: Observable<StreamRecord<string, Order>>) =>
                records.pipe(
                  streamTableJoin(currencies, { type: 'left', key: (r: StreamRecord<string, Order>) => r.value.k, join: (r: StreamRecord<string, Order>, v: number | null) => `${r.value.i}:${r.value.k}=${v ?? '-'}` }),
                  map((j) => j.value),
                ),
              sinks: toFunction('results', (items: readonly string[]) => void results.push(...items)),
            }),
          ],
        });
        await running.start();
        await running.processor('converted').finishInput({ timeoutMs: 20_000 });
        // The plain loop: the table read to its end (its partitions in any order: each key lives in one), before any order.
        const latest = new Map<string, number>();
        for (const u of updates) {
          if (u.v === null) latest.delete(u.k);
          else if (u.v !== 'bad') latest.set(u.k, u.v);
        }
        expect(results.sort()).toEqual(orders.map((o) => `${o.i}:${o.k}=${latest.get(o.k) ?? '-'}`).sort());
        // Followed after the start: a new value, then a tombstone.
        const global = running.processor('converted').tables.global('currencies')!;
        await producer.send('currencies', [{ key: 'z', value: '7' }]);
        await eventually(() => expect(global.get('z')?.value).toBe(7));
        await producer.send('currencies', [{ key: 'a', value: null }]);
        await eventually(() => expect(global.get('a')).toBeUndefined());
        await running.stop();
        expect(await log.admin().partitionCount('converted-currencies-changelog')).toBeUndefined();
      }),
      { numRuns: 10 },
    );
  }, 120_000);

  /** Orders keyed by order id on 2 partitions, repartitioned by the join key into `stagePartitions` to meet table(rates) of 3. */
  function repartitioned(log: MemoryLog, results: string[], stagePartitions: number) {
    const rates = table<string, number>('rates');
    return createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string, Order>({
          id: 'orders-by-id',
          source: { topics: 'orders', timestamp: (r) => r.value.ts },
          commitIntervalMs: 5,
          pipeline: (records: Observable<StreamRecord<string, Order>>) => records.pipe(map((r) => ({ ...r.value, timestamp: r.value.ts }))),
          sinks: repartition<Order & { timestamp: number }>({
            name: 'by-key',
            key: (o) => o.k,
            partitions: stagePartitions,
            tables: { rates },
            pipeline: (orders) =>
              orders.pipe(
                streamTableJoin(rates, { type: 'left', key: (r: StreamRecord<string, Order>) => r.value.k, join: (r: StreamRecord<string, Order>, v: number | null) => `${r.value.i}:${r.value.k}=${v ?? '-'}` }),
                map((j) => j.value),
              ),
            sinks: toFunction('results', (items: readonly string[]) => void results.push(...items)),
          }),
        }),
      ],
    });
  }

  it('a stream keyed otherwise meets table(topic) behind a repartition by the join key into as many partitions as the table', async () => {
    await fc.assert(
      fc.asyncProperty(ordersArb, updatesArb, async (raw, updates) => {
        const orders = raw.map((o, i) => ({ ...o, i, ts: o.ts + 100 })); // every update (ts <= 60) before every order
        const log = new MemoryLog();
        log.createTopic('orders', 2);
        log.createTopic('rates', 3);
        const producer = log.producer();
        await producer.send('rates', updates.map((u) => ({ key: u.k, value: u.v === null ? null : u.v === 'bad' ? '{not json' : JSON.stringify(u.v), timestamp: u.ts })));
        await producer.send('orders', orders.map((o) => ({ key: `order-${o.i}`, value: JSON.stringify(o), timestamp: o.ts })));
        const results: string[] = [];
        const running = repartitioned(log, results, 3);
        await running.start();
        await running.finishInput({ timeoutMs: 20_000 });
        await running.stop();
        const latest = new Map<string, number>();
        for (const u of updates) {
          if (u.v === null) latest.delete(u.k);
          else if (u.v !== 'bad') latest.set(u.k, u.v);
        }
        expect([...new Set(results)].sort()).toEqual(orders.map((o) => `${o.i}:${o.k}=${latest.get(o.k) ?? '-'}`).sort());
        expect(await log.admin().partitionCount('orders-by-id-by-key-rates-changelog')).toBeUndefined();
      }),
      { numRuns: 8 },
    );
  }, 120_000);

  it('a repartition stage with another partition count than its table fails the start, saying which partitions to give it', async () => {
    const log = new MemoryLog();
    log.createTopic('orders', 2);
    log.createTopic('rates', 3);
    const running = repartitioned(log, [], 2);
    const started = running.start();
    await expect(started).rejects.toBeInstanceOf(CoPartitioningError);
    await expect(started).rejects.toThrow(/topic orders-by-id-by-key-repartition \(2 partitions\) and the topic rates of its table 'rates' \(3 partitions\) are not co-partitioned.*Give the repartition that writes orders-by-id-by-key-repartition partitions: 3/);
    await running.stop().catch(() => undefined);
  });

  it('a stream not keyed by the join key fails its partition with a TableKeyingError naming the key and both partitions (its lookups would miss)', async () => {
    const log = newLog(2);
    const producer = log.producer();
    await producer.send('rates', KEYS.map((k, i) => ({ key: k, value: String(i), timestamp: 0 })));
    // Keyed by order id: an order's join key is in either partition of the table.
    await producer.send('orders', KEYS.flatMap((k, i) => [0, 1, 2].map((j) => ({ key: `order-${i}-${j}`, value: JSON.stringify({ i: i * 3 + j, k, ts: 10 }), timestamp: 10 }))));
    const rates = table<string, number>('rates');
    const errors: string[] = [];
    const running = createTributary({
      log,
      logger,
      restartBackoff: { minMs: 1, maxMs: 5 },
      processors: [
        defineProcessor<string, Order>({
          id: 'unkeyed',
          source: { topics: 'orders' },
          tables: { rates },
          pipeline: (records: Observable<StreamRecord<string, Order>>) =>
            records.pipe(streamTableJoin(rates, { key: (r: StreamRecord<string, Order>) => r.value.k, join: (r: StreamRecord<string, Order>, v: number) => `${r.value.i}=${v}` }), map((j) => j.value)),
          sinks: toFunction('results', () => undefined),
        }),
      ],
    });
    running.lifecycle.subscribe((e) => {
      if (e.type === 'partition.failed') errors.push(e.error.message);
    });
    await running.start();
    await eventually(() => expect(errors.length).toBeGreaterThan(0));
    expect(errors[0]).toMatch(/table rates \(topic rates\) in partition \d: join key "[a-e]" belongs to partition \d of 2 .*not keyed by the join key.*repartition\(\{ key, partitions: 2, tables: \{ rates \}/);
    await running.stop().catch(() => undefined);
  });
});
