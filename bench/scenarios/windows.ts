/**
 * Scenario `windows` (issue 4's benchmark): a keyed count in tumbling 10 s event-time windows
 * over 10,000 keys and 100-byte values, embedded (MemoryLog, in process) and on Kafka, each next
 * to a plain JavaScript loop doing the same count over the same records.
 *
 * Data: bench/lib/dataset.ts (N records, default 1,000,000, over 100 s of event time: ten
 * windows, 50,000 results), plus one flush record per partition that closes every window.
 *
 * - `tributary-embedded` vs `js-loop-embedded`: one child each (bench/keyed/embedded.ts) fills a
 *   MemoryLog of P partitions (not measured), then runs tributary on it / loops over its records.
 * - `tributary-kafka` vs `kafkajs-js-count`: a pre-loaded topic of P partitions (default 12, as
 *   issue 9 asks); tributary through its public API (bench/keyed/tributary-kafka.ts, job
 *   `windows`) / a raw kafkajs consumer running the same loop (bench/keyed/kafkajs-raw.ts).
 *
 * Each run's window: first input record → last result (tributary: acknowledged by its sink).
 * Rounds interleave the four runs; medians reported.
 */
import { ensureAnchors } from '../lib/anchors.js';
import { connectBroker } from '../lib/broker.js';
import { dataSet, dataSetArgs, expectedTumbling } from '../lib/dataset.js';
import { fmtInt } from '../lib/format.js';
import { preloadKeyed, SECOND_HALF_NOTE, secondHalfColumns } from '../lib/keyed.js';
import { cleanup, interleaved, intact, measureNode, type RunSpec } from '../lib/runs.js';
import { compare, type Measurement, type Scenario, type ScenarioOptions } from '../scenario.js';

const DEFAULT_RECORDS = 1_000_000;
const DEFAULT_PARTITIONS = 12;
const DEFAULT_ROUNDS = 3;
const KEYS = 10_000;
const WINDOW_MS = 10_000;

export const windows: Scenario = {
  name: 'windows',
  description: 'keyed count in tumbling 10 s windows (10,000 keys, 100 B values): embedded and on Kafka, vs a plain JS loop',
  async run(options: ScenarioOptions) {
    const records = options.records ?? DEFAULT_RECORDS;
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    const rounds = options.rounds ?? DEFAULT_ROUNDS;
    const { log, profileDir } = options;
    const data = dataSet(records, KEYS);
    const outputs = expectedTumbling(data, WINDOW_MS);
    const broker = await connectBroker(log);
    const anchors = await ensureAnchors(log);
    const created: string[] = [];
    const groups: string[] = [];
    try {
      const { topic, inputs, spread } = await preloadKeyed({ scenario: 'windows', broker, anchors, data, partitions, created, log });
      const timeoutMs = 90_000 + records / 4;
      const embeddedArgs = [...dataSetArgs(data), '--partitions', String(partitions), '--window-ms', String(WINDOW_MS), '--outputs', String(outputs)];
      const kafka = (name: string, script: string, round: number): Promise<Measurement> => {
        const group = `${topic}-${name}-${round}`;
        groups.push(group);
        return measureNode({
          name,
          round,
          script,
          broker,
          profileDir,
          timeoutMs,
          log,
          args: ['--brokers', broker.brokers.join(','), '--topic', topic, '--group', group, '--records', String(inputs), '--label', name, '--job', 'windows', '--outputs', String(outputs), '--window-ms', String(WINDOW_MS), '--partitions', String(partitions)],
        });
      };
      const specs: RunSpec[] = [
        { name: 'js-loop-embedded', kind: 'anchor', run: (r) => measureNode({ name: 'js-loop-embedded', round: r, script: 'bench/keyed/embedded.ts', args: ['--variant', 'loop', '--label', 'js-loop-embedded', ...embeddedArgs], timeoutMs, log }) },
        { name: 'tributary-embedded', kind: 'tributary', run: (r) => measureNode({ name: 'tributary-embedded', round: r, script: 'bench/keyed/embedded.ts', args: ['--variant', 'tributary', '--label', 'tributary-embedded', ...embeddedArgs], profileDir, timeoutMs, log }) },
        { name: 'kafkajs-js-count', kind: 'anchor', run: (r) => kafka('kafkajs-js-count', 'bench/keyed/kafkajs-raw.ts', r) },
        { name: 'tributary-kafka', kind: 'tributary', run: (r) => kafka('tributary-kafka', 'bench/keyed/tributary-kafka.ts', r) },
      ];
      const { anchors: anchorRuns, tributary } = await interleaved(specs, rounds, log, () => intact(broker, topic, inputs));
      const comparedWith = { 'js-loop-embedded': 'tributary-embedded', 'kafkajs-js-count': 'tributary-kafka' };
      const { ratios, cpuRatios } = compare(tributary, anchorRuns, comparedWith);
      return {
        ...secondHalfColumns(tributary, anchorRuns, comparedWith),
        name: 'windows',
        description: windows.description,
        params: { records, keys: KEYS, windowMs: WINDOW_MS, partitions, rounds, results: outputs, topic, brokerPid: broker.pid ?? null },
        tributary,
        anchors: anchorRuns,
        comparedWith,
        ratios,
        cpuRatios,
        notes: [
          `data: ${fmtInt(records)} records over ${data.spanMs / 1000} s of event time (${data.spanMs / WINDOW_MS} windows), ${fmtInt(KEYS)} keys (half of them active per 10 s phase), 100 B values, + ${partitions} flush records; ${fmtInt(outputs)} window results expected and checked`,
          `Kafka topic: ${partitions} partitions, records per partition ${spread.map(fmtInt).join(', ')}; embedded: a MemoryLog topic of ${partitions} partitions with the same records`,
          'tributary: defineProcessor({ source: { value: bytes() }, pipeline: tap(count) → tumbling({ size: 10 s, key: r => r.key, aggregate: counting() }) }) → toFunction; event time = the record timestamp, out-of-orderness 0',
          'anchors: bench/keyed/loop-count.ts, a per-partition Map of windows of Map<key, count>, fired on the partition watermark; Kafka: kafkajs configured as tributary configures it (autoCommit off, 4 partitions concurrently)',
          'window: first input record → last result (all expected results seen); records/s counts every input record',
          SECOND_HALF_NOTE,
          `${rounds} round(s), runs interleaved; each figure is the median over the rounds`,
          ...(profileDir ? [`profiled with node --cpu-prof (${profileDir}): the rates are lower than unprofiled`] : []),
        ],
      };
    } finally {
      await cleanup(broker, created, groups, log);
      await broker.close();
    }
  },
};
