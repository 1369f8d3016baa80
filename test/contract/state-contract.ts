/**
 * The contract of durable state, as seen through a processor with a table (a running total per
 * key): one suite, run on the embedded MemoryLog and on a real Kafka broker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { createTributary, type Tributary } from '../../src/app/tributary.js';
import type { LogConnector, OutgoingRecord } from '../../src/connectors/log.js';
import { decodeResumePoint } from '../../src/actors/resume-point.js';
import { createLogger } from '../../src/observability/logger.js';
import { defineProcessor } from '../../src/processor/define-processor.js';
import type { LifecycleEvent } from '../../src/processor/lifecycle-event.js';
import { toFunction } from '../../src/sinks/function-sink.js';
import { ChangelogHeaders, changelogTopic } from '../../src/state/changelog.js';
import type { StoreBackend } from '../../src/state/lmdb-state-dir.js';
import { aggregateByKey, type TableUpdate } from '../../src/streams/aggregate-by-key.js';
import { summing } from '../../src/streams/summing.js';
import type { StreamRecord } from '../../src/streams/stream-record.js';
import { uniqueName } from '../helpers/names.js';
import { eventually } from './read-topic.js';
import type { ContractTarget } from './processor-contract.js';

const logger = createLogger({ level: process.env.TRIBUTARY_LOG_LEVEL ?? 'silent' });
const KEYS = 17;
const PARTITIONS = 3;

type Update = TableUpdate<string, number>;

function numbers(count: number, from = 0): OutgoingRecord[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % KEYS}`, value: JSON.stringify({ n: from + i }) }));
}

/** The reference: the total of `n` per key over the first `count` records, by a plain loop. */
function totals(count: number): Map<string, number> {
  const expected = new Map<string, number>();
  for (let i = 0; i < count; i++) expected.set(`k${i % KEYS}`, (expected.get(`k${i % KEYS}`) ?? 0) + i);
  return expected;
}

/** `stores`: the backend of the table's store; on `'lmdb'` every app of a test is one node restarting on one disk. */
export function stateContract(name: string, target: ContractTarget, stores: StoreBackend = 'memory'): void {
  describe(`durable state contract on ${name}${stores === 'lmdb' ? ', stores on LMDB' : ''}`, () => {
    const apps: Tributary[] = [];
    let stateDir: string | undefined;
    afterEach(async () => {
      for (const app of apps.splice(0)) await app.stop().catch(() => {});
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
      stateDir = undefined;
    });

    async function setup(): Promise<{ log: LogConnector; topic: string; id: string }> {
      const log = target.connect();
      const topic = uniqueName('state-in');
      const admin = log.admin();
      await admin.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
      await admin.close();
      if (stores === 'lmdb') stateDir = mkdtempSync(join(tmpdir(), 'tributary-state-'));
      return { log, topic, id: uniqueName('totals') };
    }

    async function produce(log: LogConnector, topic: string, records: OutgoingRecord[]): Promise<void> {
      const producer = log.producer();
      await producer.send(topic, records);
      await producer.close();
    }

    /** Starts the totals processor; `updates` collects what it emits, `events` its lifecycle. */
    async function startTotals(log: LogConnector, topic: string, id: string, updates: Update[], events: LifecycleEvent[] = []) {
      const app = createTributary({
        log,
        logger,
        stateDir,
        processors: [
          defineProcessor<string, { n: number }>({
            id,
            source: { topics: topic },
            commitIntervalMs: 100,
            stores,
            pipeline: (records) =>
              records.pipe(aggregateByKey({ store: 'totals', aggregate: summing((r: StreamRecord<string, { n: number }>) => r.value.n) })),
            sinks: toFunction('collect', (items: readonly Update[]) => void updates.push(...items)),
          }),
        ],
      });
      apps.push(app);
      app.lifecycle.subscribe((e) => events.push(e));
      await app.start();
      return app;
    }

    async function committed(log: LogConnector, id: string, topic: string) {
      const consumer = log.groupConsumer({ groupId: id, topics: [topic] });
      return consumer.committed(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
    }

    function lastPerKey(...runs: Update[][]): Map<string, number> {
      const last = new Map<string, number>();
      for (const run of runs) for (const u of run) last.set(u.key, u.value);
      return last;
    }

    it('commits offsets that keep up with processing under a table that never expires, and restores it instead of replaying', async () => {
      const { log, topic, id } = await setup();
      await produce(log, topic, numbers(600));
      const first: Update[] = [];
      await startTotals(log, topic, id, first);
      await eventually(async () => {
        expect(first.length).toBe(600);
        const offsets = await committed(log, id, topic);
        expect(offsets.reduce((sum, o) => sum + o.offset, 0)).toBe(600); // every record: nothing pinned at the start
      });
      await apps.pop()!.stop();
      await produce(log, topic, numbers(300, 600));
      const second: Update[] = [];
      const events: LifecycleEvent[] = [];
      await startTotals(log, topic, id, second, events);
      await eventually(() => expect(second.length).toBe(300));
      // The changelog was created compacted, with an hour's compaction lag (docs/runtime.md, "Compaction").
      const admin = log.admin();
      expect(await admin.topicConfig(changelogTopic(id, 'totals'))).toMatchObject({ 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '3600000' });
      await admin.close();
      // Only the new records were processed: the first 600 came back from the changelog.
      expect(lastPerKey(first, second)).toEqual(totals(900));
      // Interactive queries answer from the store of the key's partition.
      const answer = apps[apps.length - 1].processor(id).query('totals', 'k5');
      expect(answer).toMatchObject({ owned: true, found: true, value: totals(900).get('k5') });
      expect(apps[apps.length - 1].processor(id).query('totals', 'nobody')).toMatchObject({ owned: true, found: false, value: undefined });
      // The app-level query (no cluster here: this node owns every partition) says the same.
      expect(await apps[apps.length - 1].query(id, 'totals', 'k5')).toMatchObject({ found: true, value: totals(900).get('k5'), node: undefined });
      expect(await apps[apps.length - 1].query(id, 'totals', 'nobody')).toMatchObject({ found: false });
      const restored = events.filter((e) => e.type === 'partition.restored');
      expect(restored).toHaveLength(PARTITIONS);
      expect(restored.reduce((sum, e) => sum + (e.type === 'partition.restored' ? e.keys : 0), 0)).toBe(KEYS);
      if (stores === 'lmdb') {
        // Stopped gracefully: every key came back from the local copies, none from the changelogs.
        expect(restored.reduce((sum, e) => sum + (e.type === 'partition.restored' ? e.localRecords : 0), 0)).toBe(KEYS);
        expect(restored.reduce((sum, e) => sum + (e.type === 'partition.restored' ? e.records : 0), 0)).toBe(0);
      }
      // Users see it: the status (and /health) give each partition's store sizes, the metrics the restore and the changelog writes.
      const app = apps[apps.length - 1];
      await eventually(async () => {
        const partitions = app.status().processors.find((p) => p.id === id)!.partitions;
        expect(partitions.reduce((sum, p) => sum + (p.stores?.totals ?? 0), 0)).toBe(KEYS);
        const text = await app.metrics.registry.metrics();
        const sum = (metric: string): number =>
          text.split('\n').filter((l) => l.startsWith(`${metric}{`) && l.includes(`processor="${id}"`)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
        // On LMDB the keys come from the local copies: no changelog record to read.
        if (stores === 'memory') expect(sum('tributary_state_restore_records_total')).toBeGreaterThanOrEqual(KEYS);
        expect(sum('tributary_state_changelog_records_total')).toBeGreaterThan(0);
        expect(sum('tributary_state_store_keys')).toBe(KEYS);
        expect(sum('tributary_state_restore_seconds_count')).toBe(PARTITIONS);
      });
    });

    it('restores exactly the state at the committed offset, ignoring changelog records written after it', async () => {
      const { log, topic, id } = await setup();
      await produce(log, topic, numbers(300));
      const first: Update[] = [];
      await startTotals(log, topic, id, first);
      await eventually(() => expect(first.length).toBe(300));
      await apps.pop()!.stop();
      // A previous owner that wrote its changes and died before committing them (same epoch as
      // the commit), and one with a later epoch that never got to commit anything.
      const offsets = await committed(log, id, topic);
      const epoch = decodeResumePoint(offsets[0].offset, offsets[0].metadata).state!.epoch;
      const producer = log.producer();
      const forged = (key: string, value: number, e: number): OutgoingRecord => ({
        key: JSON.stringify(key),
        value: serialize(value),
        headers: { [ChangelogHeaders.epoch]: String(e) },
      });
      for (let p = 0; p < PARTITIONS; p++) {
        await producer.append(changelogTopic(id, 'totals'), p, [forged('k0', 1e9, epoch), forged('k1', -5, epoch + 7), forged('k2', 42, epoch)]);
      }
      await producer.close();
      await produce(log, topic, numbers(300, 300));
      const second: Update[] = [];
      await startTotals(log, topic, id, second);
      await eventually(() => expect(second.length).toBe(300));
      expect(lastPerKey(first, second)).toEqual(totals(600));
      // A third owner restores from the second's commits: the stale records were written over.
      await eventually(async () => {
        const now = await committed(log, id, topic);
        expect(now.reduce((sum, o) => sum + o.offset, 0)).toBe(600);
      });
      await apps.pop()!.stop();
      await produce(log, topic, numbers(KEYS, 600));
      const third: Update[] = [];
      await startTotals(log, topic, id, third);
      await eventually(() => expect(third.length).toBe(KEYS));
      expect(lastPerKey(first, second, third)).toEqual(totals(600 + KEYS));
    });

    it("ignores a zombie owner's changelog writes made after a newer owner took over", async () => {
      const { log, topic, id } = await setup();
      await produce(log, topic, numbers(300));
      const first: Update[] = [];
      await startTotals(log, topic, id, first);
      await eventually(() => expect(first.length).toBe(300));
      await apps.pop()!.stop();
      const before = await committed(log, id, topic);
      const oldEpoch = decodeResumePoint(before[0].offset, before[0].metadata).state!.epoch;
      const second: Update[] = [];
      await startTotals(log, topic, id, second);
      // The old owner, paused through the takeover, wakes up and writes its last changes.
      const producer = log.producer();
      for (let p = 0; p < PARTITIONS; p++) {
        await producer.append(changelogTopic(id, 'totals'), p, [
          { key: JSON.stringify('k3'), value: serialize(-1), headers: { [ChangelogHeaders.epoch]: String(oldEpoch) } },
        ]);
      }
      await producer.close();
      await produce(log, topic, numbers(300, 300));
      await eventually(() => expect(second.length).toBe(300));
      await eventually(async () => {
        const now = await committed(log, id, topic);
        expect(now.reduce((sum, o) => sum + o.offset, 0)).toBe(600);
      });
      await apps.pop()!.stop();
      await produce(log, topic, numbers(KEYS, 600));
      const third: Update[] = [];
      await startTotals(log, topic, id, third);
      await eventually(() => expect(third.length).toBe(KEYS));
      expect(lastPerKey(first, second, third)).toEqual(totals(600 + KEYS));
    });
  });
}
