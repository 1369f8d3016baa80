import { partitionForKey } from '../connectors/partitioner.js';
import type { TopicPartition } from '../connectors/log.js';
import { MemoryKeyValueStore } from '../state/memory-key-value-store.js';
import { MemoryWindowStore } from '../state/memory-window-store.js';
import type { StorePartitioning } from '../state/partition-state.js';
import type { WriteCheck } from '../state/write-sampler.js';
import type { KeyMismatch } from './key-mismatch.js';
import { KeyedUnlikeInputError } from './keyed-unlike-input-error.js';

export type { KeyMismatch } from './key-mismatch.js';

/** Keys checked per store at each checkpoint: a few microseconds of murmur2. */
export const KEYS_PER_CHECK = 256;

/**
 * Keys checked per store and partition before a query answers: a store keyed unlike its input
 * has a key of another partition among any few (all but 1 in n do not map to theirs), and a
 * query costs a few microseconds more a partition, whatever the store's size.
 */
export const KEYS_PER_QUERY = 64;

/**
 * Records of a partition whose own key is compared with murmur2 (see
 * {@link StoreKeyPartitioning.sawRecord}): a source placed by another partitioner shows it
 * within a few (all but 1 in n of its keys map elsewhere).
 */
export const LEARNED_RECORDS = 1_024;

/** What the write checks of {@link StoreKeyPartitioning} need from the pipeline. */
export interface WriteCheckContext {
  readonly processor: string;
  /** The record being processed now (its offset and decoded key); undefined outside any record. */
  readonly current: () => { readonly offset: number; readonly key: unknown } | undefined;
}

/**
 * Learns, for each store of one partition, whether its keys follow the input's partitioning:
 * whether each key, as the source topic's producers write it (a string as is, a number as its
 * decimal string), maps to this partition, as a query for it is routed. A store whose keys
 * are anything else is "unknown" and no longer checked.
 *
 * It samples: each {@link check} reads at most `budget` keys of a store, from a live iterator
 * over the store's `Map`s (keys put since are still met), and starts over once it has read them
 * all. The first mismatch is kept as the evidence, and the store is not checked again. After a
 * restart the check starts over on the restored keys. That evidence only refuses queries.
 *
 * It also checks sampled writes ({@link declare}: the first 1,024 of each store, then 1 in 1,024;
 * `state/write-sampler.ts`): a store declared `'by-key'` (the default) written, while a record is
 * processed, under a key that is neither that record's own key nor one that maps to this
 * partition fails the write with a {@link KeyedUnlikeInputError}; the same in a store declared
 * `'per-partition'` (or outside any record) is evidence for queries only. So is it once the
 * partition's records showed that their producer does not partition by murmur2 (a record's own
 * key that murmur2 maps elsewhere, among its first {@link LEARNED_RECORDS} or at a checked
 * write): there, murmur2 says nothing about the state's keys, and a state keyed like the input
 * but written for another record than the one in flight (a buffer releasing earlier records)
 * must not be refused.
 */
export class StoreKeyPartitioning {
  private readonly cursors = new Map<string, Iterator<unknown>>();
  private readonly settled = new Map<string, KeyMismatch | 'unknown'>();
  private readonly perPartition = new Set<string>();
  /** Records whose key {@link sawRecord} still compares with murmur2 (0: done). */
  learning = LEARNED_RECORDS;
  /** A record's own key was seen in this partition that murmur2 maps elsewhere: another partitioner placed the input. */
  private foreign = false;

  constructor(
    private readonly topicPartition: TopicPartition,
    private readonly partitionCount: () => number | undefined,
    private readonly onMismatch: (mismatch: KeyMismatch) => void,
    private readonly writes?: WriteCheckContext,
  ) {}

  /**
   * A store was declared by `operator` with `partitioning`: the check of its sampled writes
   * (undefined when writes are not checked here).
   */
  declare(store: string, operator: string | undefined, partitioning: StorePartitioning = 'by-key'): WriteCheck | undefined {
    if (partitioning === 'per-partition') this.perPartition.add(store);
    const writes = this.writes;
    if (writes === undefined) return undefined;
    const { topic, partition } = this.topicPartition;
    return (key) => {
      if (typeof key !== 'string' && typeof key !== 'number') return;
      const record = writes.current();
      // State keyed by the record's own key is keyed like the input by construction, whatever partitioned it.
      if (record !== undefined && record.key === key) return;
      const count = this.partitionCount();
      if (count === undefined) return;
      const written = typeof key === 'string' ? key : String(key);
      const mapsTo = partitionForKey(written, count);
      if (mapsTo === partition || (record !== undefined && sameKey(record.key, written))) return;
      const mismatch: KeyMismatch = { store, key: written, topic, partition, mapsTo, partitionCount: count };
      if (record !== undefined && !this.foreign && this.mapsElsewhere(record.key)) this.foreign = true;
      if (partitioning === 'by-key' && record !== undefined && !this.foreign) throw new KeyedUnlikeInputError(writes.processor, operator, mismatch, record);
      if (this.settled.get(store) === undefined) {
        this.settled.set(store, mismatch);
        this.cursors.delete(store);
        this.onMismatch(mismatch);
      }
    };
  }

  /**
   * A record entered the pipeline (call while {@link learning} is above 0): whether its own key
   * maps here by murmur2, as the source's producer partitioned it. One murmur2 for each of the
   * partition's first {@link LEARNED_RECORDS} records (a fraction of a millisecond), then nothing.
   */
  sawRecord(key: unknown): void {
    this.learning--;
    if (this.mapsElsewhere(key)) {
      this.foreign = true;
      this.learning = 0;
    }
  }

  /** Whether `key` (a record's own, as its producer wrote it) is a string, number or bytes that murmur2 maps to another partition. */
  private mapsElsewhere(key: unknown): boolean {
    const count = this.partitionCount();
    if (count === undefined) return false;
    const bytes = typeof key === 'string' || Buffer.isBuffer(key) ? key : typeof key === 'number' ? String(key) : undefined;
    return bytes !== undefined && partitionForKey(bytes, count) !== this.topicPartition.partition;
  }

  /** Whether the store was declared `partitioning: 'per-partition'`: its queries are refused, evidence or not. */
  isPerPartition(store: string): boolean {
    return this.perPartition.has(store);
  }

  /** The first key found in a partition it does not map to, if any. */
  mismatch(store: string): KeyMismatch | undefined {
    const found = this.settled.get(store);
    return found === 'unknown' ? undefined : found;
  }

  /** Checks up to `budget` more keys of each store (of `only`, if given). */
  check(stores: ReadonlyMap<string, unknown>, budget = KEYS_PER_CHECK, only?: string): void {
    const count = this.partitionCount();
    if (count === undefined) return;
    for (const [name, store] of stores) {
      if ((only !== undefined && name !== only) || this.settled.has(name)) continue;
      let cursor = this.cursors.get(name);
      if (!cursor) {
        const keys = keysOf(store);
        if (!keys) {
          this.settled.set(name, 'unknown');
          continue;
        }
        cursor = keys;
        this.cursors.set(name, cursor);
      }
      this.checkStore(name, cursor, count, budget);
    }
  }

  private checkStore(name: string, cursor: Iterator<unknown>, count: number, budget: number): void {
    const { topic, partition } = this.topicPartition;
    for (let i = 0; i < budget; i++) {
      const next = cursor.next();
      if (next.done) {
        this.cursors.delete(name); // read them all: the next check starts over
        return;
      }
      const key = next.value;
      if (typeof key !== 'string' && typeof key !== 'number') {
        this.settled.set(name, 'unknown');
        this.cursors.delete(name);
        return;
      }
      const written = typeof key === 'string' ? key : String(key);
      const mapsTo = partitionForKey(written, count);
      if (mapsTo !== partition) {
        const mismatch: KeyMismatch = { store: name, key: written, topic, partition, mapsTo, partitionCount: count };
        this.settled.set(name, mismatch);
        this.cursors.delete(name);
        this.onMismatch(mismatch);
        return;
      }
    }
  }
}

/** The record's key as its producer wrote it (a string, a number's decimal string, bytes as UTF-8) is `written`. */
function sameKey(recordKey: unknown, written: string): boolean {
  if (typeof recordKey === 'string') return recordKey === written;
  if (typeof recordKey === 'number') return String(recordKey) === written;
  if (Buffer.isBuffer(recordKey)) return recordKey.length === Buffer.byteLength(written) && recordKey.toString('utf8') === written;
  return false;
}

/** A live iterator over the keys of a store (window stores: every window's keys); undefined for another kind of store. */
function keysOf(store: unknown): Iterator<unknown> | undefined {
  if (store instanceof MemoryKeyValueStore) return mapKeys(store.all());
  if (store instanceof MemoryWindowStore) return windowKeys(store);
  return undefined;
}

function* mapKeys(entries: IterableIterator<[unknown, unknown]>): Generator<unknown> {
  for (const [key] of entries) yield key;
}

function* windowKeys(store: MemoryWindowStore<unknown, unknown>): Generator<unknown> {
  for (const start of store.starts()) {
    const window = store.window(start);
    if (window) for (const key of window.keys()) yield key;
  }
}
