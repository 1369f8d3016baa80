/**
 * A key-value store of one partition, as Kafka Streams' `KeyValueStore`: logged to its
 * changelog topic and restored from it, so the value of a key survives crashes and moves
 * with the partition. Reads and writes are synchronous and in memory; what changed is written
 * to the changelog at each commit (the last value per key), before the input offset is
 * committed.
 *
 * Values are the store's own: a value read and then changed in place must be `put` back (the
 * store logs what it is told changed).
 *
 * @example
 * const totals = keyValueStore<string, number>('totals');
 * totals.put('customer-1', (totals.get('customer-1') ?? 0) + 42.5);
 * totals.get('customer-1'); // 42.5
 */
export interface KeyValueStore<K, V> {
  readonly name: string;
  get(key: K): V | undefined;
  has(key: K): boolean;
  /** Sets the key's value (`undefined` deletes it). */
  put(key: K, value: V): void;
  delete(key: K): void;
  /** Every entry, in insertion order of the keys. */
  all(): IterableIterator<[K, V]>;
  /** Entries whose keys are in `[from, to]` (compared with `<`), sorted by key. */
  range(from: K, to: K): Array<[K, V]>;
  /** Number of keys. */
  readonly size: number;
}
