/**
 * What the scenarios share: fresh topics, the broker checks around every run, the measured
 * children (Node with optional --cpu-prof, the Kafka Streams JVM), results as Measurements, and
 * interleaved rounds with medians.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildResult } from '../ingest/child.js';
import type { Broker } from './broker.js';
import { fmtInt } from './format.js';
import { runNodeChild } from './processes.js';
import { failed, measurement, medianOf, type Measurement } from '../scenario.js';

/** A unique topic name for a scenario's run: `bench-<scenario>-<time>-<random>`. */
export const benchTopic = (scenario: string): string => `bench-${scenario}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Creates topics (time-based retention off: the data sets carry event times that may be hours old). */
export async function createTopics(broker: Broker, topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void> {
  await broker.admin.createTopics({
    topics: topics.map(({ topic, partitions }) => ({ topic, numPartitions: partitions, configEntries: [{ name: 'retention.ms', value: '-1' }] })),
    waitForLeaders: true,
  });
}

/** Records per partition of a topic; throws unless they add up to `expected` and none is empty. */
export async function spreadOf(broker: Broker, topic: string, expected: number): Promise<number[]> {
  const offsets = await broker.admin.fetchTopicOffsets(topic);
  const spread = offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high) - Number(o.low));
  const total = spread.reduce((a, b) => a + b, 0);
  if (total !== expected) throw new Error(`${topic} holds ${total} records, expected ${expected}`);
  if (spread.some((n) => n === 0)) throw new Error(`a partition of ${topic} got no records (${spread.join(', ')})`);
  return spread;
}

/** Throws when the broker was restarted or the topic no longer holds the pre-loaded records. */
export async function intact(broker: Broker, topic: string, records: number): Promise<void> {
  broker.checkSame();
  let total: number;
  try {
    const offsets = await broker.admin.fetchTopicOffsets(topic);
    total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  } catch (err) {
    throw new Error(`topic ${topic} is gone (${(err as Error).message}): was the shared broker restarted by another session? run the benchmark again`, { cause: err });
  }
  if (total !== records) throw new Error(`topic ${topic} holds ${total} records instead of ${records}: was the shared broker restarted? run the benchmark again`);
}

/** Deletes the scenario's topics (those that exist; internal topics of Kafka Streams apps by prefix) and groups. */
export async function cleanup(broker: Broker, topics: readonly string[], groups: readonly string[], log: (line: string) => void, prefixes: readonly string[] = []): Promise<void> {
  try {
    const existing = await broker.admin.listTopics();
    const doomed = existing.filter((t) => topics.includes(t) || prefixes.some((p) => t.startsWith(p)));
    if (doomed.length > 0) await broker.admin.deleteTopics({ topics: doomed });
  } catch (err) {
    log(`cleanup: could not delete topics ${topics.join(', ')}: ${(err as Error).message}`);
  }
  try {
    if (groups.length > 0) await broker.admin.deleteGroups([...groups]);
  } catch {
    // groups left non-empty by a failed child expire by themselves
  }
}

/** Keeps the largest profile of a run's directory (the main thread's; the other is tsx's loader thread) as `target`. */
export function keepMainThreadProfile(dir: string, target: string): void {
  if (!existsSync(dir)) return;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (files[0]) renameSync(files[0], target);
  rmSync(dir, { recursive: true, force: true });
}

/** A child's result as a Measurement: records in the window (the first batch's excluded), CPU over it, the broker's CPU. */
export function fromChild(result: ChildResult, brokerCpuSeconds?: number, note?: string): Measurement {
  return measurement({
    records: result.records - result.firstBatchRecords,
    seconds: result.seconds,
    totalRecords: result.records,
    totalSeconds: result.totalSeconds,
    cpuSeconds: result.cpuSeconds,
    brokerCpuSeconds,
    note,
    details: {
      firstBatchRecords: result.firstBatchRecords,
      cpuUserSeconds: result.cpuUserSeconds,
      cpuSystemSeconds: result.cpuSystemSeconds,
      processCpuSeconds: result.processCpuSeconds,
      maxRssMiB: Math.round(result.maxRssMiB),
      ...result.extra,
    },
  });
}

/**
 * Runs a Node child (`node --import tsx <script>`), under --cpu-prof when `profileDir` is set
 * (the main thread's profile kept as `<profileDir>/<name>-<round>.cpuprofile`, with its
 * measurement window next to it for bench/profile-summary.ts), and returns its Measurement.
 * A failure is logged and returned as a failed Measurement.
 */
export async function measureNode(args: {
  name: string;
  round: number;
  script: string;
  args: readonly string[];
  broker?: Broker;
  profileDir?: string;
  nodeFlags?: readonly string[];
  timeoutMs: number;
  log: (line: string) => void;
  onLine?: (line: string) => void;
}): Promise<Measurement> {
  const { name, round, log, profileDir } = args;
  const brokerBefore = args.broker?.cpuSeconds();
  const runDir = profileDir ? join(profileDir, `${name}-${round}`) : undefined;
  try {
    const result = await runNodeChild<ChildResult>({
      script: args.script,
      args: args.args,
      nodeFlags: [...(args.nodeFlags ?? []), ...(runDir ? ['--cpu-prof', `--cpu-prof-dir=${runDir}`] : [])],
      timeoutMs: args.timeoutMs,
      onLine: (line) => {
        args.onLine?.(line);
        log(line);
      },
    });
    const brokerAfter = args.broker?.cpuSeconds();
    if (profileDir && runDir) {
      keepMainThreadProfile(runDir, join(profileDir, `${name}-${round}.cpuprofile`));
      const window = { startUs: result.windowStartUs, endUs: result.windowEndUs, records: result.records - result.firstBatchRecords };
      writeFileSync(join(profileDir, `${name}-${round}.window.json`), `${JSON.stringify(window)}\n`);
    }
    const m = fromChild(result, brokerBefore !== undefined && brokerAfter !== undefined ? brokerAfter - brokerBefore : undefined);
    log(`${name}: ${fmtInt(m.recordsPerSec)} records/s, ${m.cpuSecondsPerMillion.toFixed(2)} CPU-s per million`);
    return m;
  } catch (err) {
    log(`${name}: FAILED: ${(err as Error).message}`);
    return failed(err);
  }
}

/** A run of a scenario: anchor or tributary, run once per round. */
export interface RunSpec {
  readonly name: string;
  readonly kind: 'anchor' | 'tributary';
  run(round: number): Promise<Measurement>;
}

/**
 * Runs every spec once per round, interleaved (so that drift on the machine touches each alike),
 * calling `check` before and after each run; returns the medians, split into anchors and
 * tributary variants.
 */
export async function interleaved(
  specs: readonly RunSpec[],
  rounds: number,
  log: (line: string) => void,
  check: () => Promise<void> = async () => {},
): Promise<{ anchors: Record<string, Measurement>; tributary: Record<string, Measurement> }> {
  const collected = new Map<string, Measurement[]>(specs.map((s) => [s.name, []]));
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) log(`-- round ${round} of ${rounds}`);
    for (const spec of specs) {
      await check();
      const m = await spec.run(round);
      await check(); // a run that failed because the broker went away says so
      collected.get(spec.name)!.push(m);
    }
  }
  const anchors: Record<string, Measurement> = {};
  const tributary: Record<string, Measurement> = {};
  for (const spec of specs) (spec.kind === 'anchor' ? anchors : tributary)[spec.name] = medianOf(collected.get(spec.name)!);
  return { anchors, tributary };
}
