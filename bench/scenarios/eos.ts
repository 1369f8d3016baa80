/**
 * Scenario `eos`: what exactly-once costs. The stateless and tumbling jobs of the keyed scenarios
 * (bench/keyed/topology.ts), each run at-least-once (`tributary`) and with `guarantee:
 * 'exactly-once'` (`tributary-eos`: one transactional producer per input partition, a
 * transaction per partition and commit interval of 1 s), and Kafka Streams the same two ways
 * (`kafka-streams`, `kafka-streams-eos`: `processing.guarantee=exactly_once_v2`, one transactional
 * producer per stream thread, commits every 1 s), interleaved, on the same pre-loaded topic. The
 * figures that matter: CPU-s per million records, exactly-once ÷ at-least-once (the goal: ≤ 1.3),
 * and tributary-eos against kafka-streams-eos (the goal: more records per CPU-second).
 */
import { expectedKept, expectedTumbling } from '../lib/dataset.js';
import { keyedScenario } from '../lib/keyed.js';
import type { Measurement, Scenario, ScenarioOptions, ScenarioResult } from '../scenario.js';

const EOS = ['--guarantee', 'exactly-once'];

export const eos: Scenario = {
  name: 'eos',
  description: 'exactly-once vs at-least-once: the stateless and tumbling jobs, each both ways',
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const common = {
      options,
      rawAnchor: false,
      streams: [
        { name: 'kafka-streams', store: 'memory', changelog: true },
        { name: 'kafka-streams-eos', store: 'memory', changelog: true, guarantee: 'exactly_once_v2', comparedWith: 'tributary-eos' },
      ] as const,
    };
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
    const anchors: Record<string, Measurement> = {};
    const comparedWith: Record<string, string> = {};
    const ratios: Record<string, number> = {};
    const cpuRatios: Record<string, number> = {};
    const guarantee = (variant: string): string => (variant.endsWith('-eos') ? 'exactly-once' : 'at-least-once');
    for (const [job, result] of [['stateless', stateless], ['tumbling', tumbling]] as const) {
      for (const [variant, m] of Object.entries(result.tributary)) tributary[`${job} ${guarantee(variant)}`] = m;
      for (const [anchor, m] of Object.entries(result.anchors)) {
        const name = `${job} Kafka Streams ${guarantee(anchor)}`;
        anchors[name] = m;
        comparedWith[name] = `${job} ${guarantee(result.comparedWith[anchor] ?? 'tributary')}`;
        if (result.ratios[anchor] !== undefined) ratios[name] = result.ratios[anchor];
        if (result.cpuRatios[anchor] !== undefined) cpuRatios[name] = result.cpuRatios[anchor];
      }
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
      anchors,
      comparedWith,
      ratios,
      cpuRatios,
      notes: [
        ratio('stateless'),
        ratio('tumbling'),
        'exactly-once: results count when encoded into the partition\'s transaction (acknowledged later, visible at its commit, at most a commit interval of 1 s later): the window ends before the last commit',
        'Kafka Streams 4.1.1 (StreamsBench, one stream thread, commit.interval.ms 1000, in-memory stores with changelogs): at_least_once and exactly_once_v2; its results count when the producer acknowledges them (an interceptor), before the transaction commits, as tributary\'s',
        ...stateless.notes.slice(-2),
      ],
    };
  },
};
