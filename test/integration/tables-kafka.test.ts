import fc from 'fast-check';
import { map, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTributary } from '../../src/app/tributary.js';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { partitionForKey } from '../../src/connectors/partitioner.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor } from '../../src/processor/define-processor.js';
import { toFunction } from '../../src/sinks/function-sink.js';
import type { StreamRecord } from '../../src/streams/stream-record.js';
import { streamTableJoin } from '../../src/streams/stream-table-join.js';
import { globalTable, table, type TableSource } from '../../src/streams/table.js';
import { eventually } from '../contract/read-topic.js';
import { kafkaBrokers } from '../helpers/env.js';
import { uniqueName } from '../helpers/names.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });
const KEYS = Array.from({ length: 12 }, (_, i) => `k${i}`);

interface Order {
  readonly i: number;
  readonly k: string;
  readonly ts: number;
}
interface Update {
  readonly k: string;
  readonly v: number | null | 'bad';
  readonly ts: number;
}

const BASE = 1_700_000_000_000;
const [orders, updates] = fc.sample(
  fc.tuple(
    fc.array(fc.record({ k: fc.constantFrom(...KEYS), ts: fc.integer({ min: 0, max: 5_000 }) }), { minLength: 600, maxLength: 600 }),
    fc.array(fc.record({ k: fc.constantFrom(...KEYS), v: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 999 }) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant('bad' as const) }), ts: fc.integer({ min: 0, max: 5_000 }) }), { minLength: 300, maxLength: 300 }),
  ),
  { seed: 1919, numRuns: 1 },
)[0].map((list, side) => (side === 0 ? list.map((o, i) => ({ ...o, i, ts: BASE + o.ts })) : list.map((u) => ({ ...u, ts: BASE + u.ts })))) as [Order[], Update[]];

const updateRecord = (u: Update) => ({ key: u.k, value: u.v === null ? null : u.v === 'bad' ? '{not json' : JSON.stringify(u.v), timestamp: u.ts });

/** Per partition, each order takes the updates (in the table topic's order) up to its own time, then looks up. */
function reference(partitions: number): string[] {
  const results: string[] = [];
  for (let p = 0; p < partitions; p++) {
    const table = new Map<string, number>();
    const ups = updates.filter((u) => partitionForKey(u.k, partitions) === p);
    let h = 0;
    for (const o of orders.filter((o) => partitionForKey(o.k, partitions) === p)) {
      while (h < ups.length && ups[h].ts <= o.ts) {
        const u = ups[h++];
        if (u.v === null) table.delete(u.k);
        else if (u.v !== 'bad') table.set(u.k, u.v);
      }
      results.push(`${o.i}=${table.get(o.k) ?? '-'}`);
    }
  }
  return results.sort();
}

function pricedApp(log: KafkaConnector, id: string, ordersTopic: string, rates: TableSource<string, number>, out: string[], failAt: ReadonlySet<number>) {
  const failed = new Set<number>();
  return createTributary({
    log,
    logger,
    restartBackoff: { minMs: 10, maxMs: 50 },
    processors: [
      defineProcessor<string, Order>({
        id,
        source: { topics: ordersTopic, timestamp: (r) => r.value.ts },
        tables: { rates },
        commitIntervalMs: 100,
        maxBatchRecords: 50,
        pipeline: (records: Observable<StreamRecord<string, Order>>) =>
          records.pipe(
            map((r) => {
              if (failAt.has(r.value.i) && !failed.has(r.value.i)) {
                failed.add(r.value.i);
                throw new Error(`injected failure before order ${r.value.i}`);
              }
              return r.value;
            }),
            streamTableJoin(rates, { type: 'left', key: (o: Order) => o.k, timestamp: (o: Order) => o.ts, join: (o: Order, v: number | null) => `${o.i}=${v ?? '-'}` }),
            map((j) => j.value),
          ),
        sinks: toFunction('results', (items: readonly string[]) => void out.push(...items)),
      }),
    ],
  });
}

describe('tables from topics on real Kafka', () => {
  it('table(topic): restored from its own (compacted) topic up to the committed position by a new owner, no changelog topic created, lookups equal the plain loop', async () => {
    const log = new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger);
    const ordersTopic = uniqueName('orders');
    const ratesTopic = uniqueName('rates');
    const id = uniqueName('priced');
    const admin = log.admin();
    await admin.ensureTopics([
      { name: ordersTopic, partitions: 3 },
      { name: ratesTopic, partitions: 3, config: { 'cleanup.policy': 'compact' } },
    ]);
    const producer = log.producer();
    await producer.send(ratesTopic, updates.map(updateRecord));
    const split = 350;
    await producer.send(ordersTopic, orders.slice(0, split).map((o) => ({ key: o.k, value: JSON.stringify(o), timestamp: o.ts })));
    const rates = table<string, number>(ratesTopic);
    const out: string[] = [];

    const first = pricedApp(log, id, ordersTopic, rates, out, new Set([120, 290]));
    await first.start();
    await eventually(() => expect(first.processor(id).gauges().reduce((n, g) => n + (g.position ?? 0), 0)).toBe(split), 60_000);
    await first.stop();

    await producer.send(ordersTopic, orders.slice(split).map((o) => ({ key: o.k, value: JSON.stringify(o), timestamp: o.ts })));
    const second = pricedApp(log, id, ordersTopic, rates, out, new Set([480]));
    let restoredRecords = 0;
    second.lifecycle.subscribe((e) => {
      if (e.type === 'partition.restored') restoredRecords += e.records;
    });
    await second.start();
    await second.processor(id).finishInput({ timeoutMs: 60_000 });
    await second.stop();
    await producer.close();

    expect([...new Set(out)].sort()).toEqual(reference(3));
    // The second owner read the table's topic (its own changelog) up to the committed positions.
    expect(restoredRecords).toBeGreaterThan(0);
    expect(await admin.partitionCount(`${id}-rates-changelog`)).toBeUndefined();
    await admin.close();
  }, 180_000);

  it('globalTable(topic): every partition read to its end before the processor starts, joined by a key extractor across differently partitioned topics, then followed', async () => {
    const log = new KafkaConnector({ brokers: kafkaBrokers(), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 }, logger);
    const ordersTopic = uniqueName('orders');
    const currenciesTopic = uniqueName('currencies');
    const id = uniqueName('converted');
    const admin = log.admin();
    await admin.ensureTopics([
      { name: ordersTopic, partitions: 3 },
      { name: currenciesTopic, partitions: 2, config: { 'cleanup.policy': 'compact' } },
    ]);
    const producer = log.producer();
    await producer.send(currenciesTopic, updates.map(updateRecord));
    // Keyed by order, not by the join key.
    await producer.send(ordersTopic, orders.map((o) => ({ key: `order-${o.i}`, value: JSON.stringify(o), timestamp: o.ts })));
    const currencies = globalTable<string, number>(currenciesTopic);
    const out: string[] = [];
    const app = createTributary({
      log,
      logger,
      processors: [
        defineProcessor<string, Order>({
          id,
          source: { topics: ordersTopic },
          tables: { currencies },
          commitIntervalMs: 100,
          pipeline: (records: Observable<StreamRecord<string, Order>>) =>
            records.pipe(
              streamTableJoin(currencies, { type: 'left', key: (r: StreamRecord<string, Order>) => r.value.k, join: (r: StreamRecord<string, Order>, v: number | null) => `${r.value.i}=${v ?? '-'}` }),
              map((j) => j.value),
            ),
          sinks: toFunction('results', (items: readonly string[]) => void out.push(...items)),
        }),
      ],
    });
    await app.start();
    await app.processor(id).finishInput({ timeoutMs: 60_000 });
    const latest = new Map<string, number>();
    for (const u of updates) {
      if (u.v === null) latest.delete(u.k);
      else if (u.v !== 'bad') latest.set(u.k, u.v);
    }
    expect([...out].sort()).toEqual(orders.map((o) => `${o.i}=${latest.get(o.k) ?? '-'}`).sort());
    const global = app.processor(id).tables.global('currencies')!;
    await producer.send(currenciesTopic, [{ key: 'new-key', value: '42' }, { key: KEYS[0], value: null }]);
    await eventually(() => {
      expect(global.get('new-key')?.value).toBe(42);
      expect(global.get(KEYS[0])).toBeUndefined();
    }, 30_000);
    await app.stop();
    await producer.close();
    expect(await admin.partitionCount(`${id}-currencies-changelog`)).toBeUndefined();
    await admin.close();
  }, 180_000);
});
