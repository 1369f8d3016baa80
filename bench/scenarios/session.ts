/**
 * Scenario `session`: a keyed count in session windows with a 5 s inactivity gap, final results
 * to a topic, next to Kafka Streams' `windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5 s))
 * .count().suppress(untilWindowCloses(unbounded()))`, on the same pre-loaded keyed topic
 * (bench/lib/dataset.ts: keys are active one 10 s phase in two, so each key has 5 sessions of
 * ~10 s: 50,000 results at 10,000 keys).
 *
 * Kafka Streams uses its default (RocksDB) session store here, with its changelog: its
 * in-memory session store is indexed by session end time first, and on this data (every key
 * active every 500 ms of event time) each lookup walks thousands of end times: 1,000,000 records
 * took 544 s (405 CPU-s) in one measured run, far outside this benchmark's budget.
 */
import { expectedSessions } from '../lib/dataset.js';
import { keyedScenario } from '../lib/keyed.js';
import type { Scenario, ScenarioOptions } from '../scenario.js';

export const session: Scenario = {
  name: 'session',
  description: 'session windows (5 s gap) count, final results to a topic: tributary vs Kafka Streams (RocksDB session store, suppress untilWindowCloses)',
  run: (options: ScenarioOptions) =>
    keyedScenario({
      name: 'session',
      description: session.description,
      job: 'session',
      options,
      defaults: { records: 1_000_000, partitions: 12, rounds: 2 },
      keys: 10_000,
      gapMs: 5_000,
      expected: (d) => expectedSessions(d, 5_000),
      rawAnchor: false,
      streams: [{ name: 'kafka-streams', store: 'rocksdb', changelog: true }],
      notes: ({ data, partitions, outputs, spread }) => [
        `data: ${data.records.toLocaleString('en-US')} records over ${data.spanMs / 1000} s of event time, ${data.keys.toLocaleString('en-US')} keys each active every other 10 s phase (one record per 500 ms while active), + ${partitions} flush records; ${partitions} partitions (${spread.join(', ')}); ${outputs.toLocaleString('en-US')} sessions ("key@start" → count), checked`,
        'tributary: source { value: bytes() }, pipeline tap → session({ gap: 5 s, key: r => r.key, aggregate: counting() }) (its window store logged to a changelog topic) → map, toTopic(out)',
        'kafka-streams: Kafka Streams 4.1.1, Stores.persistentSessionStore (RocksDB, the default) with its changelog, suppress(untilWindowCloses(unbounded())), one stream thread, commit.interval.ms 1000, -Xms1g -Xmx1g. Its in-memory session store is not run: on this data it took 544 s for 1,000,000 records (405 CPU-s per million) in one run, every lookup walking the store by end time',
      ],
    }),
};
