import { TributaryError } from '../errors.js';
import type { KeyMismatch } from './key-mismatch.js';

/**
 * A stateful operator is keyed unlike its input: while processing a record of partition
 * `mismatch.partition` it wrote state under `mismatch.key`, which is not that record's own key and
 * maps (murmur2 over the topic's partitions, as the Java client and tributary's repartitions
 * partition) to partition `mismatch.mapsTo`. The key's state is then split over partitions: each
 * holds a partial total, a window per partition, a join that misses its other side. Kafka Streams
 * repartitions before such an operator by itself; tributary refuses it instead, so that nothing
 * wrong is emitted: the processor fails with this error before any result of that record leaves.
 * It is permanent: not restarted (a restart would fail the same way), escalated at once, so the node
 * gives up (`/health` fails, or the process exits 1 with `onEscalation: 'exit'`).
 *
 * The fix: `repartition({ key })` by the operator's key before it, or, for state kept per
 * partition on purpose, the operator's `partitioning: 'per-partition'`.
 *
 * How it is decided, cheaply and without false refusals: each store checks the key of its first
 * 1,024 writes, then 1 in 1,024 (counted, not timed: `state/write-sampler.ts`). A write under the
 * key of the record being processed is right by construction (the state is keyed like the input,
 * whatever partitioner its producer used: librdkafka's default is CRC32 `consistent_random`, not
 * murmur2), and so is one whose key maps to the partition by murmur2. Any other is refused while
 * the partition's records follow murmur2: once one record's own key is seen that murmur2 maps
 * elsewhere (each of the partition's first 1,024 records is looked at, and the record in flight at
 * a checked write), another partitioner placed the input, murmur2 says nothing about the state's
 * keys, and nothing more is refused there (a store keyed like its input, written for an earlier
 * record than the one in flight, as after a buffer, must not be); queries of it are refused
 * instead. Not checked: keys that are not strings or numbers, writes outside any record (timers,
 * the end of input). A record with a null key belongs to no key's partition: state written for it
 * under any key that maps elsewhere is refused.
 *
 * @example
 * app.supervision.subscribe((e) => {
 *   if (e.type === 'supervisor.child-failed' && e.error instanceof KeyedUnlikeInputError) console.error(e.error.message);
 * });
 */
export class KeyedUnlikeInputError extends TributaryError {
  constructor(
    readonly processor: string,
    /** The operator that declared the store (`'aggregateByKey'`), when known. */
    readonly operator: string | undefined,
    readonly mismatch: KeyMismatch,
    record: { readonly offset: number; readonly key: unknown },
  ) {
    const { store, key, topic, partition, mapsTo, partitionCount } = mismatch;
    const who = operator === undefined ? `store '${store}'` : `operator ${operator} (store '${store}')`;
    super(
      `processor '${processor}': ${who} is keyed unlike its input: processing ${topic}[${partition}]@${record.offset} (key ${describeKey(record.key)}) it wrote state under key ${JSON.stringify(key)}, ` +
        `which maps to partition ${mapsTo} of ${topic}, not ${partition} (murmur2 over ${partitionCount} partitions), so the key's state would be split over partitions. ` +
        `Repartition by that key before the operator (repartition({ key })), or, if the state is per partition on purpose, give the operator partitioning: 'per-partition'`,
      { permanent: true },
    );
    this.record = { offset: record.offset, key: record.key };
  }

  /** The record being processed: its offset, and its own key (as decoded). */
  readonly record: { readonly offset: number; readonly key: unknown };
}

function describeKey(key: unknown): string {
  if (key === null || key === undefined) return String(key);
  if (typeof key === 'string' || typeof key === 'number') return JSON.stringify(key);
  if (Buffer.isBuffer(key)) return `<${key.length} bytes>`;
  return typeof key;
}
