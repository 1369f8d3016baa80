/**
 * Scenario `ingest`: how fast tributary reads a topic with an identity pipeline, next to a raw
 * kafkajs consumer and Kafka's own ConsumerPerformance, on the same pre-loaded topic.
 *
 * 1. A fresh topic (P partitions, default 4) is filled with N records (default 1,000,000) of
 *    100 bytes by Kafka's ProducerPerformance, before anything is measured. The values are
 *    JSON objects padded to exactly 100 bytes; keys are null (the producer's sticky
 *    partitioner spreads them; the per-partition counts are checked and reported).
 * 2. Each consumer runs in a child process of its own, with a fresh consumer group, from the
 *    earliest offset until all N records were seen; the runs go one after another, raw and
 *    tributary interleaved, so that drift on the machine touches both alike, for R rounds
 *    (default 3); each figure reported is the median over the rounds.
 * 3. Rates are over the window from the first batch handled to the last record seen (group
 *    join excluded; the first batch's records are not counted in it); the `total` rate counts
 *    from the consumer's start. CPU is the consumer process's user + system time over the same
 *    window (Node: process.cpuUsage()); for the JVM, whole-process CPU minus a 1-record run's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildResult } from '../ingest/child.js';
import { connectBroker, type Broker } from '../lib/broker.js';
import { ensureKafkaTools, type KafkaTools } from '../lib/kafka-tools.js';
import { runJava, runNodeChild } from '../lib/processes.js';
import { compare, failed, measurement, medianOf, type Measurement, type Scenario, type ScenarioOptions } from '../scenario.js';
import { fmtInt } from '../lib/format.js';
import { cleanup, intact, keepMainThreadProfile } from '../lib/runs.js';

const DEFAULT_RECORDS = 1_000_000;
const DEFAULT_PARTITIONS = 4;
const DEFAULT_ROUNDS = 3;
const RECORD_BYTES = 100;

interface NodeVariant {
  readonly name: string;
  readonly script: string;
  readonly extra: readonly string[];
}

const RAW: NodeVariant = { name: 'kafkajs-raw', script: 'bench/ingest/kafkajs-raw.ts', extra: ['--value', 'raw'] };
const RAW_JSON: NodeVariant = { name: 'kafkajs-raw-json', script: 'bench/ingest/kafkajs-raw.ts', extra: ['--value', 'json'] };
const TRIB_BYTES: NodeVariant = { name: 'tributary-bytes', script: 'bench/ingest/tributary.ts', extra: ['--value', 'bytes'] };
const TRIB_JSON: NodeVariant = { name: 'tributary-json', script: 'bench/ingest/tributary.ts', extra: ['--value', 'json'] };
const PERF_TEST = 'kafka-consumer-perf-test';

export const ingest: Scenario = {
  name: 'ingest',
  description: 'identity pipeline reading a pre-loaded topic: tributary vs raw kafkajs vs Kafka ConsumerPerformance',
  async run(options: ScenarioOptions) {
    const records = options.records ?? DEFAULT_RECORDS;
    const rounds = options.rounds ?? DEFAULT_ROUNDS;
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    const { log } = options;
    const broker = await connectBroker(log);
    const tools = await ensureKafkaTools(log);
    const topic = `bench-ingest-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const groups: string[] = [];
    const notes: string[] = [];
    const work = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    try {
      await broker.admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      const spread = await preload({ broker, tools, topic, records, partitions, work, log });
      const timeoutMs = 90_000 + records / 4; // 1M records: 340 s, far above any expected run
      const runNode = async (variant: NodeVariant, round: number): Promise<Measurement> => {
        const group = `${topic}-${variant.name}-${round}`;
        groups.push(group);
        log(`${variant.name}: starting (group ${group})`);
        const brokerCpuBefore = broker.cpuSeconds();
        try {
          const result = await runNodeChild<ChildResult>({
            script: variant.script,
            args: ['--brokers', broker.brokers.join(','), '--topic', topic, '--group', group, '--records', String(records), '--label', variant.name, ...variant.extra],
            // One directory per run: tsx's loader thread writes a profile of its own next to the main thread's.
            nodeFlags: options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.profileDir, `${variant.name}-${round}`)}`] : [],
            timeoutMs,
            onLine: log,
          });
          const brokerCpuAfter = broker.cpuSeconds();
          if (options.profileDir) {
            keepMainThreadProfile(join(options.profileDir, `${variant.name}-${round}`), join(options.profileDir, `${variant.name}-${round}.cpuprofile`));
            // The measurement window, for bench/profile-summary.ts to keep only the samples inside it.
            const window = { startUs: result.windowStartUs, endUs: result.windowEndUs, records: result.records - result.firstBatchRecords };
            writeFileSync(join(options.profileDir, `${variant.name}-${round}.window.json`), `${JSON.stringify(window)}\n`);
          }
          const m = measurement({
            records: result.records - result.firstBatchRecords,
            seconds: result.seconds,
            totalRecords: result.records,
            totalSeconds: result.totalSeconds,
            cpuSeconds: result.cpuSeconds,
            brokerCpuSeconds: brokerCpuBefore !== undefined && brokerCpuAfter !== undefined ? brokerCpuAfter - brokerCpuBefore : undefined,
            details: {
              firstBatchRecords: result.firstBatchRecords,
              cpuUserSeconds: result.cpuUserSeconds,
              cpuSystemSeconds: result.cpuSystemSeconds,
              processCpuSeconds: result.processCpuSeconds,
              maxRssMiB: Math.round(result.maxRssMiB),
              ...result.extra,
            },
          });
          log(`${variant.name}: ${fmtInt(m.recordsPerSec)} records/s, ${m.cpuSecondsPerMillion.toFixed(2)} CPU-s per million`);
          return m;
        } catch (err) {
          log(`${variant.name}: FAILED: ${(err as Error).message}`);
          return failed(err);
        }
      };

      // Rounds interleave every run, so that drift on the machine touches each alike.
      const order: Array<{ name: string; kind: 'anchor' | 'tributary'; run: (round: number) => Promise<Measurement> }> = [
        { name: RAW.name, kind: 'anchor', run: (r) => runNode(RAW, r) },
        { name: TRIB_BYTES.name, kind: 'tributary', run: (r) => runNode(TRIB_BYTES, r) },
        { name: RAW_JSON.name, kind: 'anchor', run: (r) => runNode(RAW_JSON, r) },
        { name: TRIB_JSON.name, kind: 'tributary', run: (r) => runNode(TRIB_JSON, r) },
        { name: PERF_TEST, kind: 'anchor', run: (r) => consumerPerfTest({ broker, tools, topic, records, groups, timeoutMs, round: r, log }) },
      ];
      // TRIBUTARY_BENCH_BASELINE=<another checkout> (e.g. main before a change): its tributary
      // runs too, in the same rounds, so that before and after are measured side by side.
      const baseline = process.env.TRIBUTARY_BENCH_BASELINE;
      if (baseline) {
        for (const variant of [TRIB_BYTES, TRIB_JSON]) {
          const base: NodeVariant = { ...variant, name: `baseline-${variant.name.replace('tributary-', '')}`, script: join(baseline, variant.script) };
          order.splice(order.findIndex((o) => o.name === variant.name) + 1, 0, { name: base.name, kind: 'tributary', run: (r) => runNode(base, r) });
        }
        notes.push(`baseline-*: tributary of ${baseline} (TRIBUTARY_BENCH_BASELINE), the same child script there`);
      }
      const collected = new Map<string, Measurement[]>(order.map((o) => [o.name, []]));
      for (let round = 1; round <= rounds; round++) {
        if (rounds > 1) log(`-- round ${round} of ${rounds}`);
        for (const o of order) {
          await intact(broker, topic, records);
          const m = await o.run(round);
          await intact(broker, topic, records); // a run that failed because the broker went away says so
          collected.get(o.name)!.push(m);
        }
      }
      const anchors: Record<string, Measurement> = {};
      const tributary: Record<string, Measurement> = {};
      for (const o of order) (o.kind === 'anchor' ? anchors : tributary)[o.name] = medianOf(collected.get(o.name)!);

      const comparedWith = { [RAW.name]: TRIB_BYTES.name, [RAW_JSON.name]: TRIB_JSON.name, [PERF_TEST]: TRIB_BYTES.name };
      const { ratios, cpuRatios } = compare(tributary, anchors, comparedWith);
      notes.push(
        `records per partition: ${spread.map(fmtInt).join(', ')}`,
        `${rounds} round(s), runs interleaved; each figure is the median over the rounds`,
        'kafkajs-raw: kafkajs configured as tributary configures it (autoCommit off, partitionsConsumedConcurrently 4, maxWaitTimeInMs 250), eachBatch resolves the last offset; -json JSON.parses each value',
        'tributary: createTributary + defineProcessor + KafkaConnector, pipeline r => r, toFunction sink counting; bytes() or json() value serde',
        `${PERF_TEST}: org.apache.kafka.tools.ConsumerPerformance, fetch.nMsg.sec (join excluded); CPU = JVM total minus a 1-record run`,
      );
      if (options.profileDir) notes.push(`profiled with node --cpu-prof (${options.profileDir}): the rates are lower than unprofiled`);
      return {
        name: 'ingest',
        description: ingest.description,
        params: { records, partitions, rounds, recordBytes: RECORD_BYTES, topic, brokers: broker.brokers.join(','), brokerPid: broker.pid ?? null },
        tributary,
        anchors,
        comparedWith,
        ratios,
        cpuRatios,
        notes,
      };
    } finally {
      rmSync(work, { recursive: true, force: true });
      await cleanup(broker, [topic, `${topic}.dlq`], groups, log);
      await broker.close();
    }
  },
};

/** Fills the topic with ProducerPerformance; returns the records per partition. */
async function preload(args: {
  broker: Broker;
  tools: KafkaTools;
  topic: string;
  records: number;
  partitions: number;
  work: string;
  log: (line: string) => void;
}): Promise<number[]> {
  const { broker, tools, topic, records, partitions, work, log } = args;
  // JSON values of exactly RECORD_BYTES bytes: ProducerPerformance picks one at random per record.
  const lines: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const head = `{"seq":${i},"user":"u${(i * 7919) % 10_000}","page":"/p/${i % 97}","ts":${1_700_000_000_000 + i * 1000},"pad":"`;
    lines.push(`${head}${'x'.repeat(RECORD_BYTES - head.length - 2)}"}`);
  }
  if (lines.some((l) => Buffer.byteLength(l) !== RECORD_BYTES)) throw new Error('payload generator: a line is not RECORD_BYTES long');
  const payloadFile = join(work, 'payloads.jsonl');
  writeFileSync(payloadFile, `${lines.join('\n')}\n`);
  log(`pre-loading ${fmtInt(records)} records of ${RECORD_BYTES} bytes into ${topic} (${partitions} partitions) with ProducerPerformance…`);
  const run = await runJava(
    tools.java,
    [
      '-Xmx512m',
      '-cp',
      tools.classpath,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--throughput',
      '-1',
      '--payload-file',
      payloadFile,
      '--producer-props',
      `bootstrap.servers=${broker.brokers.join(',')}`,
      'acks=1',
      'linger.ms=10',
      'batch.size=131072',
      'compression.type=none',
    ],
    { timeoutMs: 120_000 + records / 10, onLine: (line) => line.trim() && log(`pre-load: ${line.trim()}`) },
  );
  if (run.code !== 0) throw new Error(`ProducerPerformance failed (exit code ${run.code}):\n${run.stderr.slice(-2000)}`);
  const offsets = await broker.admin.fetchTopicOffsets(topic);
  const spread = offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high) - Number(o.low));
  const total = spread.reduce((a, b) => a + b, 0);
  if (total !== records) throw new Error(`pre-load: the topic holds ${total} records, expected ${records}`);
  if (spread.some((n) => n === 0)) throw new Error(`pre-load: a partition got no records (${spread.join(', ')})`);
  log(`pre-loaded in ${run.wallSeconds.toFixed(1)} s; records per partition: ${spread.map(fmtInt).join(', ')}`);
  return spread;
}

/** Kafka's ConsumerPerformance on the topic, with its CPU net of a 1-record run's (JVM start, join, exit). */
async function consumerPerfTest(args: {
  broker: Broker;
  tools: KafkaTools;
  topic: string;
  records: number;
  groups: string[];
  timeoutMs: number;
  round: number;
  log: (line: string) => void;
}): Promise<Measurement> {
  const { broker, tools, topic, records, groups, timeoutMs, round, log } = args;
  const perf = async (messages: number, suffix: string) => {
    const group = `${topic}-${PERF_TEST}${suffix}-${round}`;
    groups.push(group);
    const brokerBefore = broker.cpuSeconds();
    const run = await runJava(
      tools.java,
      [
        '-Xmx512m',
        '-cp',
        tools.classpath,
        'org.apache.kafka.tools.ConsumerPerformance',
        '--bootstrap-server',
        broker.brokers.join(','),
        '--topic',
        topic,
        '--messages',
        String(messages),
        '--group',
        group,
        '--timeout',
        '30000',
        '--date-format',
        "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
      ],
      { timeoutMs },
    );
    const brokerAfter = broker.cpuSeconds();
    if (run.code !== 0) throw new Error(`ConsumerPerformance failed (exit code ${run.code}):\n${run.stderr.slice(-2000)}${run.stdout.slice(-2000)}`);
    return { run, stats: parsePerfOutput(run.stdout), brokerCpu: brokerBefore !== undefined && brokerAfter !== undefined ? brokerAfter - brokerBefore : undefined };
  };
  try {
    log(`${PERF_TEST}: JVM baseline (1 record: start-up, group join, exit)…`);
    const baseline = await perf(1, '-baseline');
    log(`${PERF_TEST}: consuming ${fmtInt(records)} records…`);
    const full = await perf(records, '');
    const consumed = Number(full.stats['data.consumed.in.nMsg'] ?? 0);
    if (consumed < records) throw new Error(`ConsumerPerformance consumed ${consumed} records, expected ${records}`);
    const fetchMs = Number(full.stats['fetch.time.ms'] ?? 0);
    const totalMs = Date.parse(String(full.stats['end.time'])) - Date.parse(String(full.stats['start.time']));
    const net = Math.max(0, full.run.cpuSeconds - baseline.run.cpuSeconds);
    const m = measurement({
      records: consumed,
      seconds: fetchMs / 1000,
      totalSeconds: Number.isFinite(totalMs) && totalMs > 0 ? totalMs / 1000 : full.run.wallSeconds,
      cpuSeconds: net,
      brokerCpuSeconds: full.brokerCpu,
      note: 'JVM: CPU is whole-process minus a 1-record run; rate is fetch.nMsg.sec (after the group join)',
      details: { ...full.stats, jvmCpuSeconds: full.run.cpuSeconds, jvmBaselineCpuSeconds: baseline.run.cpuSeconds, wallSeconds: full.run.wallSeconds },
    });
    log(`${PERF_TEST}: ${fmtInt(m.recordsPerSec)} records/s, ${m.cpuSecondsPerMillion.toFixed(2)} CPU-s per million (JVM total ${full.run.cpuSeconds.toFixed(2)} s, baseline ${baseline.run.cpuSeconds.toFixed(2)} s)`);
    return m;
  } catch (err) {
    log(`${PERF_TEST}: FAILED: ${(err as Error).message}`);
    return failed(err);
  }
}

/** ConsumerPerformance prints a header line of comma-separated names and a line of values. */
export function parsePerfOutput(stdout: string): Record<string, number | string> {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const headerAt = lines.findIndex((l) => l.startsWith('start.time'));
  if (headerAt < 0 || !lines[headerAt + 1]) throw new Error(`cannot read ConsumerPerformance's output:\n${stdout.slice(-1500)}`);
  const names = lines[headerAt].split(',').map((s) => s.trim());
  const values = lines[headerAt + 1].split(',').map((s) => s.trim());
  const stats: Record<string, number | string> = {};
  names.forEach((name, i) => {
    const v = values[i] ?? '';
    stats[name] = name.endsWith('.time') ? v : Number(v);
  });
  return stats;
}
