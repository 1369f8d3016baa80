// Three tributary nodes as separate processes on the shared Kafka (one consumer group) and the
// shared nats-server (one cluster): membership converges; ask and interactive queries cross
// nodes; kill -9 of one node: the others declare it down within the bound and its partitions are
// processed elsewhere with nothing lost. Prints the measured times.
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MEMBERSHIP_TIMINGS } from '../../../src/cluster/member-tracker.js';
import { partitionForKey } from '../../../src/connectors/partitioner.js';
import { kafkaBrokers, natsUrl } from '../../helpers/env.js';
import { uniqueName } from '../../helpers/names.js';
import { NodeProcess, waitFor } from './fixtures/node-process.js';

const PARTITIONS = 6;
const { downAfterMs: DOWN_AFTER_MS, heartbeatIntervalMs: HEARTBEAT_MS } = DEFAULT_MEMBERSHIP_TIMINGS;

interface Out {
  readonly id: string;
  readonly key: string;
  readonly partition: number;
  readonly node: string;
  readonly at: number;
}

describe('a three-node cluster on Kafka and NATS (separate processes)', () => {
  const cluster = uniqueName('cl');
  const input = uniqueName('cluster-in');
  const output = uniqueName('cluster-out');
  const processor = uniqueName('cluster-p');
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  let producer: Producer;
  let reader: Consumer;
  const outputs: Out[] = [];
  const nodes: NodeProcess[] = [];
  // One key per partition, and all 60 keys.
  const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
  const keyOf = new Map<number, string>();
  for (const key of keys) if (!keyOf.has(partitionForKey(key, PARTITIONS))) keyOf.set(partitionForKey(key, PARTITIONS), key);

  const views = (): string => nodes.map((n) => `${n.id}: ${JSON.stringify(n.view)}\n${n.logTail(10)}`).join('\n');

  beforeAll(async () => {
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
    reader = kafka.consumer({ groupId: uniqueName('cluster-reader'), sessionTimeout: 6_000, heartbeatInterval: 500 });
    await reader.connect();
    await reader.subscribe({ topic: output, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void outputs.push(JSON.parse(message.value!.toString()) as Out) });
    const args = ['--cluster', cluster, '--nats', natsUrl(), '--kafka', kafkaBrokers().join(','), '--input', input, '--output', output, '--processor', processor];
    for (const id of ['n1', 'n2', 'n3']) nodes.push(new NodeProcess(id, args));
    await waitFor(() => nodes.every((n) => n.ready), 60_000, 'the three nodes to start', views);
  }, 120_000);

  afterAll(async () => {
    for (const n of nodes) n.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    await reader?.disconnect();
    await producer?.disconnect();
    await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    await admin.disconnect();
  });

  const send = (records: Array<{ id: string; key: string }>) =>
    producer.send({ topic: input, messages: records.map((r) => ({ key: r.key, value: JSON.stringify({ id: r.id }) })) });

  it('converges: every node sees the three nodes alive and one owner for each of the 6 partitions', async () => {
    const converged = (): boolean =>
      nodes.every(
        (n) =>
          n.view.members.length === 3 &&
          n.view.members.every((m) => m.status === 'alive') &&
          n.view.partitions.length === PARTITIONS &&
          n.view.partitions.every((p) => p.state.startsWith('running')) &&
          new Set(n.view.partitions.map((p) => p.node)).size === 3,
      );
    await waitFor(converged, 45_000, 'membership and partition ownership to converge', views);
    const [first, ...others] = nodes.map((n) => JSON.stringify(n.view.partitions));
    for (const other of others) expect(other).toBe(first);
  }, 60_000);

  it('asks across nodes, reaches a partition actor wherever it runs, and answers a query on a node that does not own the key', async () => {
    await send(keys.map((key, i) => ({ id: `a-${i}`, key })));
    await waitFor(() => new Set(outputs.filter((o) => o.id.startsWith('a-')).map((o) => o.id)).size === keys.length, 30_000, 'the first 60 records');
    const [n1] = nodes;
    expect(await n1.value({ cmd: 'ask', node: 'n2', path: 'echo', message: { hi: 1 } })).toEqual({ node: 'n2', from: 'n1', message: { hi: 1 } });
    const owners = new Map(n1.view.partitions.map((p) => [p.partition, p.node]));
    const remote = [...owners].find(([, node]) => node !== 'n1')!;
    const path = `processor:${processor}/partition:${input}-${remote[0]}`;
    const resolved = await n1.value<{ node: string; path: string }>({ cmd: 'resolve', path });
    expect(resolved).toEqual({ node: remote[1], path });
    expect(await n1.value({ cmd: 'ask', node: resolved.node, path, message: 'where?' })).toEqual({ node: remote[1], topic: input, partition: remote[0], message: 'where?' });

    for (const [partition, key] of keyOf) {
      const owner = owners.get(partition)!;
      const asker = nodes.find((n) => n.id !== owner)!;
      const answer = await asker.value<Record<string, unknown>>({ cmd: 'query', processor, name: 'count-by-key', key });
      const local = await nodes.find((n) => n.id === owner)!.value<Record<string, unknown>>({ cmd: 'local-query', processor, name: 'count-by-key', key });
      expect(answer).toEqual({ node: owner, processor, topic: input, partition, found: true, value: 1, stale: false });
      expect(local).toMatchObject({ owned: true, value: 1 });
    }
  }, 60_000);

  it('kill -9 of a node: the others declare it down within the bound and its partitions are processed elsewhere, nothing lost', async () => {
    const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const victimPartitions = n1.view.partitions.filter((p) => p.node === 'n3').map((p) => p.partition);
    expect(victimPartitions.length).toBeGreaterThan(0);
    let seq = 0;
    const produced: string[] = [];
    let producing = true;
    const production = (async () => {
      while (producing) {
        const batch = [...keyOf.values()].map((key) => ({ id: `b-${seq++}`, key }));
        produced.push(...batch.map((r) => r.id));
        await send(batch);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await new Promise((r) => setTimeout(r, 1_500)); // records flowing through all three nodes
    expect(outputs.some((o) => o.node === 'n3' && o.id.startsWith('b-'))).toBe(true);

    const killedAt = Date.now();
    n3.kill('SIGKILL');
    const declaredDown = (n: NodeProcess): number | undefined => n.events.find((e) => e.type === 'member.down' && e.node === 'n3' && e.at >= killedAt)?.at;
    const takenOver = (partition: number): number | undefined =>
      outputs.find((o) => o.partition === partition && o.node !== 'n3' && o.at >= killedAt)?.at;
    await waitFor(() => declaredDown(n1) !== undefined && declaredDown(n2) !== undefined, 10_000, 'n1 and n2 to declare n3 down', views);
    await waitFor(() => victimPartitions.every((p) => takenOver(p) !== undefined), 45_000, "n3's partitions to be processed elsewhere", views);
    await new Promise((r) => setTimeout(r, 1_000));
    producing = false;
    await production;

    const downMs = [declaredDown(n1)! - killedAt, declaredDown(n2)! - killedAt];
    const firstMs = Math.min(...victimPartitions.map((p) => takenOver(p)!)) - killedAt;
    const allMs = Math.max(...victimPartitions.map((p) => takenOver(p)!)) - killedAt;
    console.log(
      `[cluster] kill -9 n3 (partitions ${victimPartitions.join(', ')}): declared down after ${downMs.join(' / ')} ms (n1 / n2); ` +
        `first record of its partitions processed elsewhere after ${firstMs} ms, all of its partitions after ${allMs} ms ` +
        `(heartbeat ${HEARTBEAT_MS} ms, down after ${DOWN_AFTER_MS} ms of silence; Kafka session timeout 6,000 ms)`,
    );
    for (const ms of downMs) {
      expect(ms).toBeGreaterThanOrEqual(DOWN_AFTER_MS - HEARTBEAT_MS - 500); // its last heartbeat went out up to one interval before the kill
      expect(ms).toBeLessThanOrEqual(DOWN_AFTER_MS + 1_000);
    }
    expect(n1.statusOf('n3')).toBe('down');
    expect(n1.view.partitions.every((p) => p.node !== 'n3')).toBe(true);
    // A down node is refused at once.
    const ask = await n1.command({ cmd: 'ask', node: 'n3', path: 'echo', message: 1 });
    expect(ask).toMatchObject({ ok: false, name: 'NodeDownError' });

    // Nothing lost: every record produced before and after the kill reached the output.
    const seen = (): Set<string> => new Set(outputs.map((o) => o.id));
    const complete = (): boolean => {
      const s = seen();
      return produced.every((id) => s.has(id));
    };
    await waitFor(complete, 30_000, 'every produced record in the output', () => {
      const s = seen();
      return `missing ${produced.filter((id) => !s.has(id)).length} of ${produced.length}`;
    });
    expect(produced.length).toBeGreaterThan(100);
  }, 90_000);

  it('a node leaving gracefully is seen leaving at once, not after the down timeout', async () => {
    const [n1, n2] = nodes as [NodeProcess, NodeProcess];
    const started = Date.now();
    expect(await n2.value({ cmd: 'stop' })).toBe('stopped');
    await waitFor(() => n1.statusOf('n2') === 'left', 5_000, 'n1 to see n2 leave', views);
    const leftAt = n1.events.find((e) => e.type === 'member.left' && e.node === 'n2')!.at;
    console.log(`[cluster] graceful stop of n2 (drain, commit, leave the group): seen as left by n1 ${leftAt - started} ms after the stop command`);
    await n2.exited;
    expect(n2.exitCode).toBe(0);
    expect(n1.alive).toBe(true);
  }, 60_000);
});
