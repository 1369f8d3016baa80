/**
 * The `state-restore` scenario's tributary child: one partition's key-value store restored from
 * its changelog on Kafka, as a new owner does (PartitionState.restore: read the changelog up to
 * the committed position, under the epoch rules; then the claim, here a no-op, and the epoch
 * marker).
 *
 * `node --import tsx bench/state-restore/tributary-restore.ts --brokers B --processor P --position N --epoch E --keys K --label L [--state-dir D]`
 *
 * The store is `counts` of processor P, its changelog `P-counts-changelog` partition 0, filled
 * by the scenario with K distinct keys (JSON keys, V8-serialized numbers: what `countByKey`
 * writes). With `--state-dir` the store is on LMDB, reading through to its local copy: the first
 * run on an empty directory restores from the changelog into the copy (inside the measured
 * window; the meta after the claim is waited for outside it); a second run on the same
 * directory, with the epoch the first reported, is a restart on the same disk (the copy opened,
 * nothing loaded). Measured: `restore()` itself (wall and CPU), records/s = keys ÷ seconds.
 */
import { performance } from 'node:perf_hooks';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { LmdbStateDir } from '../../src/state/lmdb-state-dir.js';
import { PartitionState } from '../../src/state/partition-state.js';
import { report, runChild, type ChildResult } from '../ingest/child.js';

function parse(): Record<string, string> {
  const argv = process.argv.slice(2);
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) out[argv[i].replace(/^--/, '')] = argv[++i] ?? '';
  return out;
}

runChild(async () => {
  const a = parse();
  const label = a.label ?? 'tributary';
  const keys = Number(a.keys);
  const logger = createLogger({ level: 'warn' });
  const log = new KafkaConnector({ brokers: a.brokers.split(',') }, logger);
  const reader = log.reader();
  const producer = log.producer();
  const dir = a['state-dir'] ? new LmdbStateDir(a['state-dir'], a.processor, logger) : undefined;
  const state = new PartitionState({
    processorId: a.processor,
    topicPartition: { topic: `${a.processor}-input`, partition: 0 },
    multiTopic: false,
    reader,
    producer,
    ensureChangelog: async () => {},
    logger,
    localCopy: dir ? (_store, changelog) => dir.copy(changelog) : undefined,
  });
  const store = state.keyValueStore<string, number>('counts');
  const mark = { epoch: Number(a.epoch), positions: { counts: Number(a.position) } };
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const summary = await state.restore(mark, async () => {});
  const seconds = (performance.now() - started) / 1000;
  const endUs = Number(process.hrtime.bigint() / 1000n);
  const cpu = process.cpuUsage(cpu0);
  if (store.size !== keys) throw new Error(`${label}: restored ${store.size} keys, expected ${keys}`);
  let writeSeconds = 0;
  if (dir) {
    const before = performance.now();
    await dir.flushed();
    writeSeconds = (performance.now() - before) / 1000;
  }
  const total = process.cpuUsage();
  const result: ChildResult = {
    label,
    records: keys,
    firstBatchRecords: 0,
    seconds,
    totalSeconds: seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    processCpuSeconds: (total.user + total.system) / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    windowStartUs: startUs,
    windowEndUs: endUs,
    extra: {
      keys: store.size,
      restoreSeconds: seconds,
      changelogRecords: summary.records,
      localRecords: summary.localRecords,
      epoch: summary.epoch,
      localWriteSeconds: writeSeconds,
    },
  };
  await report(result, async () => {
    await dir?.close();
    await reader.close();
    await producer.close();
  });
});
