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
 *
 * @kafkats/flow (issue 9 asks for it on the same topology) cannot suppress: its windowed
 * count writes every update, one result per input record (bench/keyed/kafkats-flow.ts). It is
 * compared with `tributary-updates`, the same tumbling count with `emit: 'every-record'` writing
 * only the updates (the same N − P results), not with tributary's final-results job.
 */
import { expectedTumbling } from '../lib/dataset.js';
import { keyedScenario } from '../lib/keyed.js';
import type { Scenario, ScenarioOptions } from '../scenario.js';

const DEFAULTS = { records: 1_000_000, partitions: 12, rounds: 3 };
/** @kafkats/flow cannot suppress: it writes every window update (bench/keyed/kafkats-flow.ts). */
const KAFKATS_FLOW = 'kafkats-flow (updates, no suppression)';

export const tumbling: Scenario = {
  name: 'tumbling',
  description: 'tumbling 10 s windowed count, final results to a topic: tributary vs Kafka Streams (in-memory store, suppress untilWindowCloses)',
  run: (options: ScenarioOptions) => {
    // One update per data record: the inputs (records + one flush record per partition) − the flush records.
    const updates = options.records ?? DEFAULTS.records;
    // The update runs (@kafkats/flow writes ~10,000 records/s) make long runs very long: leave them
    // out with TRIBUTARY_BENCH_NO_UPDATES=1 (e.g. for the 5M-record steady-state run).
    const withUpdates = process.env.TRIBUTARY_BENCH_NO_UPDATES !== '1';
    return keyedScenario({
      name: 'tumbling',
      description: tumbling.description,
      job: 'tumbling',
      options,
      defaults: DEFAULTS,
      keys: 10_000,
      windowMs: 10_000,
      expected: (d) => expectedTumbling(d, 10_000),
      rawAnchor: false,
      streams: [
        { name: 'kafka-streams', store: 'memory', changelog: true },
        { name: 'kafka-streams-nolog', store: 'memory', changelog: false },
      ],
      tributaryVariants: !withUpdates ? [] : [{ name: 'tributary-updates', job: 'tumbling-updates', args: ['--outputs', String(updates)] }],
      nodeAnchors: !withUpdates ? [] : [{ name: KAFKATS_FLOW, script: 'bench/keyed/kafkats-flow.ts', comparedWith: 'tributary-updates' }],
      notes: ({ data, partitions, outputs, spread }) => [
        `data: ${data.records.toLocaleString('en-US')} records over ${data.spanMs / 1000} s of event time, ${data.keys.toLocaleString('en-US')} keys, 100 B values, + ${partitions} flush records (event time +1 h: every window closes); ${partitions} partitions (${spread.join(', ')}); ${outputs.toLocaleString('en-US')} results ("key@windowStart" → count as text), checked`,
        'tributary: source { value: bytes() }, pipeline tap → tumbling({ size: 10 s, key: r => r.key, aggregate: counting() }) (its window store logged to a changelog topic) → map, toTopic(out) (final results only: the default emit)',
        'kafka-streams: Kafka Streams 4.1.1, Stores.inMemoryWindowStore, suppress(untilWindowCloses(BufferConfig.unbounded())), one stream thread, at_least_once, commit.interval.ms 1000 (= tributary\'s commit interval; the record cache of 10 MiB flushes at commits), -Xms1g -Xmx1g; kafka-streams: changelogs on (default), kafka-streams-nolog: store and suppression buffer withLoggingDisabled()',
        'Kafka Streams CPU is the whole JVM over the window: JIT compilation and GC threads included (a longer run amortises JIT: --records)',
        ...(!withUpdates ? ['update runs (tributary-updates, @kafkats/flow) left out: TRIBUTARY_BENCH_NO_UPDATES=1'] : []),
        ...(!withUpdates ? [] : [`tributary-updates: the same tumbling with emit: 'every-record', only the updates written (final results and the flush key's dropped by a filter): ${updates.toLocaleString('en-US')} results, one per data record, the count so far; compared with ${KAFKATS_FLOW} (same output), not with the final-results runs`,
          `${KAFKATS_FLOW}: @kafkats/flow 0.12.0 (its own client @kafkats/client 0.12.0), stream(key: string()).filter(key ≠ ~flush).groupByKey().windowedBy(TimeWindows.of(10 s)).count({ changelog: false }).toStream().map(→ "key@start", "n").through(out), the closest topology it can express: no suppress() and no grace, so it writes every update (${updates.toLocaleString('en-US')} results, checked: the updates with count 1 = the key × window pairs); in-memory window store (its default provider), at_least_once, offsets auto-committed every 1 s (default 5 s), runEach partitionConcurrency = partitions (default 1: one record in flight at a time for the whole process), acks all; each update is an awaited producer.send() of one record, i.e. one produce request per update (send() flushes at once, linger does not apply); flush records filtered out (its stream time is shared by all partitions: one partition's flush record would make it drop the others' unread records)`]),
      ],
    });
  },
};
