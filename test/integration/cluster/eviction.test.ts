// Eviction of dead members on real Kafka and NATS, with tributary nodes as separate processes and
// Kafka sessions of 45 s: longer than these tests allow for a takeover, so every takeover seen is
// the eviction's, not the session's. Each eviction's outcome `removed` also says the broker still
// had the member when it was removed (an expired session would answer `already-gone`).
//
// 1. kill -9 of one of three nodes: the lowest live node (and only it) removes the dead node's
//    member, and its partitions are started elsewhere after that, nothing lost.
// 2. SIGSTOP of one of two nodes (a false suspicion): evicted, its partitions go to the other;
//    after SIGCONT it is fenced (the group's committed offsets never go back), joins again under a
//    new member id, and every record is in the output with the right key and partition.
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { kafkaBrokers, natsUrl } from '../../helpers/env.js';
import { uniqueName } from '../../helpers/names.js';
import { NodeProcess, waitFor, type EventLine } from './fixtures/node-process.js';

const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 45_000;

interface Out {
  readonly id: string;
  readonly key: string;
  readonly partition: number;
  readonly node: string;
  readonly at: number;
}

/** Nodes on one cluster and one consumer group, an input topic, an output topic read back, a producer of keyed records. */
function clusterFixture(ids: readonly string[]) {
  const cluster = uniqueName('evict');
  const input = uniqueName('evict-in');
  const output = uniqueName('evict-out');
  const processor = uniqueName('evict-p');
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const outputs: Out[] = [];
  const nodes: NodeProcess[] = [];
  const produced = new Map<string, string>(); // id → key
  let producer: Producer;
  let reader: Consumer;
  const keyOf = new Map<number, string>();
  for (let i = 0; keyOf.size < PARTITIONS; i++) if (!keyOf.has(partitionForKey(`k${i}`, PARTITIONS))) keyOf.set(partitionForKey(`k${i}`, PARTITIONS), `k${i}`);
  const views = (): string => nodes.map((n) => `${n.id}: ${JSON.stringify(n.view)}\n${n.logTail(15)}`).join('\n');

  const setUp = async (): Promise<void> => {
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: input, numPartitions: PARTITIONS },
        { topic: output, numPartitions: 3 },
      ],
      waitForLeaders: true,
    });
    producer = kafka.producer();
    await producer.connect();
    reader = kafka.consumer({ groupId: uniqueName('evict-reader'), sessionTimeout: 6_000, heartbeatInterval: 500 });
    await reader.connect();
    await reader.subscribe({ topic: output, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void outputs.push(JSON.parse(message.value!.toString()) as Out) });
    const args = ['--cluster', cluster, '--nats', natsUrl(), '--kafka', kafkaBrokers().join(','), '--input', input, '--output', output, '--processor', processor, '--session-timeout', String(SESSION_TIMEOUT_MS)];
    for (const id of ids) nodes.push(new NodeProcess(id, args));
    await waitFor(() => nodes.every((n) => n.ready), 60_000, 'the nodes to start', views);
    await waitFor(
      () => nodes.every((n) => n.view.members.length === ids.length && n.view.partitions.length === PARTITIONS && new Set(n.view.partitions.map((p) => p.node)).size === ids.length),
      45_000,
      'every node to own partitions, in every view',
      views,
    );
  };

  const tearDown = async (): Promise<void> => {
    for (const n of nodes) {
      n.kill('SIGCONT');
      n.kill('SIGKILL');
    }
    await Promise.all(nodes.map((n) => n.exited));
    await reader?.disconnect();
    await producer?.disconnect();
    await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    await admin.disconnect();
  };

  /** Produces one record per partition every 25 ms until the returned stop is called. */
  const produce = (prefix: string): (() => Promise<void>) => {
    let seq = 0;
    let producing = true;
    const loop = (async () => {
      while (producing) {
        const batch = [...keyOf.values()].map((key) => ({ id: `${prefix}-${seq++}`, key }));
        for (const r of batch) produced.set(r.id, r.key);
        await producer.send({ topic: input, messages: batch.map((r) => ({ key: r.key, value: JSON.stringify({ id: r.id }) })) });
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    return async () => {
      producing = false;
      await loop;
    };
  };

  /** Every produced record reached the output; each output has its input's key and that key's partition. */
  const expectNothingLostNothingWrong = async (): Promise<void> => {
    const missing = (): string[] => {
      const seen = new Set(outputs.map((o) => o.id));
      return [...produced.keys()].filter((id) => !seen.has(id));
    };
    await waitFor(() => missing().length === 0, 45_000, 'every produced record in the output', () => `missing ${missing().length} of ${produced.size}`);
    for (const o of outputs) {
      expect(o.key).toBe(produced.get(o.id));
      expect(o.partition).toBe(partitionForKey(o.key, PARTITIONS));
    }
  };

  return { cluster, input, processor, admin, outputs, nodes, produced, views, setUp, tearDown, produce, expectNothingLostNothingWrong };
}

const ownedBy = (n: NodeProcess, node: string): number[] => n.view.partitions.filter((p) => p.node === node).map((p) => p.partition);
const startedAfter = (n: NodeProcess, partition: number, at: number): EventLine | undefined =>
  n.lifecycle.find((e) => e.type === 'partition.started' && e.partition === partition && e.at >= at);

describe('eviction of a node killed with kill -9 (three nodes, Kafka sessions of 45 s)', () => {
  const f = clusterFixture(['n1', 'n2', 'n3']);
  beforeAll(f.setUp, 150_000);
  afterAll(f.tearDown);

  it('has the lowest live node remove the dead node’s member at once, so its partitions are reassigned before its session could have expired, nothing lost', async () => {
    const [n1, n2, n3] = f.nodes as [NodeProcess, NodeProcess, NodeProcess];
    const victim = ownedBy(n1, 'n2');
    expect(victim.length).toBeGreaterThan(0);
    const memberId = (await n2.value<{ memberId: string }>({ cmd: 'group-member' })).memberId;
    const stop = f.produce('a');
    await waitFor(() => f.outputs.some((o) => o.node === 'n2'), 20_000, 'records through n2', f.views);

    const killedAt = Date.now();
    n2.kill('SIGKILL');
    const done = (n: NodeProcess): EventLine | undefined => n.evictions.find((e) => e.type === 'eviction.done' && e.node === 'n2');
    await waitFor(() => done(n1) !== undefined, 20_000, 'n1 to evict n2', f.views);
    const survivors = [n1, n3];
    await waitFor(() => victim.every((p) => survivors.some((n) => startedAfter(n, p, killedAt))), 30_000, "n2's partitions to start on n1 or n3", f.views);
    await new Promise((r) => setTimeout(r, 1_000));
    await stop();

    // n1 is the evictor (the lowest live id), and the broker still had n2's member: `removed`.
    const eviction = done(n1)!;
    expect(eviction).toMatchObject({ reason: 'down', removals: [{ group: f.processor, member: memberId, outcome: 'removed' }] });
    // n3 left it to n1 and removed nothing.
    expect(n3.evictions.filter((e) => e.node === 'n2')).toEqual([expect.objectContaining({ type: 'eviction.delegated', evictor: 'n1' })]);
    // The order: declared down, then removed, then each of its partitions started on a survivor.
    const downAt = n1.events.find((e) => e.type === 'member.down' && e.node === 'n2')!.at;
    expect(downAt).toBeGreaterThanOrEqual(killedAt);
    expect(eviction.at).toBeGreaterThanOrEqual(downAt);
    const takeovers = victim.map((p) => Math.min(...survivors.map((n) => startedAfter(n, p, killedAt)?.at ?? Infinity)));
    for (const at of takeovers) expect(at).toBeGreaterThanOrEqual(downAt);
    console.log(
      `[eviction] kill -9 n2 (partitions ${victim.join(', ')}): declared down by n1 after ${downAt - killedAt} ms, its member removed after ${eviction.at - killedAt} ms, ` +
        `its partitions started on the survivors after ${Math.max(...takeovers) - killedAt} ms (Kafka session timeout ${SESSION_TIMEOUT_MS} ms)`,
    );
    await f.expectNothingLostNothingWrong();
  }, 120_000);
});

describe('eviction under a false suspicion: a node stopped with SIGSTOP, then continued (two nodes, Kafka sessions of 45 s)', () => {
  const f = clusterFixture(['n1', 'n2']);
  beforeAll(f.setUp, 150_000);
  afterAll(f.tearDown);

  it('fences the paused node: its partitions go to the other, its commits never move the offsets back, it joins again as a new member, nothing lost and nothing wrong', async () => {
    const [n1, n2] = f.nodes as [NodeProcess, NodeProcess];
    const victim = ownedBy(n1, 'n2');
    expect(victim.length).toBeGreaterThan(0);
    const before = (await n2.value<{ memberId: string }>({ cmd: 'group-member' })).memberId;
    // The group's committed offsets, polled throughout: a commit of the fenced node accepted
    // after the takeover would move a partition's offset back.
    const regressions: string[] = [];
    const last = new Map<number, number>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const [offsets] = await f.admin.fetchOffsets({ groupId: f.processor, topics: [f.input] });
        for (const p of offsets?.partitions ?? []) {
          const offset = Number(p.offset);
          if (offset < (last.get(p.partition) ?? -1)) regressions.push(`partition ${p.partition}: ${last.get(p.partition)} → ${offset}`);
          last.set(p.partition, Math.max(offset, last.get(p.partition) ?? -1));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const stop = f.produce('b');
    await waitFor(() => f.outputs.some((o) => o.node === 'n2'), 20_000, 'records through n2', f.views);

    const pausedAt = Date.now();
    n2.kill('SIGSTOP');
    await waitFor(() => n1.evictions.some((e) => e.type === 'eviction.done' && e.node === 'n2'), 20_000, 'n1 to evict n2', f.views);
    await waitFor(() => victim.every((p) => startedAfter(n1, p, pausedAt)), 30_000, "n2's partitions to start on n1", f.views);
    const eviction = n1.evictions.find((e) => e.type === 'eviction.done' && e.node === 'n2')!;
    expect(eviction).toMatchObject({ removals: [{ member: before, outcome: 'removed' }] });
    await new Promise((r) => setTimeout(r, 1_000)); // n1 runs every partition for a while; n2 is still stopped

    const continuedAt = Date.now();
    n2.kill('SIGCONT');
    await waitFor(() => n1.events.some((e) => e.type === 'member.alive' && e.node === 'n2' && e.at >= continuedAt), 15_000, 'n1 to hear n2 again', f.views);
    // n2 learns it was removed at its next contact with the coordinator and joins again: a new
    // member id, and partitions started anew on it.
    let after = before;
    for (const deadline = Date.now() + 30_000; after === before && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 200));
      after = (await n2.value<{ memberId: string } | null>({ cmd: 'group-member' }))?.memberId ?? before;
    }
    expect(after).not.toBe(before);
    await waitFor(() => n2.lifecycle.some((e) => e.type === 'partition.started' && e.at >= continuedAt), 30_000, 'partitions to start on n2 again', f.views);
    await new Promise((r) => setTimeout(r, 1_000));
    await stop();
    await f.expectNothingLostNothingWrong();
    polling = false;
    await poll;

    expect(regressions).toEqual([]);
    // Paused, n2 judged nobody: it neither declared n1 down nor evicted it.
    expect(n2.events.filter((e) => e.type === 'member.down')).toEqual([]);
    expect(n2.evictions).toEqual([]);
    const refused = n2.logTail(200).split('\n').filter((l) => l.includes('offset commit failed')).length;
    const duplicates = f.outputs.length - new Set(f.outputs.map((o) => o.id)).size;
    console.log(
      `[eviction] SIGSTOP n2 (partitions ${victim.join(', ')}): evicted after ${eviction.at - pausedAt} ms; after SIGCONT it joined again as a new member, ` +
        `${refused} of its commits refused (logged), ${duplicates} records written twice (at-least-once), none lost`,
    );
  }, 150_000);
});
