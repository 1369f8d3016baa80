import { bufferCount, concatMap, from, map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KeyedUnlikeInputError } from '../../../src/actors/keyed-unlike-input-error.js';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { ConfigError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { TributaryMetrics } from '../../../src/observability/metrics.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { repartition } from '../../../src/processor/repartition.js';
import { UnpartitionedStoreError } from '../../../src/processor/unpartitioned-store-error.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { aggregateByKey, type TableUpdate } from '../../../src/streams/aggregate-by-key.js';
import type { StorePartitioning } from '../../../src/state/partition-state.js';
import type { SupervisorEvent } from '../../../src/supervision/supervisor-event.js';
import { counting } from '../../../src/streams/counting.js';
import { keyBy } from '../../../src/streams/key-by.js';
import { keyedProcess } from '../../../src/streams/keyed-process.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { summing } from '../../../src/streams/summing.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import { eventually } from '../../contract/read-topic.js';

const logger = createLogger({ level: 'silent' });
const PARTITIONS = 4;

interface Order {
  readonly orderId: string;
  readonly customerId: string;
  readonly cents: number;
}

/** 400 orders of 20 customers, keyed by order id on the input (so a customer's orders land in every partition). */
function orders(): Order[] {
  return Array.from({ length: 400 }, (_, i) => ({ orderId: `order-${i}`, customerId: `customer-${(i * 7) % 20}`, cents: 100 + ((i * 37) % 900) }));
}

/** The plain loop: each customer's total. */
function totalsByCustomer(input: readonly Order[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const o of input) totals.set(o.customerId, (totals.get(o.customerId) ?? 0) + o.cents);
  return totals;
}

async function ordersLog(input: readonly Order[]): Promise<MemoryLog> {
  const log = new MemoryLog();
  log.createTopic('orders', PARTITIONS);
  await log.producer().send('orders', input.map((o) => ({ key: o.orderId, value: JSON.stringify(o) })));
  return log;
}

/** A customer's total from the scan of every partition: the sum of the partial totals. */
function sumOfScan(rows: ReadonlyArray<{ key: unknown; value: unknown }>, customer: string): number {
  return rows.filter((r) => r.key === customer).reduce((sum, r) => sum + (r.value as number), 0);
}

/**
 * Totals per customer (`keyBy` customer, `aggregateByKey`) over the orders as they are partitioned:
 * by order id. Each update's timestamp is where its record sat (`partition * 10,000 + offset`).
 */
function totalsApp(log: MemoryLog, options: { metrics?: TributaryMetrics; partitioning?: StorePartitioning; updates?: TableUpdate<string, number>[] } = {}) {
  return createTributary({
    log,
    logger,
    metrics: options.metrics ?? new TributaryMetrics(),
    restartBackoff: { minMs: 1, maxMs: 2 },
    supervision: { intensity: 20, periodMs: 60_000, onEscalation: 'stay-down' },
    processors: [
      defineProcessor<string | null, Order>({
        id: 'totals',
        source: { topics: 'orders' },
        pipeline: (records: Observable<StreamRecord<string | null, Order>>) =>
          records.pipe(
            keyBy((r) => r.value.customerId),
            aggregateByKey({
              store: 'by-customer',
              aggregate: summing((r: StreamRecord<string, Order>) => r.value.cents),
              timestamp: (r) => r.partition * 10_000 + r.offset,
              partitioning: options.partitioning,
            }),
          ),
        sinks: toFunction('updates', (items: readonly TableUpdate<string, number>[]) => void options.updates?.push(...items)),
      }),
    ],
  });
}

describe('queries of a store whose keys do not follow the input partitioning', () => {
  it('refuses totals per customer over orders keyed by order id without a repartition: the processor fails at the first misplaced key, naming it, before any result of that record leaves, and is not restarted', async () => {
    const input = orders();
    const log = await ordersLog(input);
    const updates: TableUpdate<string, number>[] = [];
    const app = totalsApp(log, { updates });
    const events: SupervisorEvent[] = [];
    app.supervision.subscribe((e) => events.push(e));
    await app.start();
    await eventually(() => expect(events.some((e) => e.type === 'supervisor.gave-up')).toBe(true), 20_000);

    const refusals = events.flatMap((e) => (e.type === 'supervisor.child-failed' && e.error instanceof KeyedUnlikeInputError ? [e.error] : []));
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      const { mismatch, record } = refusal;
      expect(refusal.processor).toBe('totals');
      expect(refusal.operator).toBe('aggregateByKey');
      expect(mismatch).toMatchObject({ store: 'by-customer', topic: 'orders', partitionCount: PARTITIONS });
      expect(partitionForKey(mismatch.key, PARTITIONS)).toBe(mismatch.mapsTo);
      expect(mismatch.partition).not.toBe(mismatch.mapsTo);
      // The refused record is the first of its partition whose customer maps elsewhere.
      const inPartition = input.filter((o) => partitionForKey(o.orderId, PARTITIONS) === mismatch.partition);
      const first = inPartition.findIndex((o) => partitionForKey(o.customerId, PARTITIONS) !== mismatch.partition);
      expect(record).toEqual({ offset: first, key: inPartition[first].orderId });
      expect(mismatch.key).toBe(inPartition[first].customerId);
      // None of its results left.
      expect(updates.filter((u) => u.timestamp === mismatch.partition * 10_000 + record.offset)).toEqual([]);
      for (const part of ["processor 'totals'", "operator aggregateByKey (store 'by-customer')", JSON.stringify(mismatch.key), `orders[${mismatch.partition}]@${record.offset}`, `maps to partition ${mismatch.mapsTo} of orders`, 'repartition({ key })', "partitioning: 'per-partition'"]) {
        expect(refusal.message).toContain(part);
      }
    }
    // What left before it is right: each update's customer maps to the partition that counted it.
    for (const u of updates) expect(partitionForKey(u.key, PARTITIONS)).toBe(Math.floor(u.timestamp / 10_000));
    // A configuration error, permanent: not restarted at any level, escalated; /health says so.
    expect(events.filter((e) => e.type === 'supervisor.child-restarting')).toEqual([]);
    expect(JSON.stringify(app.health())).toMatch(/permanent failure/);
    await app.stop().catch(() => {});
  }, 30_000);

  it("keeps state per partition on purpose with partitioning: 'per-partition': the pipeline runs, a query is refused naming the store, a misplaced key and the fix, again after a restart; the scan answers", async () => {
    const input = orders();
    const log = await ordersLog(input);
    const metrics = new TributaryMetrics();
    const app = totalsApp(log, { metrics, partitioning: 'per-partition' });
    await app.start();
    await app.processor('totals').finishInput({ timeoutMs: 20_000 });

    const error = await app.query('totals', 'by-customer', 'customer-3').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(UnpartitionedStoreError);
    const { unpartitioned, mismatch } = error as UnpartitionedStoreError;
    expect(unpartitioned).toMatchObject({ store: 'by-customer', perPartition: true });
    expect(mismatch?.store).toBe('by-customer');
    expect(mismatch?.topic).toBe('orders');
    expect(mismatch?.partitionCount).toBe(PARTITIONS);
    // The evidence is true: that key maps elsewhere, and the partition named holds it.
    expect(partitionForKey(mismatch!.key, PARTITIONS)).toBe(mismatch!.mapsTo);
    expect(mismatch!.partition).not.toBe(mismatch!.mapsTo);
    const message = (error as Error).message;
    for (const part of ["processor 'totals'", "store 'by-customer'", "partitioning: 'per-partition'", JSON.stringify(mismatch!.key), `partition ${mismatch!.partition} of orders`, `maps to partition ${mismatch!.mapsTo}`, 'repartition({ key })', 'app.scan']) {
      expect(message).toContain(part);
    }

    const scan = await app.scan('totals', 'by-customer');
    expect(sumOfScan(scan.rows, 'customer-3')).toBe(totalsByCustomer(input).get('customer-3'));
    expect(new Set(scan.rows.filter((r) => r.key === 'customer-3').map((r) => r.partition)).size).toBeGreaterThan(1);
    expect(await metrics.registry.getSingleMetricAsString('tributary_state_store_unpartitioned')).toContain('processor="totals",store="by-customer"} 1');
    await app.stop();

    // After a restart, from the restored stores alone (no new input), the query is refused again.
    const restarted = totalsApp(log, { partitioning: 'per-partition' });
    await restarted.start();
    await restarted.processor('totals').finishInput({ timeoutMs: 20_000 });
    await expect(restarted.query('totals', 'by-customer', 'customer-3')).rejects.toBeInstanceOf(UnpartitionedStoreError);
    expect(sumOfScan((await restarted.scan('totals', 'by-customer')).rows, 'customer-3')).toBe(totalsByCustomer(input).get('customer-3'));
    await restarted.stop();
  });

  it('refuses an unknown partitioning at construction, naming the option', () => {
    expect(() => aggregateByKey({ aggregate: summing((r: { v: number }) => r.v), partitioning: 'local' as StorePartitioning })).toThrow(ConfigError);
    expect(() => aggregateByKey({ aggregate: summing((r: { v: number }) => r.v), partitioning: 'local' as StorePartitioning })).toThrow(/aggregateByKey.partitioning.*'by-key'.*'per-partition'/);
  });

  it('answers the right total, equal to a plain loop, with a repartition by customer before the aggregate', async () => {
    const input = orders();
    const log = await ordersLog(input);
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, Order>({
          id: 'orders',
          source: { topics: 'orders' },
          pipeline: (records) => records.pipe(map((r) => r.value)),
          sinks: repartition<Order>({
            name: 'by-customer',
            key: (o) => o.customerId,
            partitions: PARTITIONS,
            pipeline: (byCustomer: Observable<StreamRecord<string, Order>>) =>
              byCustomer.pipe(aggregateByKey({ store: 'by-customer', aggregate: summing((r: StreamRecord<string, Order>) => r.value.cents) })),
            sinks: toFunction('updates', () => undefined),
          }),
        }),
      ],
    });
    await app.start();
    await app.processor('orders').finishInput({ timeoutMs: 20_000 });
    await app.processor('orders-by-customer').finishInput({ timeoutMs: 20_000 });
    for (const [customer, total] of totalsByCustomer(input)) {
      expect(await app.query('orders-by-customer', 'by-customer', customer)).toMatchObject({ found: true, value: total, partition: partitionForKey(customer, PARTITIONS) });
    }
    await app.stop();
  });

  it("issue 21: a keyedProcess running total keyed by customerId over orders keyed by orderId is refused at its first misplaced key; behind repartition({ key: customerId }) its totals are exact and app.query answers them", async () => {
    const input = orders();
    const runningTotal = (records: Observable<StreamRecord<unknown, Order>>) =>
      records.pipe(
        keyedProcess<StreamRecord<unknown, Order>, number, { customer: string; total: number }, string>({
          store: 'running-total',
          key: (r) => r.value.customerId,
          init: () => 0,
          onRecord: (ctx, r) => {
            ctx.state += r.value.cents;
            ctx.emit({ customer: ctx.key, total: ctx.state });
          },
        }),
      );

    // Without the repartition: a clear refusal, and no total leaves.
    const wrong = await ordersLog(input);
    const emitted: unknown[] = [];
    const refused = createTributary({
      log: wrong,
      logger,
      supervision: { onEscalation: 'stay-down' },
      processors: [defineProcessor<string | null, Order>({ id: 'totals', source: { topics: 'orders' }, pipeline: runningTotal, sinks: toFunction('totals', (items: readonly unknown[]) => void emitted.push(...items)) })],
    });
    const events: SupervisorEvent[] = [];
    refused.supervision.subscribe((e) => events.push(e));
    await refused.start();
    await eventually(() => expect(events.some((e) => e.type === 'supervisor.gave-up')).toBe(true), 20_000);
    const error = events.flatMap((e) => (e.type === 'supervisor.child-failed' ? [e.error] : [])).find((e) => e instanceof KeyedUnlikeInputError);
    expect(error?.message).toMatch(/^processor 'totals': operator keyedProcess \(store 'running-total'\) is keyed unlike its input: processing orders\[\d\]@\d+ \(key "order-\d+"\) it wrote state under key "customer-\d+", which maps to partition \d of orders, not \d .*repartition\(\{ key \}\)/);
    expect(emitted).toEqual([]);
    expect(events.filter((e) => e.type === 'supervisor.child-restarting')).toEqual([]);
    await refused.stop().catch(() => {});

    // With it: exact totals, and the query answers each customer's from the partition its key maps to.
    const right = await ordersLog(input);
    const totals = new Map<string, number>();
    const app = createTributary({
      log: right,
      logger,
      processors: [
        defineProcessor<string | null, Order>({
          id: 'orders',
          source: { topics: 'orders' },
          pipeline: (records) => records.pipe(map((r) => r.value)),
          sinks: repartition<Order>({
            name: 'by-customer',
            key: (o) => o.customerId,
            partitions: PARTITIONS,
            pipeline: runningTotal,
            sinks: toFunction('totals', (items: ReadonlyArray<{ customer: string; total: number }>) => {
              for (const t of items) totals.set(t.customer, t.total);
            }),
          }),
        }),
      ],
    });
    await app.start();
    await app.processor('orders').finishInput({ timeoutMs: 20_000 });
    await app.processor('orders-by-customer').finishInput({ timeoutMs: 20_000 });
    expect(totals).toEqual(totalsByCustomer(input));
    for (const [customer, total] of totalsByCustomer(input)) {
      expect(await app.query('orders-by-customer', 'running-total', customer)).toMatchObject({ found: true, value: total, partition: partitionForKey(customer, PARTITIONS) });
    }
    await app.stop();
  });

  it("does not refuse a store keyed by the input's own keys when another partitioner placed them (librdkafka's CRC32): totals are exact, queries are refused with the reason, the scan answers", async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', PARTITIONS);
    const users = Array.from({ length: 200 }, (_, i) => `user-${i % 40}`);
    // Another producer's partitioner: never the partition murmur2 gives.
    await log.producer().send('clicks', users.map((key, i) => ({ key, value: JSON.stringify({ i }), partition: (partitionForKey(key, PARTITIONS) + 1) % PARTITIONS })));
    const events: SupervisorEvent[] = [];
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, { i: number }>({
          id: 'counts',
          source: { topics: 'clicks' },
          pipeline: (records) => records.pipe(map((r) => r as StreamRecord<string, { i: number }>), aggregateByKey({ store: 'per-user', aggregate: counting() })),
          sinks: toFunction('updates', () => undefined),
        }),
      ],
    });
    app.supervision.subscribe((e) => events.push(e));
    await app.start();
    await app.processor('counts').finishInput({ timeoutMs: 20_000 });
    expect(events.filter((e) => e.type === 'supervisor.child-failed')).toEqual([]);
    const expected = new Map<string, number>();
    for (const u of users) expected.set(u, (expected.get(u) ?? 0) + 1);
    const scanned = new Map((await app.scan('counts', 'per-user')).rows.map((row) => [row.key as string, row.value as number]));
    expect(scanned).toEqual(expected);
    const error = await app.query('counts', 'per-user', 'user-1').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UnpartitionedStoreError);
    expect((error as UnpartitionedStoreError).unpartitioned.perPartition).toBe(false);
    expect((error as Error).message).toMatch(/partitions them unlike murmur2 \(librdkafka's default is CRC32 consistent_random/);
    await app.stop();
  });

  it("does not refuse a store keyed like its input over another partitioner's topic when its writes are for earlier records than the one in flight (a buffer)", async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', PARTITIONS);
    const users = Array.from({ length: 400 }, (_, i) => `user-${(i * 7) % 60}`);
    await log.producer().send('clicks', users.map((key, i) => ({ key, value: JSON.stringify({ i }), partition: (partitionForKey(key, PARTITIONS) + 1) % PARTITIONS })));
    const events: SupervisorEvent[] = [];
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, { i: number }>({
          id: 'counts',
          source: { topics: 'clicks' },
          pipeline: (records) =>
            records.pipe(
              map((r) => r as StreamRecord<string, { i: number }>),
              bufferCount(7), // released while the 7th record is in flight: the other six are written under their own keys
              concatMap((batch) => from(batch)),
              aggregateByKey({ store: 'per-user', aggregate: counting() }),
            ),
          sinks: toFunction('updates', () => undefined),
        }),
      ],
    });
    app.supervision.subscribe((e) => events.push(e));
    await app.start();
    await app.processor('counts').finishInput({ timeoutMs: 20_000 });
    expect(events.filter((e) => e.type === 'supervisor.child-failed')).toEqual([]);
    const expected = new Map<string, number>();
    for (const u of users) expected.set(u, (expected.get(u) ?? 0) + 1);
    expect(new Map((await app.scan('counts', 'per-user')).rows.map((row) => [row.key as string, row.value as number]))).toEqual(expected);
    await app.stop();
  });

  it("refuses queries of a store declared partitioning: 'per-partition' even where no key shows it, so that no node answers from its one partition", async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', PARTITIONS);
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    await log.producer().send('clicks', users.map((key) => ({ key, value: '{}' })));
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, unknown>({
          id: 'counts',
          source: { topics: 'clicks' },
          // Keyed by the record's key: every key maps to its partition, no evidence anywhere.
          pipeline: (records) => records.pipe(map((r) => r as StreamRecord<string, unknown>), aggregateByKey({ store: 'per-user', aggregate: counting(), partitioning: 'per-partition' })),
          sinks: toFunction('updates', () => undefined),
        }),
      ],
    });
    await app.start();
    await app.processor('counts').finishInput({ timeoutMs: 20_000 });
    const error = await app.query('counts', 'per-user', 'user-1').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UnpartitionedStoreError);
    expect((error as UnpartitionedStoreError).unpartitioned).toEqual({ store: 'per-user', perPartition: true, mismatch: undefined });
    expect((await app.scan('counts', 'per-user')).rows).toHaveLength(users.length);
    await app.stop();
  });

  it('answers as before for a store keyed like its input', async () => {
    const log = new MemoryLog();
    log.createTopic('clicks', PARTITIONS);
    const users = Array.from({ length: 200 }, (_, i) => `user-${i % 50}`);
    await log.producer().send('clicks', users.map((key, i) => ({ key, value: JSON.stringify({ i }) })));
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, { i: number }>({
          id: 'counts',
          source: { topics: 'clicks' },
          pipeline: (records) =>
            records.pipe(
              map((r) => r as StreamRecord<string, { i: number }>),
              aggregateByKey({ store: 'per-user', aggregate: counting() }),
            ),
          sinks: toFunction('updates', () => undefined),
        }),
      ],
    });
    await app.start();
    await app.processor('counts').finishInput({ timeoutMs: 20_000 });
    const expected = new Map<string, number>();
    for (const u of users) expected.set(u, (expected.get(u) ?? 0) + 1);
    for (const [user, count] of expected) expect(await app.query('counts', 'per-user', user)).toMatchObject({ found: true, value: count });
    await app.stop();
  });

  it("flags a per-partition key (() => 'top', partitioning: 'per-partition') for queries only: the pipeline runs to the end, its scan answers and its query fails", async () => {
    const log = new MemoryLog();
    log.createTopic('views', PARTITIONS);
    const keys = Array.from({ length: 80 }, (_, i) => `page-${i}`);
    await log.producer().send('views', keys.map((key, i) => ({ key, value: JSON.stringify({ ts: i * 10 }) })));
    const fired: number[] = [];
    let failures = 0;
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string | null, { ts: number }>({
          id: 'top',
          source: { topics: 'views', timestamp: (r) => r.value.ts },
          pipeline: (records) => records.pipe(tumbling({ size: 1_000_000, key: () => 'top', aggregate: counting(), store: 'top-pages', partitioning: 'per-partition' })),
          sinks: toFunction('out', (items: readonly { value: number }[]) => void fired.push(...items.map((w) => w.value))),
        }),
      ],
    });
    app.lifecycle.subscribe((e) => {
      if (e.type === 'partition.failed') failures++;
    });
    await app.start();
    // While the window is open, every partition holds a 'top' entry; 'top' maps to one of them.
    await eventually(async () => {
      const partitions = new Set((await app.scan('top', 'top-pages')).rows.map((row) => row.partition));
      expect(partitions.size).toBe(PARTITIONS);
    });
    const error = await app.query('top', 'top-pages', 'top').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(UnpartitionedStoreError);
    expect((error as UnpartitionedStoreError).unpartitioned).toMatchObject({ store: 'top-pages', perPartition: true, mismatch: { key: 'top', mapsTo: partitionForKey('top', PARTITIONS) } });
    // The pipeline is right as it is: the end of input fires each partition's window, every view counted once.
    await app.processor('top').finishInput({ timeoutMs: 20_000 });
    expect(fired.reduce((a, b) => a + b, 0)).toBe(keys.length);
    expect(fired).toHaveLength(PARTITIONS);
    expect(failures).toBe(0);
    await app.stop();
  });
});
