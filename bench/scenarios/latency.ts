/**
 * Scenario `latency`: the stateless pipeline (filter + map + produce, as in `stateless`) fed at
 * half of its measured maximum rate; end-to-end latency from each input record's timestamp (set
 * by the producer when it sent the record) to its result being acknowledged by the broker, as
 * p50 / p90 / p99 / p99.9 / max (bench/lib/histogram.ts), next to the raw kafkajs consume →
 * produce loop at the same rate. Goal: p99 ≤ 50 ms.
 *
 * 1. The maximum rate: tributary's records/s in the `stateless` scenario when it ran earlier in
 *    the same `npm run bench`; else measured here first (a pre-loaded topic of 300,000 keyed
 *    records, one run of tributary's stateless job). `--rate R` sets the input rate instead.
 * 2. Each run gets a fresh topic (P partitions, default 12) and output topic; the consumer child
 *    starts, and once it has joined (it prints READY) the anchors' Java loader produces the keyed
 *    data set at R records/s for D seconds (`--records` = R × D, default D = 15 s), timestamped
 *    now, linger.ms 5. The run ends when every input was seen and every result acknowledged.
 *    Latencies of records from the first 5 s (warm-up) are left out.
 */
import { ensureAnchors, loadTopic } from '../lib/anchors.js';
import { connectBroker } from '../lib/broker.js';
import { dataSet, expectedKept } from '../lib/dataset.js';
import { fmtInt } from '../lib/format.js';
import { keyedScenarioRates } from '../lib/shared-results.js';
import { benchTopic, cleanup, createTopics, interleaved, measureNode, type RunSpec } from '../lib/runs.js';
import { compare, type Measurement, type Scenario, type ScenarioOptions } from '../scenario.js';
import { stateless } from './stateless.js';

const DEFAULT_PARTITIONS = 12;
const DEFAULT_ROUNDS = 2;
const DEFAULT_SECONDS = 15;
const WARMUP_MS = 5_000;
const KEYS = 10_000;
const MAX_RATE_RECORDS = 300_000;

export const latency: Scenario = {
  name: 'latency',
  description: 'end-to-end latency of the stateless pipeline at 50% of its maximum rate: tributary vs a raw kafkajs consume → produce loop',
  async run(options: ScenarioOptions) {
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    const rounds = options.rounds ?? DEFAULT_ROUNDS;
    const { log, profileDir } = options;
    let maxRate = keyedScenarioRates.get('stateless');
    let maxRateSource = 'tributary\'s records/s in the stateless scenario of this run';
    if (options.rate === undefined && maxRate === undefined) {
      log(`latency: measuring the stateless pipeline's maximum rate first (${fmtInt(MAX_RATE_RECORDS)} records, 1 run)…`);
      const result = await stateless.run({ records: MAX_RATE_RECORDS, partitions, rounds: 1, log, onlyTributary: true });
      maxRate = result.tributary.tributary?.recordsPerSec;
      if (!maxRate) throw new Error('could not measure the stateless pipeline\'s maximum rate');
      maxRateSource = `tributary's records/s on a pre-loaded topic of ${fmtInt(MAX_RATE_RECORDS)} records (measured first)`;
    }
    const rate = options.rate ?? Math.round(maxRate! / 2);
    if (options.rate !== undefined) maxRateSource = '--rate given';
    const records = options.records ?? rate * DEFAULT_SECONDS;
    const data = dataSet(records, KEYS);
    const outputs = expectedKept(data);
    log(`latency: input rate ${fmtInt(rate)} records/s (maximum ${maxRate ? fmtInt(maxRate) : '—'}), ${fmtInt(records)} records (${(records / rate).toFixed(1)} s) per run, ${fmtInt(outputs)} results`);
    const broker = await connectBroker(log);
    const anchors = await ensureAnchors(log);
    const created: string[] = [];
    const groups: string[] = [];
    try {
      const timeoutMs = 120_000 + (records / rate) * 3000;
      const paced = async (name: string, script: string, round: number): Promise<Measurement> => {
        const topic = benchTopic('latency');
        const output = `${topic}-out`;
        created.push(topic, output, `${topic}.dlq`);
        await createTopics(broker, [topic, output].map((t) => ({ topic: t, partitions })));
        const group = `${topic}-${name}`;
        groups.push(group);
        let ready: () => void = () => {};
        const joined = new Promise<void>((resolve) => (ready = resolve));
        const child = measureNode({
          name,
          round,
          script,
          broker,
          profileDir,
          timeoutMs,
          log,
          onLine: (line) => line === 'READY' && ready(),
          args: ['--brokers', broker.brokers.join(','), '--topic', topic, '--group', group, '--records', String(records), '--label', name, '--job', 'latency', '--output', output, '--outputs', String(outputs), '--partitions', String(partitions), '--warmup-ms', String(WARMUP_MS)],
        });
        const finished = child.then(() => 'finished' as const);
        if ((await Promise.race([joined.then(() => 'joined' as const), finished])) === 'joined') {
          log(`${name}: joined; producing ${fmtInt(records)} records at ${fmtInt(rate)} records/s`);
          const load = await loadTopic({ anchors, brokers: broker.brokers, topic, data, rate, timeoutMs, log });
          log(`${name}: loader done in ${load.wallSeconds.toFixed(1)} s (loader CPU ${load.cpuSeconds.toFixed(1)} s)`);
        }
        const m = await child;
        if (!m.error) {
          const d = m.details ?? {};
          log(`${name}: latency p50 ${String(d.p50Ms)} ms, p99 ${String(d.p99Ms)} ms, p99.9 ${String(d.p999Ms)} ms, max ${String(d.maxMs)} ms over ${fmtInt(Number(d.count ?? 0))} results; input reached the pipeline after p50 ${String(d.arrivalP50Ms)} ms, p99 ${String(d.arrivalP99Ms)} ms`);
        }
        return m;
      };
      const specs: RunSpec[] = [
        { name: 'kafkajs-raw', kind: 'anchor', run: (r) => paced('kafkajs-raw', 'bench/keyed/kafkajs-raw.ts', r) },
        { name: 'tributary', kind: 'tributary', run: (r) => paced('tributary', 'bench/keyed/tributary-kafka.ts', r) },
      ];
      const { anchors: anchorRuns, tributary } = await interleaved(specs, rounds, log, async () => broker.checkSame());
      const comparedWith = { 'kafkajs-raw': 'tributary' };
      const { ratios, cpuRatios } = compare(tributary, anchorRuns, comparedWith);
      const p99 = (m: Measurement | undefined): number | undefined => (typeof m?.details?.p99Ms === 'number' ? m.details.p99Ms : undefined);
      const extraRatios: Record<string, Record<string, number>> = {};
      const tp = p99(tributary.tributary);
      const ap = p99(anchorRuns['kafkajs-raw']);
      if (tp !== undefined && ap) extraRatios['kafkajs-raw'] = { p99Ms: tp / ap };
      return {
        name: 'latency',
        description: latency.description,
        params: { rate, maxRate: maxRate !== undefined ? Math.round(maxRate) : null, records, partitions, rounds, warmupMs: WARMUP_MS, results: outputs, brokerPid: broker.pid ?? null },
        tributary,
        anchors: anchorRuns,
        comparedWith,
        ratios,
        cpuRatios,
        extraRatios,
        columns: [
          { key: 'p50Ms', label: 'p50 ms', digits: 0 },
          { key: 'p90Ms', label: 'p90 ms', digits: 0 },
          { key: 'p99Ms', label: 'p99 ms', digits: 0 },
          { key: 'p999Ms', label: 'p99.9 ms', digits: 0 },
          { key: 'maxMs', label: 'max ms', digits: 0 },
          { key: 'arrivalP50Ms', label: 'in p50 ms', digits: 0 },
          { key: 'arrivalP99Ms', label: 'in p99 ms', digits: 0 },
        ],
        notes: [
          `input rate ${fmtInt(rate)} records/s = 50% of ${maxRate ? fmtInt(maxRate) : '—'} (${maxRateSource}); ${fmtInt(records)} records per run produced live by the anchors' Java loader (acks=1, linger.ms 5, timestamp = send time), ${partitions} partitions; ${fmtInt(outputs)} results per run`,
          `latency = broker acknowledgement of the result (the sink's write resolved / producer.send resolved) − the input record's timestamp, ms (one clock: the same machine); "in" = when the input reached the pipeline (tap / eachBatch) − its timestamp: the fetch side of the latency; the first ${WARMUP_MS / 1000} s of input are warm-up and left out; percentiles are medians over the rounds`,
          'pipelines: as in the stateless scenario (tributary: tap → filter → map → toTopic; kafkajs-raw: eachBatch → one send per batch, idempotent producer, acks=all, one request in flight); the result carries the input timestamp ({ key, bytes, ts })',
          `records/s here is the offered rate (the loader's), CPU-s per M the consumer's CPU at that rate; ${rounds} round(s), runs interleaved`,
        ],
      };
    } finally {
      await cleanup(broker, created, groups, log);
      await broker.close();
    }
  },
};
