/**
 * Scenario `stateless`: filter + map + produce. tributary's pipeline
 * `tap(count) → filter(key) → map(r => ({ key, bytes }))` into `toTopic(out, { key })` (json()),
 * next to a raw kafkajs consume → filter → map → produce loop and Kafka Streams
 * (`stream.filter(...).mapValues(...).to(out)`, one stream thread), on the same pre-loaded keyed
 * topic (bench/lib/dataset.ts; default 600,000 records, 12 partitions: producing keeps these runs the longest). The filter keeps the
 * records whose key's next-to-last character is an even digit (49.9%); every kept record is
 * written and acknowledged before the run ends.
 */
import { expectedKept } from '../lib/dataset.js';
import { keyedScenario } from '../lib/keyed.js';
import type { Scenario, ScenarioOptions } from '../scenario.js';

export const stateless: Scenario = {
  name: 'stateless',
  description: 'filter + map + produce: tributary vs a raw kafkajs consume → produce loop vs Kafka Streams',
  run: (options: ScenarioOptions) =>
    keyedScenario({
      name: 'stateless',
      description: stateless.description,
      job: 'stateless',
      options,
      defaults: { records: 600_000, partitions: 12, rounds: 3 },
      keys: 10_000,
      expected: expectedKept,
      rawAnchor: true,
      streams: [{ name: 'kafka-streams', store: 'memory', changelog: false }],
      notes: ({ data, partitions, outputs, spread }) => [
        `data: ${data.records.toLocaleString('en-US')} keyed records of 100 B (+ ${partitions} flush records) in ${partitions} partitions (${spread.join(', ')}); the filter keeps ${outputs.toLocaleString('en-US')}, each written as {"key":…,"bytes":100} keyed by its key to an output topic of ${partitions} partitions`,
        'tributary: source { value: bytes() } (key: string()), pipeline tap → filter → map, toTopic(out, { key }) with the default json() serde: kafkajs idempotent producer, acks=all, one request in flight; offsets committed every 1 s',
        'kafkajs-raw: eachBatch: filter + map + JSON.stringify, one producer.send per batch (idempotent, acks=all, maxInFlightRequests 1: tributary\'s producer settings), awaited before resolveOffset; consumer as tributary configures it; no commits',
        'kafka-streams: Kafka Streams 4.1.1, one stream thread, at_least_once, commit.interval.ms 1000 (tributary\'s commit interval), its producer defaults (idempotent, acks=all, linger.ms 100: Kafka Streams\' own default; max.poll.records 1000), -Xms1g -Xmx1g; CPU is the whole JVM over the window (JIT and GC included)',
      ],
    }),
};
