/**
 * Scenario `tumbling`: a keyed count in tumbling 10 s windows, final results only, written to a
 * topic, next to Kafka Streams' `groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10 s))
 * .count().suppress(untilWindowCloses(unbounded()))` with an in-memory window store, on the same
 * pre-loaded keyed topic (bench/lib/dataset.ts: default 1,000,000 records, 10,000 keys, 100 B
 * values, 12 partitions; 50,000 results). Goal: ≥ 1.0× Kafka Streams' records per CPU-second,
 * i.e. a CPU/M ratio ≤ 1.
 *
 * Kafka Streams runs twice per round: as configured by default (its store and suppression
 * buffer backed by changelog topics: its fault tolerance, where tributary replays from a
 * committed offset instead) and with logging disabled (the same work as tributary's).
 */
import { expectedTumbling } from '../lib/dataset.js';
import { keyedScenario } from '../lib/keyed.js';
import type { Scenario, ScenarioOptions } from '../scenario.js';

export const tumbling: Scenario = {
  name: 'tumbling',
  description: 'tumbling 10 s windowed count, final results to a topic: tributary vs Kafka Streams (in-memory store, suppress untilWindowCloses)',
  run: (options: ScenarioOptions) =>
    keyedScenario({
      name: 'tumbling',
      description: tumbling.description,
      job: 'tumbling',
      options,
      defaults: { records: 1_000_000, partitions: 12, rounds: 3 },
      keys: 10_000,
      windowMs: 10_000,
      expected: (d) => expectedTumbling(d, 10_000),
      rawAnchor: false,
      streams: [
        { name: 'kafka-streams', store: 'memory', changelog: true },
        { name: 'kafka-streams-nolog', store: 'memory', changelog: false },
      ],
      notes: ({ data, partitions, outputs, spread }) => [
        `data: ${data.records.toLocaleString('en-US')} records over ${data.spanMs / 1000} s of event time, ${data.keys.toLocaleString('en-US')} keys, 100 B values, + ${partitions} flush records (event time +1 h: every window closes); ${partitions} partitions (${spread.join(', ')}); ${outputs.toLocaleString('en-US')} results ("key@windowStart" → count as text), checked`,
        'tributary: source { value: bytes() }, pipeline tap → tumbling({ size: 10 s, key: r => r.key, aggregate: counting(), clock, holds, late }) → map, toTopic(out) (final results only: the default emit)',
        'kafka-streams: Kafka Streams 4.1.1, Stores.inMemoryWindowStore, suppress(untilWindowCloses(BufferConfig.unbounded())), one stream thread, at_least_once, commit.interval.ms 1000 (= tributary\'s commit interval; the record cache of 10 MiB flushes at commits), -Xms1g -Xmx1g; kafka-streams: changelogs on (default), kafka-streams-nolog: store and suppression buffer withLoggingDisabled()',
        'Kafka Streams CPU is the whole JVM over the window: JIT compilation and GC threads included (a longer run amortises JIT: --records)',
      ],
    }),
};
