// The windowed count the chaos workers run, and the names and shapes the harness and the
// verifier share with them.
//
//   input (keyed by k, 6 partitions)
//     └─ processor `count`: drop flush markers, throw at poison records (and at armed random
//        offsets), map to a ChaosItem carrying the input partition/offset and per-key sequence
//        └─ repartition `by-group` (key g, 6 partitions)
//             └─ stage `count-by-group`: tumbling window of windowMs per g collecting the items
//                  ├─ `counts` topic: one CountResult per (g, window)
//                  ├─ `counts-late` topic: late items
//                  └─ `group-totals` topic: a never-expiring count per g (a table on a store), every update
import { filter, map, type Observable } from 'rxjs';
import { defineProcessor, type ProcessorDefinition } from '../../src/processor/define-processor.js';
import { countByKey } from '../../src/streams/count-by-key.js';
import { repartition } from '../../src/processor/repartition.js';
import type { Sink } from '../../src/sinks/sink.js';
import { aggregating } from '../../src/streams/aggregator.js';
import type { LateRecord } from '../../src/streams/late-output.js';
import type { StreamRecord } from '../../src/streams/stream-record.js';
import { tumbling } from '../../src/streams/tumbling.js';

export const Topics = {
  input: 'input',
  counts: 'counts',
  late: 'counts-late',
  repartition: 'count-by-group-repartition',
  /** Dead letters of the first stage (bad input, poison records). */
  dlq: 'count.dlq',
  /** Dead letters of the repartition stage. */
  stageDlq: 'count-by-group.dlq',
  /** The stage's never-expiring total per group: one {@link GroupTotal} per update. */
  totals: 'group-totals',
} as const;

/** An update of the stage's table of items per group, kept forever (the state is restored, never replayed). */
export interface GroupTotal {
  readonly g: string;
  readonly count: number;
}

export const COUNT_PROCESSOR = 'count';
export const COUNT_STAGE = 'count-by-group';
/** The NATS subject the workers publish live results on (at-most-once, for dashboards). */
export const LIVE_SUBJECT = 'chaos.counts.live';

/** An input event, as the producer writes it (JSON, key `k`). */
export interface ChaosEvent {
  /** The input key: `k0`..`kN`. */
  readonly k: string;
  /** Per-key sequence number, from 0, in production order. */
  readonly seq: number;
  /** Event time, epoch ms. */
  readonly ts: number;
  /** The key the first stage repartitions by. */
  readonly g: string;
  /** Written with its timestamp skewed behind the out-of-orderness bound. */
  readonly skew?: true;
  /** The first stage throws on it, every time: it must end in the dead-letter topic. */
  readonly poison?: true;
  /** The last record of a partition: moves the watermark past every window; counted nowhere. */
  readonly flush?: true;
}

/** What the first stage sends through the repartition topic. */
export interface ChaosItem {
  readonly k: string;
  readonly seq: number;
  readonly g: string;
  /** Input partition and offset: identifies the input record. */
  readonly p: number;
  readonly o: number;
  readonly timestamp: number;
}

/** One window's result for one group: the items in arrival order, as [k, seq, p, o]. */
export interface CountResult {
  readonly g: string;
  readonly ws: number;
  readonly we: number;
  readonly count: number;
  readonly items: ReadonlyArray<readonly [string, number, number, number]>;
}

/** The settings the workers and the verifier agree on. */
export interface CountSettings {
  readonly inputPartitions: number;
  readonly repartitionPartitions: number;
  readonly windowMs: number;
  readonly boundMs: number;
  /** Records above this (key + value bytes) are dead letters (`oversized`). */
  readonly maxRecordBytes: number;
}

/** Hooks the worker gives the topology: fault injection and the sinks. */
export interface CountHooks {
  /** Whether the operator of `stage` throws at this record now (transient: a replay passes). */
  readonly shouldThrow: (stage: 'up' | 'down', partition: number, offset: number) => boolean;
  readonly counts: Sink<CountResult>;
  readonly late: Sink<LateRecord<StreamRecord<string, ChaosItem>>>;
  readonly totals: Sink<GroupTotal>;
}

/** The count processor (with its repartition stage) as the workers run it. */
export function countProcessor(settings: CountSettings, hooks: CountHooks): ProcessorDefinition<string | null, ChaosEvent> {
  return defineProcessor<string | null, ChaosEvent>({
    id: COUNT_PROCESSOR,
    source: { topics: Topics.input, timestamp: (r) => r.value.ts, maxRecordBytes: settings.maxRecordBytes },
    eventTime: { outOfOrdernessMs: settings.boundMs },
    commitIntervalMs: 500,
    // The verifier reads the whole repartition topic to find items written to it twice (with
    // --exactly-once, any is a failure): a purge would delete most of it before the read.
    repartitionPurgeIntervalMs: Infinity,
    pipeline: (records: Observable<StreamRecord<string | null, ChaosEvent>>) =>
      records.pipe(
        filter((r) => r.value.flush !== true),
        map((r): ChaosItem => {
          if (r.value.poison === true) throw new Error(`poison record ${r.value.k}#${r.value.seq} at ${r.partition}:${r.offset}`);
          if (hooks.shouldThrow('up', r.partition, r.offset)) throw new Error(`injected failure upstream at ${r.partition}:${r.offset}`);
          return { k: r.value.k, seq: r.value.seq, g: r.value.g, p: r.partition, o: r.offset, timestamp: r.timestamp };
        }),
      ),
    sinks: repartition<ChaosItem>({
      name: 'by-group',
      key: (item) => item.g,
      partitions: settings.repartitionPartitions,
      pipeline: (items: Observable<StreamRecord<string, ChaosItem>>) => ({
        totals: items.pipe(
          countByKey({ store: 'group-totals', key: (r: StreamRecord<string, ChaosItem>) => r.value.g }),
          map((u): GroupTotal => ({ g: u.key, count: u.value })),
        ),
        counts: items.pipe(
          map((r) => {
            if (hooks.shouldThrow('down', r.partition, r.offset)) throw new Error(`injected failure downstream at ${r.partition}:${r.offset}`);
            return r;
          }),
          tumbling({
            size: settings.windowMs,
            key: (r: StreamRecord<string, ChaosItem>) => r.value.g,
            aggregate: aggregating({
              init: (): Array<[string, number, number, number]> => [],
              add: (acc: Array<[string, number, number, number]>, r: StreamRecord<string, ChaosItem>) => {
                acc.push([r.value.k, r.value.seq, r.value.p, r.value.o]);
                return acc;
              },
            }),
            store: 'windows',
          }),
          map((w): CountResult => ({ g: w.key, ws: w.windowStart, we: w.windowEnd, count: w.value.length, items: w.value })),
        ),
      }),
      sinks: { counts: hooks.counts, late: hooks.late, totals: hooks.totals },
    }),
  });
}
