// Warm standbys on real Kafka and NATS: two nodes (separate processes) run a count per key on
// LMDB with standbyReplicas 1, each standing by for the other's partitions. kill -9 of one: the
// survivor takes its partitions (evicted through NATS, sessions of 45 s) and restores them from
// its standby copies, reading only the changelog past them (none here: the input was quiet and
// every standby had caught up), and the counts go on exactly from there.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, natsUrl } from '../../helpers/env.js';
import { uniqueName } from '../../helpers/names.js';
import { STATE_AWARE_ASSIGNER } from '../../../src/connectors/kafka/state-aware-assigner.js';

const PARTITIONS = 4;

interface Lifecycle {
  readonly type: string;
  readonly partition: number;
  readonly node: string;
  readonly wall: number;
  readonly records?: number;
  readonly localRecords?: number;
  readonly keys?: number;
}
interface StandbyLine {
  readonly partition: number;
  readonly lag: number | null;
  readonly stores: ReadonlyArray<{ store: string; position: number; lag: number }>;
}

class StandbyNode {
  readonly child: ChildProcess;
  readonly lifecycle: Lifecycle[] = [];
  standbys: StandbyLine[] = [];
  ready = false;
  private readonly stderr: string[] = [];
  readonly exited: Promise<void>;
  constructor(
    readonly id: string,
    args: readonly string[],
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/cluster/fixtures/standby-node.ts', '--node', id, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' } });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('@')) return;
      const m = JSON.parse(line.slice(1)) as { type: string; event?: Lifecycle; standbys?: StandbyLine[] };
      if (m.type === 'ready') this.ready = true;
      else if (m.type === 'lifecycle') this.lifecycle.push(m.event!);
      else if (m.type === 'standbys') this.standbys = m.standbys!;
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 100) this.stderr.shift();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }
  /** Partitions whose actor runs here now. */
  get owned(): Set<number> {
    const owned = new Set<number>();
    for (const e of this.lifecycle) {
      if (e.type === 'partition.started') owned.add(e.partition);
      else if (e.type === 'partition.stopped') owned.delete(e.partition);
    }
    return owned;
  }
  logTail(): string {
    return this.stderr.slice(-20).join('\n');
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string, detail: () => string = () => ''): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function twoNodes(KEYS: number) {
  const cluster = uniqueName('standby');
  const input = uniqueName('standby-in');
  const output = uniqueName('standby-out');
  const processorId = uniqueName('standby-p');
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const dirs: string[] = [];
  const nodes: StandbyNode[] = [];
  const latest = new Map<string, number>(); // key → last count written
  const sent = new Map<string, number>(); // key → records produced
  let producer: Producer;
  let reader: Consumer;
  const detail = (): string => nodes.map((n) => `${n.id}: owns ${[...n.owned].join(',')}; standbys ${JSON.stringify(n.standbys)}\n${n.logTail()}`).join('\n');

  const produce = async (rounds: number): Promise<void> => {
    for (let r = 0; r < rounds; r++) {
      const messages = Array.from({ length: KEYS }, (_, i) => ({ key: `k${i}`, value: '{}' }));
      for (const m of messages) sent.set(m.key, (sent.get(m.key) ?? 0) + 1);
      await producer.send({ topic: input, messages });
    }
  };
  const allCounted = (): boolean => [...sent].every(([key, n]) => latest.get(key) === n);

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: input, numPartitions: PARTITIONS }, { topic: output, numPartitions: 2 }], waitForLeaders: true });
    producer = kafka.producer();
    await producer.connect();
    reader = kafka.consumer({ groupId: uniqueName('standby-reader'), sessionTimeout: 6_000, heartbeatInterval: 500 });
    await reader.connect();
    await reader.subscribe({ topic: output, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const { key, count } = JSON.parse(message.value!.toString()) as { key: string; count: number };
        latest.set(key, count);
      },
    });
    const args = ['--cluster', cluster, '--nats', natsUrl(), '--kafka', kafkaBrokers().join(','), '--input', input, '--output', output, '--processor', processorId];
    for (const id of ['a', 'b']) {
      const dir = mkdtempSync(join(tmpdir(), `tributary-standby-${id}-`));
      dirs.push(dir);
      nodes.push(new StandbyNode(id, [...args, '--state-dir', dir]));
      // b joins once a owns every partition: the group then rebalances once more, with a's state announced.
      if (id === 'a') await waitFor(() => nodes[0].owned.size === PARTITIONS, 60_000, 'a to own every partition', detail);
    }
    await waitFor(() => nodes.every((n) => n.ready && n.owned.size > 0), 60_000, 'both nodes to own partitions', detail);
  });

  afterAll(async () => {
    for (const n of nodes) n.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    await reader?.disconnect();
    await producer?.disconnect();
    await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    await admin.disconnect();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return { nodes, admin, produce, allCounted, detail, sent, latest, processorId, kafka };
}

describe('warm standbys on Kafka and NATS', () => {
  const KEYS = 200;
  const { nodes, admin, produce, allCounted, detail, sent, latest, processorId } = twoNodes(KEYS);

  it('has each node stand by for the other\'s partitions; after kill -9 the survivor restores them from its copies, reading only the tail, and counts on exactly', async () => {
    const [a, b] = nodes;
    await produce(5);
    await waitFor(allCounted, 60_000, 'every record counted', detail);
    // Each node follows exactly the partitions the other owns, and has caught up with the (quiet) changelogs.
    await waitFor(
      () => nodes.every((n, i) => {
        const other = nodes[1 - i];
        const followed = new Set(n.standbys.map((s) => s.partition));
        return followed.size === other.owned.size && [...other.owned].every((p) => followed.has(p)) && n.standbys.every((s) => s.lag === 0);
      }),
      60_000,
      'each node to stand by, caught up, for the other node\'s partitions',
      detail,
    );
    const described = await admin.describeGroups([processorId]);
    expect(described.groups[0].protocol).toBe(STATE_AWARE_ASSIGNER);

    const victim = b.owned.size > 0 ? b : a;
    const survivor = victim === b ? a : b;
    const taken = [...victim.owned];
    const positions = new Map(survivor.standbys.map((s) => [s.partition, s.stores[0].position]));
    const before = survivor.lifecycle.length;
    victim.child.kill('SIGKILL');
    await victim.exited;
    await waitFor(() => taken.every((p) => survivor.lifecycle.slice(before).some((e) => e.type === 'partition.restored' && e.partition === p)), 45_000, 'the survivor to restore the dead node\'s partitions', detail);

    for (const p of taken) {
      const restored = survivor.lifecycle.slice(before).find((e) => e.type === 'partition.restored' && e.partition === p)!;
      // From the standby copy (every key of the partition), and not one changelog record: the copy was at the committed mark and the end.
      expect(restored.localRecords, `partition ${p}`).toBe(restored.keys);
      expect(restored.keys, `partition ${p}`).toBeGreaterThan(0);
      expect(restored.records, `partition ${p}`).toBe(0);
      expect(positions.get(p), `partition ${p}`).toBeGreaterThan(0);
    }
    await waitFor(() => survivor.owned.size === PARTITIONS, 30_000, 'the survivor to own every partition', detail);
    // Nobody left to stand by for (the node reports its standbys every so often: wait for the report after the takeover).
    await waitFor(() => survivor.standbys.length === 0, 30_000, 'the survivor to stand by for no partition', detail);

    // The counts go on from the restored state: every key's last count is every record of it.
    await produce(3);
    await waitFor(allCounted, 60_000, 'every record counted after the takeover', () => `${detail()}\nwrong: ${JSON.stringify([...sent].filter(([k, n]) => latest.get(k) !== n).slice(0, 5).map(([k, n]) => [k, n, latest.get(k)]))}`);
    expect([...sent.values()].every((n) => n === 8)).toBe(true);
    expect(KEYS).toBe(latest.size);
  });
});

describe('warm standbys on Kafka and NATS, under load', () => {
  const KEYS = 2_000;
  const { nodes, admin, produce, allCounted, detail, sent, latest, processorId } = twoNodes(KEYS);

  it('after kill -9 during a steady input, the survivor restores from its standby copies, reading only the tail of each changelog, and counts on exactly', async () => {
    await produce(5);
    await waitFor(allCounted, 60_000, 'every record counted', detail);
    await waitFor(() => nodes.every((n, i) => n.standbys.length === nodes[1 - i].owned.size && n.standbys.length > 0 && n.standbys.every((s) => s.lag !== null)), 60_000, 'both nodes to stand by', detail);
    const [a, b] = nodes;
    const victim = b.owned.size > 0 ? b : a;
    const survivor = victim === b ? a : b;
    const taken = [...victim.owned];
    // A steady input through the kill: the changelogs move while the standbys follow them.
    let producing = true;
    const load = (async () => {
      while (producing) {
        await produce(1);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const before = survivor.lifecycle.length;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const changelog = `${processorId}-counts-changelog`;
    const ends = new Map((await admin.fetchTopicOffsets(changelog)).map((o) => [o.partition, Number(o.high)]));
    await waitFor(() => taken.every((p) => survivor.lifecycle.slice(before).some((e) => e.type === 'partition.restored' && e.partition === p)), 45_000, 'the survivor to restore the dead node\'s partitions', detail);
    producing = false;
    await load;
    for (const p of taken) {
      const restored = survivor.lifecycle.slice(before).find((e) => e.type === 'partition.restored' && e.partition === p)!;
      // Its keys from the standby copy; from the changelog only the tail: under half of what a full restore reads (all of it).
      expect(restored.localRecords, `partition ${p}`).toBeGreaterThan(0);
      expect(ends.get(p), `partition ${p}`).toBeGreaterThan(2_000);
      expect(restored.records, `partition ${p}`).toBeLessThan(ends.get(p)! / 2);
    }
    await waitFor(allCounted, 60_000, 'every record counted after the takeover', () => `${detail()}\nwrong: ${JSON.stringify([...sent].filter(([k, n]) => latest.get(k) !== n).slice(0, 5).map(([k, n]) => [k, n, latest.get(k)]))}`);
    expect(latest.size).toBe(KEYS);
  });
});
