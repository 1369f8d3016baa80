/**
 * The keyed scenarios' Kafka fixture: a fresh topic of P partitions filled with the keyed data
 * set (bench/lib/dataset.ts) by the anchors' Java loader, plus one flush record per partition.
 */
import type { Anchors } from './anchors.js';
import type { Job } from '../keyed/topology.js';
import { ensureAnchors, loadTopic, measureKafkaStreams } from './anchors.js';
import { connectBroker, type Broker } from './broker.js';
import { dataSet, type DataSetSpec } from './dataset.js';
import { fmtInt } from './format.js';
import { keyedScenarioRates } from './shared-results.js';
import { benchTopic, cleanup, createTopics, interleaved, intact, measureNode, spreadOf, type RunSpec } from './runs.js';
import { compare, type Measurement, type ScenarioOptions, type ScenarioResult } from '../scenario.js';

export interface KeyedTopic {
  readonly topic: string;
  /** Input records in the topic: the data set plus one flush record per partition. */
  readonly inputs: number;
  /** Records per partition. */
  readonly spread: number[];
}

export async function preloadKeyed(args: {
  scenario: string;
  broker: Broker;
  anchors: Anchors;
  data: DataSetSpec;
  partitions: number;
  /** Extra topics to create with the same partition count (e.g. outputs). */
  alsoCreate?: (topic: string) => string[];
  created: string[];
  log: (line: string) => void;
}): Promise<KeyedTopic> {
  const { broker, anchors, data, partitions, log } = args;
  const topic = benchTopic(args.scenario);
  const extra = args.alsoCreate?.(topic) ?? [];
  args.created.push(topic, ...extra, `${topic}.dlq`);
  await createTopics(broker, [topic, ...extra].map((t) => ({ topic: t, partitions })));
  log(`pre-loading ${fmtInt(data.records)} keyed records (${fmtInt(data.keys)} keys, ${data.valueBytes} B values, ${data.spanMs / 1000} s of event time) + ${partitions} flush records into ${topic} (${partitions} partitions)…`);
  const load = await loadTopic({ anchors, brokers: broker.brokers, topic, data, flushPartitions: partitions, log });
  const inputs = data.records + partitions;
  const spread = await spreadOf(broker, topic, inputs);
  log(`pre-loaded in ${load.wallSeconds.toFixed(1)} s; records per partition: ${spread.map(fmtInt).join(', ')}`);
  return { topic, inputs, spread };
}

/**
 * A Node anchor of a keyed scenario other than the raw kafkajs loop: a child script taking the
 * same arguments as bench/keyed/tributary-kafka.ts (e.g. bench/keyed/kafkats-flow.ts).
 */
export interface NodeAnchor {
  /** Shown in the tables; may contain spaces (group ids and profile names use a slug of it). */
  readonly name: string;
  readonly script: string;
  /** Extra arguments for the child. */
  readonly args?: readonly string[];
  /** The tributary variant it is compared with (default `tributary`). */
  readonly comparedWith?: string;
}

/** A tributary variant besides `tributary` (bench/keyed/tributary-kafka.ts with another job). */
export interface TributaryVariant {
  readonly name: string;
  readonly job: Job;
  /** Extra arguments for the child (e.g. another `--outputs`). */
  readonly args?: readonly string[];
}

/** One Kafka Streams anchor of a keyed scenario. */
export interface StreamsVariant {
  readonly name: string;
  readonly store: 'memory' | 'rocksdb';
  readonly changelog: boolean;
  /** Kafka Streams' `processing.guarantee` (default `at_least_once`). */
  readonly guarantee?: 'at_least_once' | 'exactly_once_v2';
  /** The tributary run it is compared with (default `tributary`). */
  readonly comparedWith?: string;
}

/**
 * The shape of the stateless, tumbling and session scenarios: a pre-loaded keyed topic, an
 * output topic, tributary's job (bench/keyed/tributary-kafka.ts), optionally the raw kafkajs
 * loop (bench/keyed/kafkajs-raw.ts), and Kafka Streams variants; interleaved rounds, medians,
 * ratios of tributary to each anchor.
 */
export async function keyedScenario(args: {
  name: string;
  description: string;
  job: 'stateless' | 'tumbling' | 'session';
  options: ScenarioOptions;
  defaults: { records: number; partitions: number; rounds: number };
  keys: number;
  windowMs?: number;
  gapMs?: number;
  expected: (data: DataSetSpec) => number;
  rawAnchor: boolean;
  streams: readonly StreamsVariant[];
  /** Other tributary variants, each run right after `tributary` in each round. */
  tributaryVariants?: readonly TributaryVariant[];
  /** Other Node anchors, run after tributary's variants in each round, before Kafka Streams. */
  nodeAnchors?: readonly NodeAnchor[];
  notes: (ctx: { data: DataSetSpec; partitions: number; outputs: number; spread: number[] }) => string[];
}): Promise<ScenarioResult> {
  const { options } = args;
  const records = options.records ?? args.defaults.records;
  const partitions = options.partitions ?? args.defaults.partitions;
  const rounds = options.rounds ?? args.defaults.rounds;
  const { log, profileDir } = options;
  const data = dataSet(records, args.keys);
  const outputs = args.expected(data);
  const broker = await connectBroker(log);
  const anchors = await ensureAnchors(log);
  const created: string[] = [];
  const groups: string[] = [];
  const appIds: string[] = [];
  try {
    const { topic, inputs, spread } = await preloadKeyed({ scenario: args.name, broker, anchors, data, partitions, created, alsoCreate: (t) => [`${t}-out`], log });
    const output = `${topic}-out`;
    const timeoutMs = 120_000 + records / 2;
    const jobArgs = ['--output', output, '--outputs', String(outputs), '--window-ms', String(args.windowMs ?? 10_000), '--gap-ms', String(args.gapMs ?? 5_000), '--partitions', String(partitions)];
    const node = (name: string, script: string, job: string, round: number, extra: readonly string[] = []): Promise<Measurement> => {
      const slug = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/-+$/, '');
      const group = `${topic}-${slug}-${round}`;
      groups.push(group);
      return measureNode({
        name: slug,
        round,
        script,
        broker,
        profileDir,
        timeoutMs,
        log,
        args: ['--brokers', broker.brokers.join(','), '--topic', topic, '--group', group, '--records', String(inputs), '--label', name, '--job', job, ...jobArgs, ...extra],
      });
    };
    const specs: RunSpec[] = [];
    if (args.rawAnchor) specs.push({ name: 'kafkajs-raw', kind: 'anchor', run: (r) => node('kafkajs-raw', 'bench/keyed/kafkajs-raw.ts', args.job, r) });
    specs.push({ name: 'tributary', kind: 'tributary', run: (r) => node('tributary', 'bench/keyed/tributary-kafka.ts', args.job, r) });
    for (const v of args.tributaryVariants ?? []) specs.push({ name: v.name, kind: 'tributary', run: (r) => node(v.name, 'bench/keyed/tributary-kafka.ts', v.job, r, v.args) });
    for (const a of args.nodeAnchors ?? []) specs.push({ name: a.name, kind: 'anchor', run: (r) => node(a.name, a.script, args.job, r, a.args) });
    for (const v of args.streams) {
      specs.push({
        name: v.name,
        kind: 'anchor',
        run: (round) => {
          const appId = `${topic}-${v.name}-${round}`;
          appIds.push(appId);
          return measureKafkaStreams({
            anchors,
            broker,
            mode: args.job,
            brokers: broker.brokers,
            input: topic,
            output,
            appId,
            inputs,
            outputs,
            label: v.name,
            store: v.store,
            changelog: v.changelog,
            guarantee: v.guarantee,
            windowMs: args.windowMs,
            gapMs: args.gapMs,
            timeoutMs,
            log,
          });
        },
      });
    }
    const selected = options.onlyTributary ? specs.filter((s) => s.kind === 'tributary') : specs;
    const { anchors: anchorRuns, tributary } = await interleaved(selected, rounds, log, () => intact(broker, topic, inputs));
    const rate = tributary.tributary?.recordsPerSec;
    if (rate) keyedScenarioRates.set(args.name, rate);
    const pairedWith = new Map([...(args.nodeAnchors ?? []), ...args.streams].map((a) => [a.name, a.comparedWith ?? 'tributary']));
    const comparedWith = Object.fromEntries(selected.filter((s) => s.kind === 'anchor').map((s) => [s.name, pairedWith.get(s.name) ?? 'tributary']));
    const { ratios, cpuRatios } = compare(tributary, anchorRuns, comparedWith);
    return {
      ...secondHalfColumns(tributary, anchorRuns, comparedWith),
      name: args.name,
      description: args.description,
      params: { records, keys: args.keys, partitions, rounds, results: outputs, topic, brokerPid: broker.pid ?? null },
      tributary,
      anchors: anchorRuns,
      comparedWith,
      ratios,
      cpuRatios,
      notes: [
        ...args.notes({ data, partitions, outputs, spread }),
        SECOND_HALF_NOTE,
        'window: first input record processed → the last expected result acknowledged by the broker (tributary: its sink\'s write resolved; Kafka Streams: a producer interceptor on the output topic); records/s counts every input record',
        `${rounds} round(s), runs interleaved; each figure is the median over the rounds`,
        ...(profileDir ? [`profiled with node --cpu-prof (${profileDir}): the rates are lower than unprofiled`] : []),
      ],
    };
  } finally {
    // Group ids of Kafka Streams apps are their application ids; their internal topics start with them.
    await cleanup(broker, created, [...groups, ...appIds], log, [...appIds, ...groups].map((id) => `${id}-`));
    await broker.close();
  }
}

export const SECOND_HALF_NOTE =
  '"2nd half" columns: the same run from the input record that reached half the target to the end (the last result acknowledged): the warmed-up figure, with JIT compilation (V8 and HotSpot alike) mostly behind; the "tributary ÷ <anchor>, secondHalfCpuPerM" lines compare them';

/** The second-half (warmed-up) columns and ratios of the keyed scenarios. */
export function secondHalfColumns(
  tributary: Readonly<Record<string, Measurement>>,
  anchors: Readonly<Record<string, Measurement>>,
  comparedWith: Readonly<Record<string, string>>,
): Pick<ScenarioResult, 'columns' | 'extraRatios'> {
  const value = (m: Measurement | undefined): number | undefined => (typeof m?.details?.secondHalfCpuPerM === 'number' ? m.details.secondHalfCpuPerM : undefined);
  const extraRatios: Record<string, Record<string, number>> = {};
  for (const [anchor, variant] of Object.entries(comparedWith)) {
    const a = value(anchors[anchor]);
    const t = value(tributary[variant]);
    if (a && t !== undefined) extraRatios[anchor] = { secondHalfCpuPerM: t / a };
  }
  return {
    columns: [
      { key: 'secondHalfRecordsPerSec', label: 'records/s 2nd half', digits: 0 },
      { key: 'secondHalfCpuPerM', label: 'CPU-s per M 2nd half', digits: 2 },
    ],
    extraRatios,
  };
}
