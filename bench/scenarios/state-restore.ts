/**
 * Scenario `state-restore` (issue 14): restore one partition's key-value store of N keys
 * (default 1,000,000) from its changelog on Kafka. tributary (in-memory store) next to Kafka
 * Streams restoring the same store in memory and on RocksDB, side by side in one run; and
 * tributary with the store on LMDB, restarting on the same disk (goal: under 1 s for 1M keys).
 *
 * 1. Two compacted one-partition changelog topics, each with the N distinct keys `k0…`, in each
 *    system's own format: tributary's `<processor>-counts-changelog` (JSON keys, V8-serialized
 *    numbers, epoch header: what `countByKey({ store: 'counts' })` writes) and Kafka Streams'
 *    `<app id>-counts-changelog` (String keys, Long values: what `count()` writes). Loaded once
 *    by this process's kafkajs producer.
 * 2. Each round, in order: Kafka Streams in memory, Kafka Streams on RocksDB (each a new
 *    instance with an empty state directory, restoring from offset 0 to the end), tributary in
 *    memory (bench/state-restore/tributary-restore.ts: PartitionState.restore to the committed
 *    position = the end), tributary on LMDB on an empty state directory (a full restore, written
 *    to the store's LMDB copy as it is read), and tributary on LMDB again on that directory: the
 *    restart, which opens the copy and reads only the changelog past it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { Kafka, logLevel } from 'kafkajs';
import { ensureAnchors, type Anchors } from '../lib/anchors.js';
import { connectBroker, type Broker } from '../lib/broker.js';
import { fmtInt } from '../lib/format.js';
import { runResultChild } from '../lib/processes.js';
import { benchTopic, cleanup, fromChild, interleaved, measureNode, type RunSpec } from '../lib/runs.js';
import type { ChildResult } from '../ingest/child.js';
import { ChangelogHeaders, CHANGELOG_CONFIG } from '../../src/state/changelog.js';
import { compare, failed, type Measurement, type Scenario, type ScenarioOptions } from '../scenario.js';

const DEFAULT_KEYS = 1_000_000;
const DEFAULT_ROUNDS = 1;
const BATCH = 10_000;
const IN_FLIGHT = 4;

export const stateRestore: Scenario = {
  name: 'state-restore',
  description: 'restore one partition of a key-value store holding 1,000,000 keys from its changelog on Kafka: tributary (memory) vs Kafka Streams (in-memory, RocksDB), and tributary on LMDB restarting on the same disk',
  async run(options: ScenarioOptions) {
    const keys = options.records ?? DEFAULT_KEYS;
    const rounds = options.rounds ?? DEFAULT_ROUNDS;
    const { log } = options;
    const broker = await connectBroker(log);
    const anchors = options.onlyTributary ? undefined : await ensureAnchors(log);
    const processor = benchTopic('restore');
    const appId = `${processor}-ks`;
    const topics = [`${processor}-counts-changelog`, `${appId}-counts-changelog`, `${appId}-input`];
    const stateDirs: string[] = [];
    try {
      await broker.admin.createTopics({
        topics: [
          ...topics.slice(0, 2).map((topic) => ({ topic, numPartitions: 1, configEntries: Object.entries(CHANGELOG_CONFIG).map(([name, value]) => ({ name, value })) })),
          { topic: topics[2], numPartitions: 1 },
        ],
        waitForLeaders: true,
      });
      await loadChangelogs(broker, topics[0], topics[1], keys, log);
      // The committed position is the changelog's end: past the N keys if a retried send wrote some twice.
      const position = Number((await broker.admin.fetchTopicOffsets(topics[0])).find((p) => p.partition === 0)?.high ?? keys);
      let epoch = 1;
      let lmdbDir: string | undefined;
      const tributaryRun = (name: string, round: number, extra: string[]) =>
        measureNode({
          name,
          round,
          script: 'bench/state-restore/tributary-restore.ts',
          args: ['--brokers', broker.brokers.join(','), '--processor', processor, '--position', String(position), '--epoch', String(epoch), '--keys', String(keys), '--label', name, ...extra],
          broker,
          profileDir: options.profileDir,
          timeoutMs: 120_000 + keys / 5,
          log,
        }).then((m) => {
          if (!m.error) log(`${name}: ${fmtInt(keys)} keys in ${m.seconds.toFixed(3)} s (${String(m.details?.changelogRecords)} changelog records read, ${String(m.details?.localRecords)} from the local copy)`);
          return m;
        });
      const specs: RunSpec[] = [
        ...(anchors
          ? (['memory', 'rocksdb'] as const).map((store): RunSpec => ({ name: `kafka-streams-${store}`, kind: 'anchor', run: (round) => streamsRestore(anchors, broker, appId, store, keys, round, log) }))
          : []),
        { name: 'tributary-memory', kind: 'tributary', run: (round) => tributaryRun('tributary-memory', round, []) },
        {
          name: 'tributary-lmdb-first',
          kind: 'tributary',
          run: async (round) => {
            lmdbDir = mkdtempSync(join(tmpdir(), 'tributary-bench-restore-'));
            stateDirs.push(lmdbDir);
            const m = await tributaryRun('tributary-lmdb-first', round, ['--state-dir', lmdbDir]);
            if (typeof m.details?.epoch === 'number') epoch = m.details.epoch; // what its claim committed
            return m;
          },
        },
        {
          name: 'tributary-lmdb-restart',
          kind: 'tributary',
          run: async (round) => {
            if (!lmdbDir) return failed(new Error('no state directory: tributary-lmdb-first did not run'));
            const m = await tributaryRun('tributary-lmdb-restart', round, ['--state-dir', lmdbDir]);
            epoch = 1;
            return m;
          },
        },
      ];
      const { anchors: anchorRuns, tributary } = await interleaved(specs, rounds, log, async () => broker.checkSame());
      const comparedWith: Record<string, string> = anchors ? { 'kafka-streams-memory': 'tributary-memory', 'kafka-streams-rocksdb': 'tributary-memory' } : {};
      const { ratios, cpuRatios } = compare(tributary, anchorRuns, comparedWith);
      const restart = tributary['tributary-lmdb-restart'];
      return {
        name: 'state-restore',
        description: stateRestore.description,
        params: { keys, rounds, partitions: 1 },
        tributary,
        anchors: anchorRuns,
        comparedWith,
        ratios,
        cpuRatios,
        columns: [
          { key: 'restoreSeconds', label: 'restore s', digits: 3 },
          { key: 'changelogRecords', label: 'changelog records read', digits: 0 },
          { key: 'localRecords', label: 'local copy entries', digits: 0 },
          { key: 'localWriteSeconds', label: 'local copy write s', digits: 2 },
        ],
        notes: [
          `one changelog partition per system holding ${fmtInt(keys)} distinct keys (k0, k1, …), one record each, loaded beforehand: tributary's in its format (JSON key, V8-serialized number, epoch header), Kafka Streams' in its (String key, Long value)`,
          'kafka-streams-memory / -rocksdb: Kafka Streams 4.1.1, stream(input).groupByKey().count(Materialized.as(Stores.inMemoryKeyValueStore / persistentTimestampedKeyValueStore("counts"))) with an empty input and an empty state directory, one stream thread, default restore consumer settings, -Xms1g -Xmx1g; timed by the global restore listener (onRestoreStart → onRestoreEnd), CPU = the whole JVM over that window',
          'tributary-memory: PartitionState.restore (what a partition actor runs before its first record) of the store counts up to the committed position (the end), on KafkaConnector\'s changelog reader; timed around restore(), CPU = the process over it',
          'tributary-lmdb-first: the same on an empty state directory with the store on LMDB, which reads through to its copy (a full restore from the changelog, written to LMDB as it is read, inside the window; the meta written after the claim, "local copy write s", outside it); tributary-lmdb-restart: a new process on the same directory with the mark its claim committed: opens the local copy (its entries are read on demand, none loaded: "local copy entries" is how many it holds), reads the changelog past it (only the first run\'s epoch marker)',
          restart && !restart.error ? `LMDB restart of ${fmtInt(keys)} keys: ${restart.seconds.toFixed(3)} s (goal < 1 s)` : 'LMDB restart unavailable',
        ],
      };
    } finally {
      for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
      await cleanup(broker, topics, [appId], log, [`${appId}-`]);
      await broker.close();
    }
  },
};

/** Writes the N keys to both changelogs, each in its system's format. */
async function loadChangelogs(broker: Broker, tributaryTopic: string, streamsTopic: string, keys: number, log: (line: string) => void): Promise<void> {
  const started = performance.now();
  const kafka = new Kafka({ clientId: 'tributary-bench-restore', brokers: broker.brokers, logLevel: logLevel.WARN });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const epoch = { [ChangelogHeaders.epoch]: '1' };
    const inFlight: Array<Promise<unknown>> = [];
    for (let from = 0; from < keys; from += BATCH) {
      const t: Array<{ key: string; value: Buffer; headers: Record<string, string> }> = [];
      const s: Array<{ key: string; value: Buffer }> = [];
      for (let i = from; i < Math.min(keys, from + BATCH); i++) {
        t.push({ key: JSON.stringify(`k${i}`), value: serialize(i), headers: epoch });
        const long = Buffer.alloc(8);
        long.writeBigInt64BE(BigInt(i));
        s.push({ key: `k${i}`, value: long });
      }
      inFlight.push(
        producer.sendBatch({
          acks: 1,
          topicMessages: [
            { topic: tributaryTopic, messages: t.map((m) => ({ ...m, partition: 0 })) },
            { topic: streamsTopic, messages: s.map((m) => ({ ...m, partition: 0 })) },
          ],
        }),
      );
      // A few requests in flight (the keys are distinct: their order does not matter; a retried send may write some twice).
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  log(`state-restore: ${fmtInt(keys)} keys written to ${tributaryTopic} and ${streamsTopic} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function streamsRestore(anchors: Anchors, broker: Broker, appId: string, store: 'memory' | 'rocksdb', keys: number, round: number, log: (line: string) => void): Promise<Measurement> {
  const name = `kafka-streams-${store}`;
  try {
    const result = await runResultChild<ChildResult>({
      command: anchors.java,
      args: [...anchors.jvmFlags, '-cp', anchors.classpath, 'dev.tributary.bench.RestoreBench', '--bootstrap', broker.brokers.join(','), '--app-id', appId, '--input', `${appId}-input`, '--store', store, '--records', String(keys), '--label', `${name}-${round}`],
      name,
      timeoutMs: 360_000,
      onLine: log,
    });
    const m = fromChild(result);
    log(`${name}: ${fmtInt(m.records)} records restored in ${m.seconds.toFixed(3)} s (${fmtInt(m.recordsPerSec)} records/s)`);
    return m;
  } catch (err) {
    log(`${name}: FAILED: ${(err as Error).message}`);
    return failed(err);
  }
}
