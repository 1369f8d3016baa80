import type { LogRecord, OutgoingRecord } from '../connectors/log.js';
import type { Serde } from '../serdes/serde.js';
import { RestoreError, StoreBudgetError, StoreError } from './errors.js';
import type { LoggedKeyValueStore } from './logged-store.js';
import { UNBOUNDED_STORE_BUDGET } from './store-budget.js';
import { WriteSampler, type WriteCheck } from './write-sampler.js';

/** Serdes of a store's changelog records. */
export interface StoreSerdes<K, V> {
  readonly key: Serde<K>;
  readonly value: Serde<V>;
  /** What an interactive query shows of a value (the operator's internal shape stays inside). */
  readonly view?: (value: V) => unknown;
}

/**
 * The in-memory key-value store (the default): a `Map`, and the set of keys changed since the
 * last checkpoint. Taking the changes serializes only those keys, so the cost per commit is the
 * number of keys changed in the interval, whatever the store's size.
 *
 * @example
 * const store = new MemoryKeyValueStore<string, number>('counts', { key: jsonKeys, value: structuredValues });
 * store.put('a', 1);
 * store.takeChanges(); // [{ key: '"a"', value: <v8 bytes of 1> }]
 */
export class MemoryKeyValueStore<K, V> implements LoggedKeyValueStore<K, V> {
  private readonly map = new Map<K, V>();
  private dirty = new Set<K>();
  private readonly listeners: Array<() => void> = [];
  private sampler: WriteSampler | undefined;

  /**
   * @param logged false for a store without a changelog (plain RxJS): nothing is tracked.
   * @param maxKeys its memory budget: a key more fails with a {@link StoreBudgetError}.
   */
  constructor(
    readonly name: string,
    private readonly serdes: StoreSerdes<K, V>,
    private readonly logged = true,
    private readonly maxKeys = UNBOUNDED_STORE_BUDGET.maxKeys,
  ) {}

  get size(): number {
    return this.map.size;
  }

  queryView(value: V): unknown {
    return this.serdes.view ? this.serdes.view(value) : value;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  sampleWrites(check: WriteCheck): void {
    this.sampler = new WriteSampler(check);
  }

  put(key: K, value: V): void {
    if (value === undefined) return this.delete(key);
    if (this.sampler !== undefined) this.sampler.wrote(key);
    const size = this.map.size;
    this.map.set(key, value);
    if (this.map.size > size && size >= this.maxKeys) {
      this.map.delete(key);
      throw new StoreBudgetError(this.name, this.maxKeys);
    }
    if (this.logged) this.dirty.add(key);
  }

  delete(key: K): void {
    if (this.map.delete(key) && this.logged) this.dirty.add(key);
  }

  touch(key: K): void {
    if (this.sampler !== undefined) this.sampler.wrote(key);
    if (this.logged) this.dirty.add(key);
  }

  all(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  range(from: K, to: K): Array<[K, V]> {
    const found: Array<[K, V]> = [];
    for (const entry of this.map) if (!(entry[0] < from) && !(to < entry[0])) found.push(entry);
    return found.sort((a, b) => (a[0] < b[0] ? -1 : b[0] < a[0] ? 1 : 0));
  }

  onRestored(listener: () => void): void {
    this.listeners.push(listener);
  }

  takeChanges(): OutgoingRecord[] {
    if (this.dirty.size === 0) return [];
    const changed = this.dirty;
    this.dirty = new Set();
    const records: OutgoingRecord[] = [];
    for (const key of changed) {
      const keyBytes = this.serdes.key.serialize(key);
      const value = this.map.get(key);
      let valueBytes: Buffer | string | null = null;
      if (value !== undefined) {
        try {
          valueBytes = this.serdes.value.serialize(value);
        } catch (err) {
          throw new StoreError(`store ${this.name}: the value of key ${String(key)} does not serialize with ${this.serdes.value.name}: ${(err as Error).message}`, { cause: err });
        }
      }
      records.push({ key: keyBytes, value: valueBytes });
    }
    return records;
  }

  restore(record: LogRecord): void {
    let key: K;
    let value: V | undefined;
    try {
      key = this.serdes.key.deserialize(record.key);
      value = record.value === null ? undefined : this.serdes.value.deserialize(record.value);
    } catch (err) {
      throw new RestoreError(this.name, record, err);
    }
    if (value === undefined) this.map.delete(key);
    else {
      this.map.set(key, value);
      if (this.map.size > this.maxKeys) throw new StoreBudgetError(this.name, this.maxKeys);
    }
  }

  rewrite(key: Buffer): void {
    let decoded: K;
    try {
      decoded = this.serdes.key.deserialize(key);
    } catch {
      return; // not a key of this store's serde (a foreign writer's): nothing of ours to protect
    }
    this.dirty.add(decoded);
  }

  clear(): void {
    this.map.clear();
    this.dirty.clear();
  }

  restored(): void {
    for (const listener of this.listeners) listener();
  }
}
