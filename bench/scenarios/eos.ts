/**
 * Scenario `eos`: what exactly-once costs. The stateless and tumbling jobs of the keyed scenarios
 * (bench/keyed/topology.ts), each run at-least-once (`tributary`) and with `guarantee:
 * 'exactly-once'` (`tributary-eos`: one transactional producer per input partition, a
 * transaction per partition and commit interval of 1 s), interleaved, on the same pre-loaded
 * topic. The figure that matters: CPU-s per million records, exactly-once ÷ at-least-once (the
 * goal: ≤ 1.3).
 */
import { expectedKept, expectedTumbling } from '../lib/dataset.js';
import { keyedScenario } from '../lib/keyed.js';
import type { Measurement, Scenario, ScenarioOptions, ScenarioResult } from '../scenario.js';

const EOS = ['--guarantee', 'exactly-once'];

export const eos: Scenario = {
  name: 'eos',
  description: 'exactly-once vs at-least-once: the stateless and tumbling jobs, each both ways',
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const common = { options: { ...options, onlyTributary: true }, rawAnchor: false, streams: [] };
    const stateless = await keyedScenario({
      ...common,
      name: 'eos-stateless',
      description: 'stateless, at-least-once vs exactly-once',
      job: 'stateless',
      defaults: { records: 300_000, partitions: 6, rounds: 2 },
      keys: 10_000,
      expected: expectedKept,
      tributaryVariants: [{ name: 'tributary-eos', job: 'stateless', args: EOS }],
      notes: () => [],
    });
    const tumbling = await keyedScenario({
      ...common,
      name: 'eos-tumbling',
      description: 'tumbling, at-least-once vs exactly-once',
      job: 'tumbling',
      defaults: { records: 300_000, partitions: 6, rounds: 2 },
      keys: 10_000,
      windowMs: 10_000,
      expected: (data) => expectedTumbling(data, 10_000),
      tributaryVariants: [{ name: 'tributary-eos', job: 'tumbling', args: EOS }],
      notes: () => [],
    });
    const tributary: Record<string, Measurement> = {};
    for (const [job, result] of [['stateless', stateless], ['tumbling', tumbling]] as const) {
      for (const [variant, m] of Object.entries(result.tributary)) tributary[`${job} ${variant === 'tributary' ? 'at-least-once' : 'exactly-once'}`] = m;
    }
    const ratio = (job: string): string => {
      const alo = tributary[`${job} at-least-once`];
      const eo = tributary[`${job} exactly-once`];
      if (!alo?.cpuSecondsPerMillion || !eo?.cpuSecondsPerMillion) return `${job}: no ratio (a run failed)`;
      return `${job}: exactly-once ÷ at-least-once = ${(eo.cpuSecondsPerMillion / alo.cpuSecondsPerMillion).toFixed(2)}× CPU-s per million, ${(eo.recordsPerSec / alo.recordsPerSec).toFixed(2)}× records/s`;
    };
    return {
      name: 'eos',
      description: eos.description,
      params: { records: stateless.params.records, partitions: stateless.params.partitions, rounds: stateless.params.rounds, statelessTopic: stateless.params.topic, tumblingTopic: tumbling.params.topic },
      tributary,
      anchors: {},
      comparedWith: {},
      ratios: {},
      cpuRatios: {},
      notes: [
        ratio('stateless'),
        ratio('tumbling'),
        'exactly-once: results count when encoded into the partition\'s transaction (acknowledged later, visible at its commit, at most a commit interval of 1 s later): the window ends before the last commit',
        'not compared yet: Kafka Streams exactly_once_v2 (the anchor\'s StreamsBench runs at_least_once only)',
        ...stateless.notes.slice(-2),
      ],
    };
  },
};
