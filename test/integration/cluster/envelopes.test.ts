// Malformed, oversized, forged and unauthorised messages published raw on the cluster's subjects
// of a real nats-server: each is rejected, counted by reason and logged; the nodes go on working.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSubjects, sealEnvelope } from '../../../src/cluster/index.js';
import { natsUrl } from '../../helpers/env.js';
import { uniqueName } from '../../helpers/names.js';
import { rejected, startTestNode, until, type TestNode } from './fixtures/in-process.js';

const enc = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('malformed and forged envelopes', () => {
  const cluster = uniqueName('env');
  const s = clusterSubjects(cluster);
  let a: TestNode;
  let b: TestNode;
  let raw: NatsConnection;

  beforeAll(async () => {
    a = await startTestNode({ cluster, nodeId: 'node-a', servers: natsUrl(), overrides: { acceptControlFrom: ['node-a', 'node-b'] } });
    b = await startTestNode({ cluster, nodeId: 'node-b', servers: natsUrl() });
    b.node.register('echo', (message) => message);
    raw = await connect({ servers: natsUrl() });
    await until(() => a.node.members().members.length === 2 && b.node.members().members.length === 2, 5_000, 'the nodes to see each other');
  });

  afterAll(async () => {
    await raw?.close();
    await a?.stop();
    await b?.stop();
  });

  it('rejects and counts each kind of bad message, by reason, and never crashes', async () => {
    const valid = { v: 1, kind: 'heartbeat', from: 'mallory', id: 'x1', ts: Date.now() };
    const heartbeat = { incarnation: 'i', seq: 1, startedAt: 0, state: 'running', healthy: true, handlers: [], processors: [] };
    const cases: Array<[reason: string, subject: string, data: Uint8Array]> = [
      ['not-json', s.heartbeat('mallory'), enc('{"v":1,"kind":')],
      ['not-json', s.heartbeat('mallory'), enc('\u0000\u0001garbage')],
      ['not-json', s.actor('node-a', 'mallory'), enc('{"v":1,"kind":"tell","from":"mallory","id":"x","ts":1,"body":{"path":"p","message":{"__proto__":{"admin":true}}}}')],
      ['malformed', s.heartbeat('mallory'), enc([1, 2, 3])],
      ['malformed', s.heartbeat('mallory'), enc({ ...valid, body: heartbeat, id: '' })],
      ['unsupported-version', s.heartbeat('mallory'), enc({ ...valid, v: 2, body: heartbeat })],
      ['oversized', s.heartbeat('mallory'), enc({ ...valid, body: { ...heartbeat, pad: 'x'.repeat(70_000) } })],
      ['invalid-body', s.heartbeat('mallory'), enc({ ...valid, body: { ...heartbeat, seq: 'one' } })],
      ['unexpected-kind', s.heartbeat('mallory'), enc({ ...valid, kind: 'tell', body: { path: 'echo', message: 1 } })],
      // Forged: a valid heartbeat claiming to be node-b, on mallory's subject (and the reverse).
      ['forged-sender', s.heartbeat('mallory'), enc({ ...valid, from: 'node-b', body: heartbeat })],
      ['forged-sender', s.heartbeat('node-b'), enc({ ...valid, body: heartbeat })],
      ['forged-sender', s.actor('node-a', 'node-b'), sealEnvelope('tell', 'mallory', { path: 'echo', message: 1 })],
      ['forged-sender', s.control('node-b'), sealEnvelope('control', 'mallory', { commandId: 'c1', command: { type: 'pause', processor: 'counts' } })],
    ];
    const before = new Map<string, number>();
    for (const reason of new Set(cases.map(([r]) => r))) before.set(reason, await rejected(a.app, reason));
    for (const [, subject, data] of cases) raw.publish(subject, data);
    await raw.flush();
    const expected = new Map<string, number>();
    for (const [reason] of cases) expected.set(reason, (expected.get(reason) ?? 0) + 1);
    // node-a subscribes to every subject above (heartbeats of all, its own actor inbox, all controls).
    for (const [reason, count] of expected) {
      await waitForCount(a, reason, before.get(reason)! + count);
      expect({ reason, count: (await rejected(a.app, reason)) - before.get(reason)! }).toEqual({ reason, count });
    }
    // Nothing was let in: no member 'mallory', node-b is not shadowed, nothing paused.
    expect(a.node.members().members.map((m) => m.node)).toEqual(['node-a', 'node-b']);
    expect(a.app.processor('counts').isPaused).toBe(false);
    // And the node works on.
    expect(await a.node.ask({ node: 'node-b', path: 'echo' }, { still: 'alive' })).toEqual({ still: 'alive' });
    const text = await a.app.metrics.registry.metrics();
    expect(text).toMatch(/tributary_cluster_rejected_total\{reason="forged-sender"\} \d+/);
  });

  it('rejects a well-formed control command from a node not allowed to send one (unauthorized)', async () => {
    const before = await rejected(a.app, 'unauthorized');
    raw.publish(s.control('mallory'), sealEnvelope('control', 'mallory', { commandId: 'c2', command: { type: 'pause', processor: 'counts' } }));
    await raw.flush();
    await waitForCount(a, 'unauthorized', before + 1);
    expect((await rejected(a.app, 'unauthorized')) - before).toBe(1);
    expect(a.app.processor('counts').isPaused).toBe(false);
    // node-b has no allow-list: it ran it (core NATS permissions are the place to stop that).
    await until(() => b.app.processor('counts').isPaused, 5_000, 'node-b to run the command');
  });

  it('a forged ask gets no answer: the asker times out, the handler never ran', async () => {
    let ran = 0;
    b.node.register('count-me', () => ++ran);
    const forged = sealEnvelope('ask', 'mallory', { path: 'count-me', message: null });
    await expect(raw.request(s.actor('node-b', 'node-a'), forged, { timeout: 500 })).rejects.toThrow();
    expect(ran).toBe(0);
  });
});

/** Waits (up to 5 s) until node's rejection counter for `reason` reaches `atLeast`. */
async function waitForCount(node: TestNode, reason: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await rejected(node.app, reason)) < atLeast && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
