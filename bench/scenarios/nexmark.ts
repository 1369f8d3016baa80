/**
 * Scenario `nexmark` (issue 19): each of the nexmark example app's queries alone
 * (`nexmarkQueryProcessors`: only the stages that output needs), embedded (MemoryLog), over the
 * same generated events (default 200,000, 4 partitions), in its own child process
 * (bench/nexmark/nexmark-query.ts); events per CPU-second beside Flink's published per-core
 * Nexmark figures (https://github.com/nexmark/nexmark, "Benchmark Results": Flink 1.13, 8 task
 * managers of 1 slot, RocksDB state, exactly-once checkpoints every 3 min, mini-batches, 100M
 * events from its in-process generator). Goal: within 2× of Flink's per-core figures, i.e. a
 * CPU/M ratio ≤ 2.
 *
 * The Flink rows are *published* figures, not runs on this machine (a reference row, as the
 * issue asks): its "records/s" is its throughput per core (events ÷ cores × time), its CPU/M
 * one million ÷ that. tributary's records/s is its wall rate on one Node thread (its CPU is the
 * whole process: the pipeline, JSON parsing and validation of every event, GC, MemoryLog).
 *
 * On Kafka, in the same run (unless `onlyTributary`): q3 and q7 by tributary (the same
 * processors, on Kafka) and by Kafka Streams, on the same broker and the same records
 * (bench/nexmark/kafka-runs.ts), interleaved; their ratios are tributary-kafka-qN against
 * kafka-streams-qN. `TRIBUTARY_BENCH_NEXMARK_KAFKA=0` leaves the Kafka part out.
 */
import { generateNexmarkLines } from '../../examples/nexmark/generate.js';
import { fmtInt } from '../lib/format.js';
import { nexmarkKafkaRuns } from '../nexmark/kafka-runs.js';
import { interleaved, measureNode, type RunSpec } from '../lib/runs.js';
import { compare, measurement, type Measurement, type Scenario, type ScenarioOptions, type ScenarioResult } from '../scenario.js';

const DEFAULT_EVENTS = 200_000;
const DEFAULT_PARTITIONS = 4;
const DEFAULT_ROUNDS = 1;
/** The generator's options for valid events only (no malformed, duplicate, blank, late or oversized lines). */
const VALID_ONLY = { malformedShare: 0, duplicateShare: 0, blankShare: 0, lateShare: 0, oversized: false } as const;

/** Flink 1.13's published results (nexmark/nexmark README): cores and time for 100M events. */
const FLINK: Readonly<Record<string, { readonly cores: number; readonly seconds: number }>> = {
  q1: { cores: 8.26, seconds: 76.643 },
  q2: { cores: 8.23, seconds: 69.309 },
  q3: { cores: 8.59, seconds: 76.531 },
  q5: { cores: 10.8, seconds: 418.242 },
  q7: { cores: 14.21, seconds: 570.983 },
  q8: { cores: 9.42, seconds: 72.673 },
};
const FLINK_EVENTS = 100_000_000;
/** The queries Flink has figures for, then the app's own two. */
const QUERIES = ['q1', 'q2', 'q3', 'q5', 'q7', 'q8', 'winning-bids', 'seller-totals'] as const;

function flinkMeasurement(query: string): Measurement {
  const { cores, seconds } = FLINK[query];
  const coreSeconds = cores * seconds;
  return measurement({
    records: FLINK_EVENTS,
    seconds: coreSeconds,
    totalSeconds: coreSeconds,
    cpuSeconds: coreSeconds,
    note: 'published figure (nexmark/nexmark README), not run here',
    details: { eventsPerCpuSecond: FLINK_EVENTS / coreSeconds, cores, wallSeconds: seconds },
  });
}

export const nexmark: Scenario = {
  name: 'nexmark',
  description: "each nexmark query alone, embedded, events per CPU-second, beside Flink's published per-core Nexmark figures",
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const events = options.records ?? DEFAULT_EVENTS;
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    const rounds = options.rounds ?? DEFAULT_ROUNDS;
    const { log, profileDir } = options;
    const run = (query: string, round: number): Promise<Measurement> =>
      measureNode({
        name: `tributary-${query}`,
        round,
        script: 'bench/nexmark/nexmark-query.ts',
        profileDir,
        args: ['--query', query, '--events', String(events), '--partitions', String(partitions), '--seed', '1', '--label', `tributary-${query}`],
        timeoutMs: 120_000 + events / 2,
        log,
      }).then((m) => {
        if (m.error) return m;
        const perCpuSecond = m.cpuSeconds > 0 ? m.records / m.cpuSeconds : 0;
        log(`tributary-${query}: ${fmtInt(perCpuSecond)} events per CPU-second, ${fmtInt(Number(m.details?.outputs))} results`);
        return { ...m, details: { ...m.details, eventsPerCpuSecond: perCpuSecond } };
      });
    const specs: RunSpec[] = QUERIES.map((query) => ({ name: `tributary-${query}`, kind: 'tributary' as const, run: (round: number) => run(query, round) }));
    const measured = await interleaved(specs, rounds, log);
    const anchors: Record<string, Measurement> = options.onlyTributary ? {} : Object.fromEntries(Object.keys(FLINK).map((q) => [`flink-${q} (published)`, flinkMeasurement(q)]));
    const comparedWith: Record<string, string> = Object.fromEntries(Object.keys(anchors).map((name) => [name, `tributary-${name.replace(/^flink-/, '').replace(/ \(published\)$/, '')}`]));
    const kafkaNotes: string[] = [];
    if (!options.onlyTributary && process.env.TRIBUTARY_BENCH_NEXMARK_KAFKA !== '0') {
      const lines = [...generateNexmarkLines({ events, seed: 1, ...VALID_ONLY })];
      const kafka = await nexmarkKafkaRuns({ lines, partitions, profileDir, log });
      try {
        const onKafka = await interleaved(kafka.specs, rounds, log, kafka.check);
        Object.assign(measured.tributary, onKafka.tributary);
        Object.assign(anchors, onKafka.anchors);
        for (const name of Object.keys(onKafka.anchors)) comparedWith[name] = name.replace(/^kafka-streams-/, 'tributary-kafka-');
        const { counts, expected } = kafka.loaded;
        kafkaNotes.push(
          `on Kafka: the same ${fmtInt(events)} events in three topics of ${partitions} partitions (${fmtInt(counts.persons)} persons by id, ${fmtInt(counts.auctions)} auctions by id, ${fmtInt(counts.bids)} bids by auction; JSON values, record timestamp = dateTime), loaded once before the runs; every run its own group and output topic; results checked against a plain loop (q3 ${fmtInt(expected.q3)}, q7 ${fmtInt(expected.q7)})`,
          'tributary-kafka-qN: nexmarkQueryProcessors(options, [qN]) on KafkaConnector: the source stage reads and validates all three topics, its repartition (by-person / q7-by-window) and the stores\' changelogs are Kafka topics, output written as JSON to a topic, at-least-once, commits every 1 s; window: first partition started → finishInput() (every window fired, every result acknowledged and committed); CPU: the whole Node process',
          'kafka-streams-qN: Kafka Streams 4.1.1 (NexmarkBench.java), one stream thread, in-memory stores with changelogs, at_least_once, commit.interval.ms 1000, -Xms1g -Xmx1g; JSON parsed whole per record; q3: persons (OR/ID/CA) and auctions (category 10) filtered as streams, toTable(), a foreign-key table-table join (auction.seller → person.id); q7: bids re-keyed by window start, repartitioned, windowed aggregate (highest price and its bids), grace 30 s (its stream time is the maximum over upstream tasks), suppress(untilWindowCloses), then one record per bid; the last windows closed by one record far past the data written to each repartition partition once every bid is on it; window: first input record processed → last result acknowledged; CPU: the whole JVM (JIT and GC threads included)',
          'on Kafka, events per CPU-s and records/s are over all the input\'s events (as the embedded runs and Flink\'s figures): Kafka Streams reads only its query\'s topics (q3: persons and auctions; q7: bids), tributary\'s source stage all three',
        );
      } finally {
        await kafka.done();
      }
    }
    const { ratios, cpuRatios } = compare(measured.tributary, anchors, comparedWith);
    return {
      name: 'nexmark',
      description: nexmark.description,
      params: { events, partitions, rounds },
      tributary: measured.tributary,
      anchors,
      comparedWith,
      ratios,
      cpuRatios,
      columns: [
        { key: 'eventsPerCpuSecond', label: 'events per CPU-s', digits: 0 },
        { key: 'outputs', label: 'results', digits: 0 },
      ],
      notes: [
        `data: ${fmtInt(events)} valid events from examples/nexmark/generate.ts (seed 1; persons, auctions and bids in its mix), loaded into three MemoryLog topics of ${partitions} partitions as the command line loads them (JSON values), before the window`,
        'tributary: createTributary on the MemoryLog with nexmarkQueryProcessors(options, [query]): the source stage (JSON decoding and schema validation of every event, unique ids) and only the stages the query needs, stores in memory with MemoryLog changelogs, at-least-once; window: app.start() → finishInput() (every window fired, every result acknowledged by its function sink); CPU: the whole process over it',
        'flink-qN (published): Flink 1.13 on 3 workers × 8 cores, 8 task managers of 1 slot, RocksDB state with incremental checkpoints, exactly-once every 3 min, mini-batch 2 s / 5,000 rows; 100M events from its in-process generator (no Kafka); records/s and CPU/M per core (events ÷ cores × time): a reference row, not a run on this machine',
        'goal: tributary within 2× of Flink per core, i.e. CPU/M ratio ≤ 2 (≤ 1: fewer CPU-seconds per event than Flink)',
        ...kafkaNotes,
      ],
    };
  },
};
