// A query of a store not partitioned by its key (declared partitioning: 'per-partition'), across
// nodes on the shared nats-server (real NATS; the apps run on MemoryLog): the refusal crosses the
// hop with its evidence, and over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import { ClusterNode, startClusterEndpoint } from '../../../src/cluster/index.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { createLogger } from '../../../src/observability/logger.js';
import { defineProcessor } from '../../../src/processor/define-processor.js';
import { UnpartitionedStoreError } from '../../../src/processor/unpartitioned-store-error.js';
import { toFunction } from '../../../src/sinks/function-sink.js';
import { aggregateByKey } from '../../../src/streams/aggregate-by-key.js';
import { keyBy } from '../../../src/streams/key-by.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { summing } from '../../../src/streams/summing.js';
import { natsUrl } from '../../helpers/env.js';
import { uniqueName } from '../../helpers/names.js';
import { startTestNode, until, type TestNode } from './fixtures/in-process.js';

const PARTITIONS = 4;
const logger = createLogger({ level: 'silent' });
type Order = { orderId: string; customerId: string; cents: number };

/**
 * Totals per customer over orders keyed by order id, per partition on purpose: every partition
 * holds a part of each customer's total (without the option, the processor would be refused).
 */
function totalsProcessor() {
  return defineProcessor<string | null, Order>({
    id: 'totals',
    source: { topics: 'orders' },
    commitIntervalMs: 50,
    pipeline: (records) =>
      records.pipe(
        keyBy((r) => r.value.customerId),
        aggregateByKey({ store: 'by-customer', aggregate: summing((r: StreamRecord<string, Order>) => r.value.cents), partitioning: 'per-partition' }),
      ),
    sinks: toFunction('updates', () => undefined),
  });
}

/** Counts per user over clicks keyed by user, declared per partition: no key anywhere shows it, the declaration alone refuses queries. */
function perUserProcessor() {
  return defineProcessor<string | null, unknown>({
    id: 'per-user',
    source: { topics: 'clicks' },
    pipeline: (records) => records.pipe(aggregateByKey({ store: 'counts', aggregate: summing(() => 1), partitioning: 'per-partition' })),
    sinks: toFunction('updates', () => undefined),
  });
}

describe('queries of a store not partitioned by its key, across nodes', () => {
  const cluster = uniqueName('unpart');
  const log = new MemoryLog();
  const runners: Array<{ app: ReturnType<typeof createTributary>; node: ClusterNode }> = [];
  let outsider: TestNode;

  beforeAll(async () => {
    log.createTopic('orders', PARTITIONS);
    log.createTopic('clicks', PARTITIONS);
    await log.producer().send('clicks', Array.from({ length: 40 }, (_, i) => ({ key: `user-${i}`, value: '{}' })));
    await log.producer().send(
      'orders',
      Array.from({ length: 200 }, (_, i) => ({ key: `order-${i}`, value: JSON.stringify({ orderId: `order-${i}`, customerId: `customer-${i % 10}`, cents: 100 + i }) })),
    );
    for (const nodeId of ['node-a', 'node-b']) {
      const app = createTributary({ log, logger, processors: [totalsProcessor(), perUserProcessor()] });
      await app.start();
      const node = new ClusterNode({ app, cluster, nodeId, servers: natsUrl() });
      await node.start();
      runners.push({ app, node });
    }
    // A node that does not run 'totals': its queries go to a runner, which answers with the evidence.
    outsider = await startTestNode({ cluster, nodeId: 'node-x', servers: natsUrl(), topic: 'other', processorId: 'other-counts' });
    await until(() => outsider.node.members().members.filter((m) => m.status === 'alive').length === 3, 10_000, 'the three nodes to see each other');
    await until(() => runners.every((r) => r.node.members().partitions.filter((p) => p.processor === 'totals').length === PARTITIONS), 10_000, 'every partition to have an owner');
    // Every order counted: the scan over both runners adds up to the sum of all orders.
    const all = Array.from({ length: 200 }, (_, i) => 100 + i).reduce((a, b) => a + b, 0);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rows = (await outsider.node.scan('totals', 'by-customer')).rows;
      if (rows.reduce((sum, row) => sum + (row.value as number), 0) === all) break;
      if (Date.now() > deadline) throw new Error('timed out waiting for every order to be counted');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    await outsider?.stop();
    for (const r of runners) {
      await r.node.stop();
      await r.app.stop();
    }
  });

  it('refuses the query on a runner and on a node that forwards it, with the same evidence', async () => {
    const key = 'customer-3';
    const onRunner = await runners[0].node.query('totals', 'by-customer', key).catch((err: unknown) => err);
    expect(onRunner).toBeInstanceOf(UnpartitionedStoreError);
    const forwarded = await outsider.node.query('totals', 'by-customer', key).catch((err: unknown) => err);
    expect(forwarded).toBeInstanceOf(UnpartitionedStoreError);
    const { unpartitioned, mismatch } = forwarded as UnpartitionedStoreError;
    expect(unpartitioned).toMatchObject({ store: 'by-customer', perPartition: true });
    expect(mismatch).toMatchObject({ store: 'by-customer', topic: 'orders', partitionCount: PARTITIONS });
    expect(partitionForKey(mismatch!.key, PARTITIONS)).toBe(mismatch!.mapsTo);
    expect(mismatch!.partition).not.toBe(mismatch!.mapsTo);
    // The scan still answers: the customer's partial totals, each naming its partition, add up.
    const scanned = await outsider.node.scan('totals', 'by-customer', { from: key, to: key });
    let expected = 0;
    for (let i = 3; i < 200; i += 10) expected += 100 + i;
    expect(scanned.rows.reduce((sum, row) => sum + (row.value as number), 0)).toBe(expected);
  });

  it("refuses, through the hop, a query of a store declared per partition where no node has any evidence (the partition the key maps to holds it rightly)", async () => {
    await until(() => runners.every((r) => r.node.members().partitions.filter((p) => p.processor === 'per-user').length === PARTITIONS), 10_000, 'every per-user partition to have an owner');
    const forwarded = await outsider.node.query('per-user', 'counts', 'user-1').catch((err: unknown) => err);
    expect(forwarded).toBeInstanceOf(UnpartitionedStoreError);
    expect((forwarded as UnpartitionedStoreError).unpartitioned).toMatchObject({ store: 'counts', perPartition: true });
  });

  it('answers 409 over HTTP, naming the store and the fix', async () => {
    const endpoint = await startClusterEndpoint({ node: outsider.node });
    try {
      const res = await fetch(`${endpoint.url}/cluster/query/totals/by-customer/customer-3`);
      expect(res.status).toBe(409);
      const body = (await res.json()) as { error: string };
      expect(body.error).toContain("store 'by-customer' of processor 'totals' is declared partitioning: 'per-partition'");
      expect(body.error).toContain('repartition({ key })');
    } finally {
      await endpoint.close();
    }
  });
});
