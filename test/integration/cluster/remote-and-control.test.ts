// Remote actors, interactive queries and control between nodes in this process, on the shared
// nats-server (real NATS; the apps run on MemoryLog: Kafka is exercised by membership.test.ts).
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTributary } from '../../../src/app/tributary.js';
import {
  ClusterNode,
  startClusterEndpoint,
  AskTimeoutError,
  NodeDownError,
  NoOwnerError,
  partitionPath,
  RemoteHandlerError,
  UnknownActorError,
} from '../../../src/cluster/index.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { natsUrl } from '../../helpers/env.js';
import { uniqueName } from '../../helpers/names.js';
import { countingProcessor, PROCESSOR, STATE, STORE, startTestNode, until, type TestNode } from './fixtures/in-process.js';

const PARTITIONS = 4;

describe('remote actors, queries and control across nodes', () => {
  const cluster = uniqueName('rc');
  const log = new MemoryLog();
  let a: TestNode;
  let b: TestNode;

  beforeAll(async () => {
    log.createTopic('in', PARTITIONS);
    // Both apps share the MemoryLog: one consumer group, the partitions split between them.
    a = await startTestNode({ cluster, nodeId: 'node-a', servers: natsUrl(), log });
    b = await startTestNode({ cluster, nodeId: 'node-b', servers: natsUrl(), log });
    await until(
      () => [a, b].every((n) => n.node.members().members.filter((m) => m.status === 'alive').length === 2 && n.node.members().partitions.length === PARTITIONS),
      10_000,
      'both nodes to see each other and every partition owner',
    );
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('sees both nodes and which one owns each partition', () => {
    const view = a.node.members();
    expect(view.members.map((m) => [m.node, m.status])).toEqual([
      ['node-a', 'alive'],
      ['node-b', 'alive'],
    ]);
    const owners = new Set(view.partitions.map((p) => p.node));
    expect(owners).toEqual(new Set(['node-a', 'node-b']));
    expect(b.node.members().partitions).toEqual(view.partitions);
  });

  it('asks and tells an actor on another node', async () => {
    const told: unknown[] = [];
    b.node.register('echo', (message, ctx) => ({ echoed: message, from: ctx.from, on: 'node-b' }));
    b.node.register('inbox', (message) => void told.push(message));
    expect(await a.node.ask({ node: 'node-b', path: 'echo' }, { hello: 1 })).toEqual({ echoed: { hello: 1 }, from: 'node-a', on: 'node-b' });
    a.node.tell({ node: 'node-b', path: 'inbox' }, { n: 1 });
    a.node.tell({ node: 'node-b', path: 'inbox' }, { n: 2 });
    a.node.tell({ node: 'node-b', path: 'inbox' }, undefined);
    await until(() => told.length === 3, 5_000, 'the tells');
    expect(told).toEqual([{ n: 1 }, { n: 2 }, null]);
    // Handlers are advertised in heartbeats: the path resolves to the node that has it.
    await until(() => a.node.resolve('echo')?.node === 'node-b', 5_000, 'echo to resolve');
  });

  it('fails an ask with a typed error: unknown actor, handler failure, timeout, node down', async () => {
    b.node.register('fails', () => {
      throw new Error('bad input');
    });
    b.node.register('never', () => new Promise(() => undefined));
    await expect(a.node.ask({ node: 'node-b', path: 'no-such-actor' }, {})).rejects.toBeInstanceOf(UnknownActorError);
    await expect(a.node.ask({ node: 'node-b', path: 'fails' }, {})).rejects.toThrow(RemoteHandlerError);
    await expect(a.node.ask({ node: 'node-b', path: 'fails' }, {})).rejects.toThrow(/bad input/);
    const started = Date.now();
    await expect(a.node.ask({ node: 'node-b', path: 'never' }, {}, { timeoutMs: 300 })).rejects.toBeInstanceOf(AskTimeoutError);
    expect(Date.now() - started).toBeLessThan(1_500);
    // A node nobody runs: NATS says "no responders" at once.
    const noResponders = Date.now();
    await expect(a.node.ask({ node: 'node-zz', path: 'echo' }, {}, { timeoutMs: 5_000 })).rejects.toBeInstanceOf(NodeDownError);
    expect(Date.now() - noResponders).toBeLessThan(1_000);
  });

  it('reaches a partition actor by its path only on the node that runs it', async () => {
    for (const n of [a, b]) n.node.registerPartitionHandler(PROCESSOR, (message, ctx) => ({ node: n.node.id, partition: ctx.partition, message }));
    const path = partitionPath(PROCESSOR, 'in', 1);
    const owner = a.node.resolve(path)!;
    expect(owner.node).toMatch(/^node-[ab]$/);
    expect(await a.node.ask(owner, 'hi')).toEqual({ node: owner.node, partition: 1, message: 'hi' });
    const other = owner.node === 'node-a' ? 'node-b' : 'node-a';
    await expect(a.node.ask({ node: other, path }, 'hi')).rejects.toBeInstanceOf(UnknownActorError);
  });

  it('answers an interactive query from the node that owns the key, asked on the one that does not', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    await log.producer().send('in', keys.flatMap((key, i) => Array.from({ length: (i % 3) + 1 }, () => ({ key, value: '{}' }))));
    const total = keys.reduce((sum, _, i) => sum + (i % 3) + 1, 0);
    await until(() => a.seen.length + b.seen.length === total, 10_000, 'every record processed');
    for (const [i, key] of keys.entries()) {
      const partition = partitionForKey(key, PARTITIONS);
      const owner = a.node.members().partitions.find((p) => p.partition === partition)!.node;
      const asker = owner === 'node-a' ? b : a;
      const answer = await asker.node.query(PROCESSOR, STATE, key);
      expect(answer).toEqual({ node: owner, processor: PROCESSOR, topic: 'in', partition, found: true, value: (i % 3) + 1, stale: false });
    }
    // A store the key's partition does not have: an error naming the stores it has, from whichever node asks.
    for (const asker of [a, b]) await expect(asker.node.query(PROCESSOR, 'no-such-state', 'user-1')).rejects.toThrow(/has no store 'no-such-state' \(its stores: count-by-key, totals\)/);
  });

  it('scans a store over both nodes: every partition once, sorted by key; a node outside the processor asks the runners (next test)', async () => {
    // The records of the query test above: user-i counted (i % 3) + 1 times.
    const expected = Array.from({ length: 20 }, (_, i) => ({ key: `user-${i}`, value: (i % 3) + 1 })).sort((x, y) => (x.key < y.key ? -1 : 1));
    const answer = await a.node.scan(PROCESSOR, STORE, { limit: 100 });
    expect(answer.rows.map(({ key, value }) => ({ key, value }))).toEqual(expected);
    expect(answer).toMatchObject({ partitions: PARTITIONS, truncated: false, stale: false, nodes: ['node-a', 'node-b'] });
    for (const row of answer.rows) expect(row.partition).toBe(partitionForKey(String(row.key), PARTITIONS));
    const range = await b.node.scan(PROCESSOR, STORE, { from: 'user-10', to: 'user-13', limit: 3 });
    expect(range.rows.map((r) => r.key)).toEqual(['user-10', 'user-11', 'user-12']);
    expect(range.truncated).toBe(true);
    await expect(a.node.scan(PROCESSOR, STATE)).rejects.toThrow(/ctx.queryable lookup/);
  });

  it('forwards a query from a node that does not run the processor, and says clearly when no one does (queries and scans)', async () => {
    const outsider = await startTestNode({ cluster, nodeId: 'node-x', servers: natsUrl(), topic: 'other', processorId: 'other-counts' });
    try {
      await until(() => outsider.node.members().members.filter((m) => m.status === 'alive').length === 3, 5_000, 'node-x to see the others');
      const answer = await outsider.node.query(PROCESSOR, STATE, 'user-2');
      expect(answer).toMatchObject({ processor: PROCESSOR, partition: partitionForKey('user-2', PARTITIONS), found: true, value: 3 });
      expect(answer.node).toMatch(/^node-[ab]$/);
      const scanned = await outsider.node.scan(PROCESSOR, STORE, { from: 'user-5', to: 'user-5' });
      expect(scanned.rows.map(({ key, value }) => ({ key, value }))).toEqual([{ key: 'user-5', value: 3 }]);
      await expect(outsider.node.scan('no-such-processor', STORE, { timeoutMs: 300 })).rejects.toThrow(/no live node runs processor 'no-such-processor'/);
      const started = Date.now();
      await expect(outsider.node.query('no-such-processor', STATE, 'k', { timeoutMs: 500 })).rejects.toBeInstanceOf(NoOwnerError);
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      await outsider.stop();
    }
    await until(() => a.node.members().members.some((m) => m.node === 'node-x' && m.status === 'left'), 2_000, 'node-x to be seen leaving');
  });

  it('serves queries, members and status over HTTP from any node', async () => {
    const endpoint = await startClusterEndpoint({ node: a.node });
    try {
      const get = async (path: string) => {
        const res = await fetch(`${endpoint.url}${path}`);
        return { status: res.status, body: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get('retry-after') };
      };
      const answer = await get(`/cluster/query/${PROCESSOR}/${STATE}/${encodeURIComponent('user-2')}`);
      expect(answer).toMatchObject({ status: 200, body: { processor: PROCESSOR, found: true, value: 3 } });
      expect((await get(`/cluster/query/${PROCESSOR}/nope/user-2`)).status).toBe(404);
      const scanned = await get(`/cluster/scan/${PROCESSOR}/${STORE}?from=user-1&to=user-11&limit=2`);
      expect(scanned).toMatchObject({ status: 200, body: { rows: [{ key: 'user-1', value: 2 }, { key: 'user-10', value: 2 }], truncated: true } });
      expect((await get(`/cluster/scan/${PROCESSOR}/${STORE}?limit=0`)).status).toBe(400);
      expect((await get(`/cluster/scan/${PROCESSOR}/${STATE}`)).status).toBe(400);
      expect(await get('/cluster/query/no-such-processor/s/k?timeoutMs=300')).toMatchObject({ status: 503, retryAfter: '1' });
      expect((await get('/cluster/members')).body.self).toBe('node-a');
      expect(((await get('/cluster/status')).body.nodes as unknown[]).length).toBeGreaterThanOrEqual(2);
      expect((await get('/elsewhere')).status).toBe(404);
      expect((await get('/cluster/query/p/s/k?timeoutMs=-1')).status).toBe(400);
    } finally {
      await endpoint.close();
    }
  });

  it('gathers every node status, and pauses, resumes and drains a processor everywhere', async () => {
    let status = await a.node.status();
    expect(status.nodes.map((n) => [n.node, n.membership, n.reachable])).toEqual([
      ['node-a', 'alive', true],
      ['node-b', 'alive', true],
      ['node-x', 'left', false], // the previous test's node: it left, and is remembered for 60 s
    ]);
    status = { ...status, nodes: status.nodes.filter((n) => n.reachable) };
    for (const n of status.nodes) {
      expect(n.status?.processors[0]?.id).toBe(PROCESSOR);
      expect(n.supervision?.name).toBe('node');
      expect(n.healthy).toBe(true);
    }
    const partitionsReported = status.nodes.flatMap((n) => n.status!.processors[0].partitions.map((p) => p.partition)).sort();
    expect(partitionsReported).toEqual([0, 1, 2, 3]);

    const paused = await a.node.pause(PROCESSOR);
    expect(paused.missing).toEqual([]);
    expect(paused.replies.map((r) => [r.node, r.ok, r.duplicate])).toEqual([
      ['node-a', true, false],
      ['node-b', true, false],
    ]);
    expect([a, b].map((n) => n.app.processor(PROCESSOR).isPaused)).toEqual([true, true]);
    await a.node.resume(PROCESSOR);
    expect([a, b].map((n) => n.app.processor(PROCESSOR).isPaused)).toEqual([false, false]);
  });

  it('runs a resent control command once: the resend is answered from memory and changes nothing', async () => {
    const pause = await b.node.pause(PROCESSOR, { commandId: 'pause-once-1' });
    expect(pause.replies.every((r) => r.ok && !r.duplicate)).toBe(true);
    await b.node.resume(PROCESSOR);
    expect(a.app.processor(PROCESSOR).isPaused).toBe(false);
    // The same pause, delivered again (core NATS may redeliver nothing, but a sender may resend).
    const again = await b.node.pause(PROCESSOR, { commandId: 'pause-once-1' });
    expect(again.replies.map((r) => [r.node, r.ok, r.duplicate])).toEqual([
      ['node-a', true, true],
      ['node-b', true, true],
    ]);
    expect([a, b].map((n) => n.app.processor(PROCESSOR).isPaused)).toEqual([false, false]);
  });

  it('targets one node, and reports a processor a node does not run as an error of that node', async () => {
    const one = await a.node.pause(PROCESSOR, { targets: ['node-b'] });
    expect(one.replies.map((r) => r.node)).toEqual(['node-b']);
    expect([a, b].map((n) => n.app.processor(PROCESSOR).isPaused)).toEqual([false, true]);
    await a.node.resume(PROCESSOR, { targets: ['node-b'] });
    const unknown = await a.node.pause('nope');
    expect(unknown.replies.map((r) => [r.node, r.ok])).toEqual([
      ['node-a', false],
      ['node-b', false],
    ]);
    expect(unknown.replies[0].error).toMatch(/no processor 'nope'/);
  });

  it('drains a processor on every node: in-flight work committed, consumer group left', async () => {
    const drained = await a.node.drain(PROCESSOR);
    expect(drained.replies.map((r) => [r.node, r.ok])).toEqual([
      ['node-a', true],
      ['node-b', true],
    ]);
    await until(() => a.node.members().partitions.length === 0, 5_000, 'partitions to disappear from the view');
  });

  it('tells a node that left that it is down, without sending', async () => {
    const leaving = await startTestNode({ cluster, nodeId: 'node-l', servers: natsUrl(), topic: 'other', processorId: 'other-counts' });
    await until(() => a.node.members().members.some((m) => m.node === 'node-l' && m.status === 'alive'), 5_000, 'node-l to join');
    await leaving.stop();
    await until(() => a.node.members().members.some((m) => m.node === 'node-l' && m.status === 'left'), 2_000, 'node-l to be seen leaving');
    expect(() => a.node.tell({ node: 'node-l', path: 'echo' }, {})).toThrow(NodeDownError);
    await expect(a.node.ask({ node: 'node-l', path: 'echo' }, {})).rejects.toThrow(/left the cluster/);
  });
});

describe('a cluster node on a connection of the caller', () => {
  it('uses it, leaves it open on stop, and reports another process using the same node id', async () => {
    const cluster = uniqueName('conn');
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const connection = await connect({ servers: natsUrl() });
    const log = new MemoryLog();
    log.createTopic('in', 1);
    const app = createTributary({ log, logger, processors: [countingProcessor('in')] });
    await app.start();
    const node = new ClusterNode({ app, cluster, nodeId: 'same', connection, logger });
    await node.start();
    const twin = await startTestNode({ cluster, nodeId: 'same', servers: natsUrl() });
    try {
      await until(() => lines.some((l) => l.includes('another process uses this node id')), 5_000, 'the duplicate id to be reported');
    } finally {
      await twin.stop();
    }
    await node.stop();
    expect(connection.isClosed()).toBe(false);
    await connection.close();
    await app.stop();
  });
});
