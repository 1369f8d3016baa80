import { partitionForKey } from '../connectors/partitioner.js';
import type { TopicPartition } from '../connectors/log.js';
import { MemoryKeyValueStore } from '../state/memory-key-value-store.js';
import { MemoryWindowStore } from '../state/memory-window-store.js';

/**
 * The evidence that a store is not partitioned by its key: `key` sits in `partition` of `topic`,
 * but murmur2 over the topic's `partitionCount` partitions maps it to `mapsTo`, the partition a
 * query for it is routed to.
 */
export interface KeyMismatch {
  readonly store: string;
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly mapsTo: number;
  readonly partitionCount: number;
}

/** Keys checked per store at each checkpoint: a few microseconds of murmur2. */
export const KEYS_PER_CHECK = 256;

/**
 * Keys checked per store and partition before a query answers: a store keyed unlike its input
 * has a key of another partition among any few (all but 1 in n do not map to theirs), and a
 * query costs a few microseconds more a partition, whatever the store's size.
 */
export const KEYS_PER_QUERY = 64;

/**
 * Learns, for each store of one partition, whether its keys follow the input's partitioning:
 * whether each key, as the source topic's producers write it (a string as is, a number as its
 * decimal string), maps to this partition, as a query for it is routed. A store whose keys
 * are anything else is "unknown" and no longer checked.
 *
 * It samples: each {@link check} reads at most `budget` keys of a store, from a live iterator
 * over the store's `Map`s (keys put since are still met), and starts over once it has read them
 * all; the hot path (`put`) is untouched. The first mismatch is kept as the evidence, and the
 * store is not checked again. After a restart the check starts over on the restored keys.
 */
export class StoreKeyPartitioning {
  private readonly cursors = new Map<string, Iterator<unknown>>();
  private readonly settled = new Map<string, KeyMismatch | 'unknown'>();

  constructor(
    private readonly topicPartition: TopicPartition,
    private readonly partitionCount: () => number | undefined,
    private readonly onMismatch: (mismatch: KeyMismatch) => void,
  ) {}

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
