import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { createLogger } from '../../../src/observability/logger.js';
import { TributaryMetrics } from '../../../src/observability/metrics.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { repartition } from '../../../src/processor/repartition.js';
import { UnpartitionedStoreError } from '../../../src/processor/unpartitioned-store-error.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { aggregateByKey } from '../../../src/streams/aggregate-by-key.js';
import { counting } from '../../../src/streams/counting.js';
import { keyBy } from '../../../src/streams/key-by.js';
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

/** Totals per customer (`keyBy` customer, `aggregateByKey`) over the orders as they are partitioned: by order id. */
function totalsApp(log: MemoryLog, metrics = new TributaryMetrics()) {
  return createTributary({
    log,
    logger,
    metrics,
    processors: [
      defineProcessor<string | null, Order>({
        id: 'totals',
        source: { topics: 'orders' },
        pipeline: (records: Observable<StreamRecord<string | null, Order>>) =>
          records.pipe(
            keyBy((r) => r.value.customerId),
            aggregateByKey({ store: 'by-customer', aggregate: summing((r: StreamRecord<string, Order>) => r.value.cents) }),
          ),
        sinks: toFunction('updates', () => undefined),
      }),
    ],
  });
}

describe('queries of a store whose keys do not follow the input partitioning', () => {
  it('fails a query of totals per customer over orders keyed by order id, naming the store, a misplaced key and the fix, and again after a restart; the scan still answers', async () => {
    const input = orders();
    const log = await ordersLog(input);
    const metrics = new TributaryMetrics();
    const app = totalsApp(log, metrics);
    await app.start();
    await app.processor('totals').finishInput({ timeoutMs: 20_000 });

    const error = await app.query('totals', 'by-customer', 'customer-3').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(UnpartitionedStoreError);
    const { mismatch } = error as UnpartitionedStoreError;
    expect(mismatch.store).toBe('by-customer');
    expect(mismatch.topic).toBe('orders');
    expect(mismatch.partitionCount).toBe(PARTITIONS);
    // The evidence is true: that key maps elsewhere, and the partition named holds it.
    expect(partitionForKey(mismatch.key, PARTITIONS)).toBe(mismatch.mapsTo);
    expect(mismatch.partition).not.toBe(mismatch.mapsTo);
    const message = (error as Error).message;
    for (const part of ["processor 'totals'", "store 'by-customer'", JSON.stringify(mismatch.key), `partition ${mismatch.partition} of orders`, `maps to partition ${mismatch.mapsTo}`, 'repartition({ key })', 'app.scan']) {
      expect(message).toContain(part);
    }

    const scan = await app.scan('totals', 'by-customer');
    expect(sumOfScan(scan.rows, 'customer-3')).toBe(totalsByCustomer(input).get('customer-3'));
    expect(new Set(scan.rows.filter((r) => r.key === 'customer-3').map((r) => r.partition)).size).toBeGreaterThan(1);
    expect(await metrics.registry.getSingleMetricAsString('tributary_state_store_unpartitioned')).toContain('processor="totals",store="by-customer"} 1');
    await app.stop();

    // After a restart, from the restored stores alone (no new input), the query is refused again.
    const restarted = totalsApp(log);
    await restarted.start();
    await restarted.processor('totals').finishInput({ timeoutMs: 20_000 });
    await expect(restarted.query('totals', 'by-customer', 'customer-3')).rejects.toBeInstanceOf(UnpartitionedStoreError);
    expect(sumOfScan((await restarted.scan('totals', 'by-customer')).rows, 'customer-3')).toBe(totalsByCustomer(input).get('customer-3'));
    await restarted.stop();
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

  it("flags a per-partition key (() => 'top') for queries only: the pipeline runs to the end, its scan answers and its query fails", async () => {
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
          pipeline: (records) => records.pipe(tumbling({ size: 1_000_000, key: () => 'top', aggregate: counting(), store: 'top-pages' })),
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
    expect((error as UnpartitionedStoreError).mismatch).toMatchObject({ store: 'top-pages', key: 'top', mapsTo: partitionForKey('top', PARTITIONS) });
    // The pipeline is right as it is: the end of input fires each partition's window, every view counted once.
    await app.processor('top').finishInput({ timeoutMs: 20_000 });
    expect(fired.reduce((a, b) => a + b, 0)).toBe(keys.length);
    expect(fired).toHaveLength(PARTITIONS);
    expect(failures).toBe(0);
    await app.stop();
  });
});
