/**
 * tributary's side of the keyed scenarios, through the public API only: one processor per job,
 * the same topologies as Kafka Streams' in `bench/anchors/kafka-streams/.../StreamsBench.java`.
 *
 * Every pipeline starts with a `tap` counting input records (Kafka Streams: `peek`). Results are
 * counted when their sink acknowledged them (Kafka Streams: a producer interceptor on the output
 * topic), except `windows`, whose results go to a function.
 *
 * - `windows`:   tumbling(size) count per record key → toFunction (counts the results);
 * - `tumbling`:  the same → toTopic(output), key `<key>@<windowStart>`, value the count as text;
 * - `tumbling-updates`: `tumbling` with `emit: 'every-record'`, writing only the updates (no final
 *                results, none for the flush key): one result per data record, what @kafkats/flow
 *                writes (it cannot suppress; bench/keyed/kafkats-flow.ts);
 * - `session`:   session(gap) count → toTopic(output), the same format;
 * - `stateless`: filter (the key's next-to-last character is an even digit) → map to
 *                `{ key, bytes }` → toTopic(output, key: the key) with the default json() serde;
 * - `latency`:   `stateless` with the input's timestamp carried along (`{ key, bytes, ts }`), and
 *                each acknowledged result's end-to-end latency (now − ts) recorded; `onInput`
 *                gets each record's timestamp (how long it took to reach the pipeline).
 */
import { filter, map, tap } from 'rxjs';
import { FLUSH_KEY } from '../lib/dataset.js';
import { bytes, counting, defineProcessor, session, toFunction, toTopic, tumbling, type ProcessorDefinition, type Serde, type Sink, type StreamRecord } from '../../src/index.js';

type Guarantee = NonNullable<ProcessorDefinition['guarantee']>;

export type Job = 'windows' | 'tumbling' | 'tumbling-updates' | 'session' | 'stateless' | 'latency';
export const JOBS: readonly Job[] = ['windows', 'tumbling', 'tumbling-updates', 'session', 'stateless', 'latency'];

export interface KeyedOptions {
  readonly id: string;
  readonly groupId: string;
  readonly topic: string;
  /** The output topic (every job but `windows`). */
  readonly output?: string;
  readonly windowMs: number;
  readonly gapMs: number;
  /** Called once per input record (the `latency` job passes the record's timestamp). */
  readonly onInput: (timestamp?: number) => void;
  /** Called with each acknowledged batch of results. */
  readonly onOutput: (items: readonly unknown[]) => void;
  /**
   * Default `'at-least-once'`. With `'exactly-once'` (the `eos` scenario) results go in the
   * partitions' transactions, and count when encoded into one (their sends are acknowledged
   * later, their commit up to a commit interval later).
   */
  readonly guarantee?: Guarantee;
}

/** The sink's acknowledgement, observed: `write` resolves, then `onAck(items)`. */
function acked<T>(sink: Sink<T>, onAck: (items: readonly T[]) => void): Sink<T> {
  return {
    name: sink.name,
    ...(sink.start ? { start: (context) => sink.start!(context) } : {}),
    ...(sink.stop ? { stop: () => sink.stop!() } : {}),
    write: async (items) => {
      await sink.write(items);
      onAck(items);
    },
    ...(sink.encode
      ? {
          encode: (items: readonly T[]) => {
            const encoded = sink.encode!(items);
            onAck(items);
            return encoded;
          },
        }
      : {}),
  };
}

/** Window results as Kafka Streams writes them: the count as text. */
const countText: Serde<{ id: string; count: number }> = {
  name: 'count-text',
  serialize: (v) => String(v.count),
  deserialize: () => {
    throw new Error('write-only');
  },
};

type In = StreamRecord<string | null, Buffer | null>;

export function keyedProcessor(job: Job, o: KeyedOptions): ProcessorDefinition<string | null, Buffer | null> {
  const windowed = (records: import('rxjs').Observable<In>) => {
    const counted = records.pipe(tap(() => o.onInput()));
    const common = { key: (r: In) => r.key, aggregate: counting<In>() };
    return job === 'session' ? counted.pipe(session({ ...common, gap: o.gapMs })) : counted.pipe(tumbling({ ...common, size: o.windowMs }));
  };
  const base = { id: o.id, groupId: o.groupId, source: { topics: o.topic, value: bytes() }, deadLetters: { topic: `${o.topic}.dlq` }, guarantee: o.guarantee };
  switch (job) {
    case 'windows':
      return defineProcessor({ ...base, pipeline: windowed, sinks: toFunction<unknown>('count', (items) => o.onOutput(items)) });
    case 'tumbling':
    case 'session':
      return defineProcessor({
        ...base,
        pipeline: (records) => windowed(records).pipe(map((w) => ({ id: `${w.key}@${w.windowStart}`, count: w.value }))),
        sinks: acked(toTopic(o.output!, { key: (v: { id: string }) => v.id, value: countText }), o.onOutput),
      });
    case 'tumbling-updates':
      return defineProcessor({
        ...base,
        pipeline: (records) =>
          records.pipe(
            tap(() => o.onInput()),
            tumbling({ key: (r: In) => r.key, aggregate: counting<In>(), size: o.windowMs, emit: 'every-record' }),
            filter((w) => !w.final && w.key !== FLUSH_KEY),
            map((w) => ({ id: `${w.key}@${w.windowStart}`, count: w.value })),
          ),
        sinks: acked(toTopic(o.output!, { key: (v: { id: string }) => v.id, value: countText }), o.onOutput),
      });
    case 'stateless':
      return defineProcessor({
        ...base,
        pipeline: (records) =>
          records.pipe(
            tap(() => o.onInput()),
            filter((r) => r.key !== null && keep(r.key)),
            map((r) => ({ key: r.key!, bytes: r.value?.length ?? 0 })),
          ),
        sinks: acked(toTopic(o.output!, { key: (v: { key: string }) => v.key }), o.onOutput),
      });
    case 'latency':
      return defineProcessor({
        ...base,
        pipeline: (records) =>
          records.pipe(
            tap((r) => o.onInput(r.timestamp)),
            filter((r) => r.key !== null && keep(r.key)),
            map((r) => ({ key: r.key!, bytes: r.value?.length ?? 0, ts: r.timestamp })),
          ),
        sinks: acked(toTopic(o.output!, { key: (v: { key: string }) => v.key }), o.onOutput),
      });
  }
}

/** The stateless filter (bench/lib/dataset.ts `keep`, inlined as a user would write it). */
function keep(key: string): boolean {
  const c = key.charCodeAt(key.length - 2) - 48;
  return c >= 0 && c <= 9 && c % 2 === 0;
}
