/**
 * The JVM anchors of `bench/anchors/kafka-streams/` (Kafka Streams topologies and the keyed
 * data-set loader): built once with Maven (`mvn -q package`; skipped while the jar is newer than
 * the pom and every source file), run with `java -cp 'target/tributary-bench-anchors.jar:target/lib/*'`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildResult } from '../ingest/child.js';
import { repoRoot } from '../../scripts/services/paths.js';
import { javaExecutable } from '../../scripts/services/index.js';
import { dataSetArgs, type DataSetSpec } from './dataset.js';
import { runJava, runResultChild } from './processes.js';
import type { Broker } from './broker.js';
import { fmtInt } from './format.js';
import { fromChild } from './runs.js';
import { failed, type Measurement } from '../scenario.js';

const PROJECT = join(repoRoot, 'bench', 'anchors', 'kafka-streams');
const JAR = join(PROJECT, 'target', 'tributary-bench-anchors.jar');

export interface Anchors {
  readonly java: string;
  readonly classpath: string;
  /** JVM flags of every anchor run. */
  readonly jvmFlags: readonly string[];
}

let built: Promise<Anchors> | undefined;

/** Builds the anchors' jar when it is missing or older than its sources; once per process. */
export function ensureAnchors(log: (line: string) => void): Promise<Anchors> {
  built ??= build(log);
  return built;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

async function build(log: (line: string) => void): Promise<Anchors> {
  const sources = Math.max(statSync(join(PROJECT, 'pom.xml')).mtimeMs, newestSource(join(PROJECT, 'src')));
  const fresh = existsSync(JAR) && existsSync(join(PROJECT, 'target', 'lib')) && statSync(JAR).mtimeMs > sources;
  if (!fresh) {
    log('building the Kafka Streams anchors (mvn -q package in bench/anchors/kafka-streams; the first build downloads kafka-streams 4.1.1)…');
    const started = performance.now();
    const { code, output } = await capture('mvn', ['-q', '-B', '-f', join(PROJECT, 'pom.xml'), 'package']);
    if (code !== 0 || !existsSync(JAR)) throw new Error(`mvn package of bench/anchors/kafka-streams failed (exit code ${code}):\n${output.slice(-3000)}`);
    log(`built ${JAR} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return { java: javaExecutable(), classpath: `${JAR}:${join(PROJECT, 'target', 'lib', '*')}`, jvmFlags: ['-Xms1g', '-Xmx1g'] };
}

function capture(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => resolve({ code: null, output: `${output}${err.message}` }));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/**
 * Writes the data set to `topic` with the anchors' `Load` (Java producer, acks=1, linger 10 ms,
 * 128 KiB batches), then one flush record per partition when `flushPartitions` is given; or,
 * with `rate`, produces it at that many records per second, timestamped now (latency).
 */
export async function loadTopic(args: {
  anchors: Anchors;
  brokers: readonly string[];
  topic: string;
  data: DataSetSpec;
  flushPartitions?: number;
  rate?: number;
  timeoutMs?: number;
  log: (line: string) => void;
}): Promise<{ wallSeconds: number; cpuSeconds: number; output: string }> {
  const { anchors, data } = args;
  const run = await runJava(
    anchors.java,
    [
      '-Xmx512m',
      '-cp',
      anchors.classpath,
      'dev.tributary.bench.Load',
      '--bootstrap',
      args.brokers.join(','),
      '--topic',
      args.topic,
      ...dataSetArgs(data),
      '--flush-partitions',
      String(args.flushPartitions ?? 0),
      '--rate',
      String(args.rate ?? 0),
    ],
    { timeoutMs: args.timeoutMs ?? 120_000 + data.records / 10, onLine: (line) => line.trim() && args.log(`load: ${line.trim()}`) },
  );
  if (run.code !== 0) throw new Error(`the loader failed (exit code ${run.code}):\n${run.stderr.slice(-2000)}${run.stdout.slice(-1000)}`);
  return { wallSeconds: run.wallSeconds, cpuSeconds: run.cpuSeconds, output: run.stdout };
}

export type StreamsMode = 'stateless' | 'tumbling' | 'session';

/** Runs one Kafka Streams application (`StreamsBench`) until it has processed `inputs` records and `outputs` results were acknowledged. */
export function runKafkaStreams(args: {
  anchors: Anchors;
  mode: StreamsMode;
  brokers: readonly string[];
  input: string;
  output: string;
  appId: string;
  inputs: number;
  outputs: number;
  label: string;
  changelog?: boolean;
  store?: 'memory' | 'rocksdb';
  /** Kafka Streams' `processing.guarantee` (default `at_least_once`). */
  guarantee?: 'at_least_once' | 'exactly_once_v2';
  commitMs?: number;
  windowMs?: number;
  gapMs?: number;
  timeoutMs: number;
  log: (line: string) => void;
}): Promise<ChildResult> {
  const { anchors } = args;
  return runResultChild<ChildResult>({
    command: anchors.java,
    args: [
      ...anchors.jvmFlags,
      '-cp',
      anchors.classpath,
      'dev.tributary.bench.StreamsBench',
      '--mode',
      args.mode,
      '--bootstrap',
      args.brokers.join(','),
      '--input',
      args.input,
      '--output',
      args.output,
      '--app-id',
      args.appId,
      '--inputs',
      String(args.inputs),
      '--outputs',
      String(args.outputs),
      '--label',
      args.label,
      '--changelog',
      String(args.changelog ?? true),
      '--store',
      args.store ?? 'memory',
      '--commit-ms',
      String(args.commitMs ?? 1000),
      '--window-ms',
      String(args.windowMs ?? 10_000),
      '--gap-ms',
      String(args.gapMs ?? 5_000),
      '--guarantee',
      args.guarantee ?? 'at_least_once',
    ],
    name: `Kafka Streams ${args.mode}`,
    timeoutMs: args.timeoutMs,
    onLine: args.log,
  });
}

/** {@link runKafkaStreams} as a Measurement (a failure logged and returned as a failed Measurement). */
export async function measureKafkaStreams(
  args: Parameters<typeof runKafkaStreams>[0] & { broker: Broker },
): Promise<Measurement> {
  const before = args.broker.cpuSeconds();
  try {
    const result = await runKafkaStreams(args);
    const after = args.broker.cpuSeconds();
    const m = fromChild(
      result,
      before !== undefined && after !== undefined ? after - before : undefined,
      'JVM: CPU of the whole JVM over the window (/proc/self/stat), first record processed → last result acknowledged',
    );
    args.log(`${args.label}: ${fmtInt(m.recordsPerSec)} records/s, ${m.cpuSecondsPerMillion.toFixed(2)} CPU-s per million`);
    return m;
  } catch (err) {
    args.log(`${args.label}: FAILED: ${(err as Error).message}`);
    return failed(err);
  }
}
