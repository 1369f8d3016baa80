/**
 * The nexmark scenario's Kafka part (issue 19): q3 and q7 on the same broker and the same records,
 * tributary (the example app's processors, bench/nexmark/nexmark-kafka-query.ts) beside Kafka
 * Streams (bench/anchors/kafka-streams/…/NexmarkBench.java), interleaved.
 *
 * The events are loaded once into three topics as the example's command line lays them out
 * (persons keyed by id, auctions by id, bids by auction; JSON values), each record timestamped
 * with its `dateTime` (Kafka Streams' event time; tributary reads it from the value). Every run
 * has its own group and output topic, and must write exactly the reference's number of results
 * (a plain loop over the same events, below).
 */
import { Kafka, logLevel } from 'kafkajs';
import { keyOfEvent } from '../../examples/nexmark/events.js';
import { ensureAnchors, type Anchors } from '../lib/anchors.js';
import { connectBroker, type Broker } from '../lib/broker.js';
import { fmtInt } from '../lib/format.js';
import { runResultChild } from '../lib/processes.js';
import { benchTopic, cleanup, createTopics, fromChild, intact, measureNode, type RunSpec } from '../lib/runs.js';
import type { ChildResult } from '../ingest/child.js';
import { failed, measurement, type Measurement } from '../scenario.js';

/** The queries run on both sides. */
export const KAFKA_QUERIES = ['q3', 'q7'] as const;
export type KafkaQuery = (typeof KAFKA_QUERIES)[number];

interface Loaded {
  readonly topics: { readonly persons: string; readonly auctions: string; readonly bids: string };
  readonly counts: { readonly persons: number; readonly auctions: number; readonly bids: number };
  readonly expected: Readonly<Record<KafkaQuery, number>>;
}

/** q3's and q7's result counts by a plain loop (valid events only, disorder within the bound: nothing late). */
export function referenceCounts(lines: readonly string[]): Record<KafkaQuery, number> {
  const localPersons = new Set<number>();
  const sellers: number[] = [];
  const highest = new Map<number, { price: number; bids: number }>();
  for (const line of lines) {
    const e = JSON.parse(line) as Record<string, number | string>;
    if (e.type === 'person' && ['OR', 'ID', 'CA'].includes(e.state as string)) localPersons.add(e.id as number);
    else if (e.type === 'auction' && e.category === 10) sellers.push(e.seller as number);
    else if (e.type === 'bid') {
      const ts = e.dateTime as number;
      const start = ts - (((ts % 10_000) + 10_000) % 10_000);
      const price = e.price as number;
      const w = highest.get(start);
      if (!w || price > w.price) highest.set(start, { price, bids: 1 });
      else if (price === w.price) w.bids++;
    }
  }
  let q7 = 0;
  for (const w of highest.values()) q7 += w.bids;
  return { q3: sellers.filter((s) => localPersons.has(s)).length, q7 };
}

async function load(broker: Broker, lines: readonly string[], partitions: number, created: string[], log: (line: string) => void): Promise<Loaded> {
  const base = benchTopic('nexmark');
  const topics = { persons: `${base}-persons`, auctions: `${base}-auctions`, bids: `${base}-bids` };
  created.push(...Object.values(topics));
  await createTopics(broker, Object.values(topics).map((topic) => ({ topic, partitions })));
  const kafka = new Kafka({ clientId: 'tributary-bench-nexmark', brokers: broker.brokers, logLevel: logLevel.WARN });
  const producer = kafka.producer();
  await producer.connect();
  const started = performance.now();
  const counts = { persons: 0, auctions: 0, bids: 0 };
  const pending: Record<keyof typeof topics, Array<{ key: string | null; value: string; timestamp: string }>> = { persons: [], auctions: [], bids: [] };
  const send = async (): Promise<void> => {
    await producer.sendBatch({
      acks: -1,
      topicMessages: (Object.keys(pending) as Array<keyof typeof topics>).filter((t) => pending[t].length > 0).map((t) => ({ topic: topics[t], messages: pending[t].splice(0) })),
    });
  };
  let batched = 0;
  for (const line of lines) {
    const event = JSON.parse(line) as Record<string, unknown>;
    const kind = event.type === 'person' ? 'persons' : event.type === 'auction' ? 'auctions' : 'bids';
    counts[kind]++;
    pending[kind].push({ key: keyOfEvent(event) ?? null, value: line, timestamp: String(event.dateTime) });
    if (++batched % 5_000 === 0) await send();
  }
  await send();
  await producer.disconnect();
  log(`nexmark on Kafka: loaded ${fmtInt(lines.length)} events (${fmtInt(counts.persons)} persons, ${fmtInt(counts.auctions)} auctions, ${fmtInt(counts.bids)} bids) into ${base}-{persons,auctions,bids} (${partitions} partitions) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { topics, counts, expected: referenceCounts(lines) };
}

/** Events per CPU-second and per second over *all* the input's events, whatever topics a run reads. */
function overAllEvents(m: Measurement, events: number): Measurement {
  if (m.error) return m;
  return { ...measurement({ records: events, seconds: m.seconds, totalSeconds: m.totalSeconds, cpuSeconds: m.cpuSeconds, brokerCpuSeconds: m.brokerCpuSeconds, note: m.note, details: m.details }), details: { ...m.details, eventsPerCpuSecond: m.cpuSeconds > 0 ? events / m.cpuSeconds : 0, recordsRead: m.records } };
}

function kafkaStreamsRun(args: { anchors: Anchors; broker: Broker; loaded: Loaded; query: KafkaQuery; events: number; groups: string[]; prefixes: string[]; created: string[]; log: (line: string) => void }) {
  return async (round: number): Promise<Measurement> => {
    const { anchors, broker, loaded, query, log } = args;
    const label = `kafka-streams-${query}`;
    const appId = `${benchTopic('nexmark-ks')}-${query}-${round}`;
    const output = `${appId}-out`;
    args.groups.push(appId);
    args.prefixes.push(appId);
    args.created.push(output);
    await createTopics(broker, [{ topic: output, partitions: 4 }]);
    const inputs = query === 'q3' ? loaded.counts.persons + loaded.counts.auctions : loaded.counts.bids;
    const before = broker.cpuSeconds();
    try {
      const result = await runResultChild<ChildResult>({
        command: anchors.java,
        args: [
          ...anchors.jvmFlags, '-cp', anchors.classpath, 'dev.tributary.bench.NexmarkBench',
          '--query', query, '--bootstrap', broker.brokers.join(','),
          '--persons', loaded.topics.persons, '--auctions', loaded.topics.auctions, '--bids', loaded.topics.bids,
          '--output', output, '--app-id', appId, '--inputs', String(inputs), '--outputs', String(loaded.expected[query]), '--label', label,
        ],
        name: `Kafka Streams nexmark ${query}`,
        timeoutMs: 300_000 + args.events,
        onLine: log,
      });
      const after = broker.cpuSeconds();
      const outputs = Number(result.extra?.outputs);
      if (outputs !== loaded.expected[query]) throw new Error(`${label}: ${outputs} results acknowledged, the reference has ${loaded.expected[query]}`);
      const m = overAllEvents(fromChild(result, before !== undefined && after !== undefined ? after - before : undefined, 'JVM: CPU of the whole JVM over the window (/proc/self/stat), first record processed → last result acknowledged'), args.events);
      log(`${label}: ${fmtInt(Number(m.details?.eventsPerCpuSecond))} events per CPU-second, ${fmtInt(outputs)} results`);
      return m;
    } catch (err) {
      log(`${label}: FAILED: ${(err as Error).message}`);
      return failed(err);
    }
  };
}

function tributaryRun(args: { broker: Broker; loaded: Loaded; query: KafkaQuery; events: number; partitions: number; groups: string[]; prefixes: string[]; created: string[]; profileDir?: string; log: (line: string) => void }) {
  return async (round: number): Promise<Measurement> => {
    const { broker, loaded, query, log } = args;
    const label = `tributary-kafka-${query}`;
    const prefix = `${benchTopic('nexmark-trib')}-${query}-${round}-`;
    const output = `${prefix}out`;
    args.prefixes.push(prefix);
    args.groups.push(`${prefix}nexmark`, `${prefix}nexmark-${query === 'q3' ? 'by-person' : 'q7-by-window'}`);
    args.created.push(output);
    const m = await measureNode({
      name: label,
      round,
      script: 'bench/nexmark/nexmark-kafka-query.ts',
      broker,
      profileDir: args.profileDir,
      args: [
        '--brokers', broker.brokers.join(','), '--topic', loaded.topics.bids, '--persons', loaded.topics.persons, '--auctions', loaded.topics.auctions,
        '--group', prefix, '--query', query, '--output', output, '--partitions', String(args.partitions),
        '--records', String(args.events), '--outputs', String(loaded.expected[query]), '--label', label,
      ],
      timeoutMs: 300_000 + args.events,
      log,
    });
    const all = overAllEvents(m, args.events);
    if (!all.error) log(`${label}: ${fmtInt(Number(all.details?.eventsPerCpuSecond))} events per CPU-second, ${fmtInt(Number(all.details?.outputs))} results`);
    return all;
  };
}

/**
 * Loads the events into Kafka and returns one run per query and side, plus the clean-up (the
 * topics, groups and internal topics of every run) and the loaded counts for the notes.
 */
export async function nexmarkKafkaRuns(args: { lines: readonly string[]; partitions: number; profileDir?: string; log: (line: string) => void }): Promise<{
  specs: RunSpec[];
  check: () => Promise<void>;
  done: () => Promise<void>;
  loaded: Loaded;
}> {
  const { lines, partitions, log } = args;
  const broker = await connectBroker(log);
  const anchors = await ensureAnchors(log);
  const created: string[] = [];
  const groups: string[] = [];
  const prefixes: string[] = [];
  const loaded = await load(broker, lines, partitions, created, log);
  const events = lines.length;
  const specs: RunSpec[] = KAFKA_QUERIES.flatMap((query) => [
    { name: `tributary-kafka-${query}`, kind: 'tributary' as const, run: tributaryRun({ broker, loaded, query, events, partitions, groups, prefixes, created, profileDir: args.profileDir, log }) },
    { name: `kafka-streams-${query}`, kind: 'anchor' as const, run: kafkaStreamsRun({ anchors, broker, loaded, query, events, groups, prefixes, created, log }) },
  ]);
  return {
    specs,
    loaded,
    check: async () => {
      for (const topic of Object.values(loaded.topics)) {
        const n = topic.endsWith('-persons') ? loaded.counts.persons : topic.endsWith('-auctions') ? loaded.counts.auctions : loaded.counts.bids;
        await intact(broker, topic, n);
      }
    },
    done: async () => {
      await cleanup(broker, created, groups, log, prefixes);
      await broker.close();
    },
  };
}
