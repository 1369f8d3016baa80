import type { LogRecord, OutgoingRecord } from '../connectors/log.js';
import { RestoreError, StoreBudgetError, StoreError } from './errors.js';
import { checkKey, type LmdbStoreCopy } from './lmdb-state-dir.js';
import type { LoggedKeyValueStore } from './logged-store.js';
import type { StoreSerdes } from './memory-key-value-store.js';
import type { StoreBudget } from './store-budget.js';
import { WriteSampler, type WriteCheck } from './write-sampler.js';

/** An entry changed since the local copy last had it: its value (undefined: deleted) and the checkpoint that took it. */
interface Unwritten<V> {
  value: V | undefined;
  /** The checkpoint whose changes carry this value; -1 while it is changed and not yet taken. */
  checkpoint: number;
}

/** Changelog records applied per LMDB transaction while restoring. */
const RESTORE_BATCH = 10_000;

/**
 * A key-value store that reads through to its LMDB local copy: LMDB holds the state as of the
 * copy's last write (after a commit), and memory holds only the entries changed since
 * (`unwritten`, until a write of the checkpoint that took them lands) and a bounded cache of
 * entries read (`cache`, least recently used first out beyond `budget.cacheKeys`). A restart
 * opens the copy and reads only the changelog past it: nothing is loaded into memory.
 *
 * Values read are decoded copies: an entry evicted and read again is a new object. Operators
 * that keep references to their values across records (`keyedProcess`, `session`, `sliding`)
 * declare `keepsReferences` and get a resident store instead (see docs/runtime.md).
 *
 * `all()` yields the copy's entries in the order of their changelog key bytes (each replaced by
 * its unwritten value, if any), then the keys not yet on LMDB; not in first-insertion order as
 * the in-memory store does.
 *
 * @example
 * const store = new LmdbKeyValueStore<string, number>('totals', serdes, dir.copy(changelog), { maxKeys: 5_000_000, cacheKeys: 100_000 });
 * store.put('c-1', 10);
 * store.get('c-1'); // 10, from memory until the next commit's local write, then from LMDB
 */
export class LmdbKeyValueStore<K, V> implements LoggedKeyValueStore<K, V> {
  private readonly unwritten = new Map<K, Unwritten<V>>();
  private readonly cache = new Map<K, V>();
  private dirty = new Set<K>();
  private keys = 0;
  private readonly listeners: Array<() => void> = [];
  private restoring: Array<readonly [Buffer, Buffer | null]> = [];
  private restoreWrites: Promise<unknown> = Promise.resolve();
  private sampler: WriteSampler | undefined;

  constructor(
    readonly name: string,
    private readonly serdes: StoreSerdes<K, V>,
    readonly copy: LmdbStoreCopy,
    private readonly budget: StoreBudget,
  ) {}

  get size(): number {
    return this.keys;
  }

  /** Entries held in memory: changed and not yet on LMDB, and cached. */
  get inMemory(): number {
    return this.unwritten.size + this.cache.size;
  }

  queryView(value: V): unknown {
    return this.serdes.view ? this.serdes.view(value) : value;
  }

  get(key: K): V | undefined {
    const changed = this.unwritten.get(key);
    if (changed !== undefined) return changed.value;
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      // Most recently used last: eviction takes the first.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const value = this.read(key);
    if (value !== undefined) this.remember(key, value);
    return value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  sampleWrites(check: WriteCheck): void {
    this.sampler = new WriteSampler(check);
  }

  put(key: K, value: V): void {
    if (value === undefined) return this.delete(key);
    if (this.sampler !== undefined) this.sampler.wrote(key);
    if (this.get(key) === undefined) this.keys++;
    this.change(key, value);
  }

  delete(key: K): void {
    if (this.get(key) === undefined) return;
    this.keys--;
    this.change(key, undefined);
  }

  /** Marks a key changed whose value was changed in place. */
  touch(key: K): void {
    if (this.sampler !== undefined) this.sampler.wrote(key);
    const value = this.get(key);
    if (value !== undefined) this.change(key, value);
  }

  *all(): IterableIterator<[K, V]> {
    const seen = new Set<K>();
    for (const { key: bytes, value: stored } of this.copy.db.getRange()) {
      const key = this.decodeKey(bytes);
      const changed = this.unwritten.get(key);
      if (changed !== undefined) {
        seen.add(key);
        if (changed.value !== undefined) yield [key, changed.value];
        continue;
      }
      yield [key, this.cache.get(key) ?? this.decodeValue(key, stored)];
    }
    for (const [key, changed] of [...this.unwritten]) if (!seen.has(key) && changed.value !== undefined) yield [key, changed.value];
  }

  range(from: K, to: K): Array<[K, V]> {
    const found: Array<[K, V]> = [];
    for (const entry of this.all()) if (!(entry[0] < from) && !(to < entry[0])) found.push(entry);
    return found.sort((a, b) => (a[0] < b[0] ? -1 : b[0] < a[0] ? 1 : 0));
  }

  onRestored(listener: () => void): void {
    this.listeners.push(listener);
  }

  takeChanges(checkpoint = 0): OutgoingRecord[] {
    if (this.dirty.size === 0) return [];
    const changed = this.dirty;
    this.dirty = new Set();
    const records: OutgoingRecord[] = [];
    for (const key of changed) {
      const entry = this.unwritten.get(key)!;
      entry.checkpoint = checkpoint;
      let valueBytes: Buffer | string | null = null;
      if (entry.value !== undefined) {
        try {
          valueBytes = this.serdes.value.serialize(entry.value);
        } catch (err) {
          throw new StoreError(`store ${this.name}: the value of key ${String(key)} does not serialize with ${this.serdes.value.name}: ${(err as Error).message}`, { cause: err });
        }
      }
      const keyBytes = this.serdes.key.serialize(key) ?? '';
      checkKey(this.copy.name, keyBytes); // the store lives on LMDB: a key it cannot hold fails now, not at the write after the commit
      records.push({ key: keyBytes, value: valueBytes });
    }
    return records;
  }

  /**
   * The local copy now holds the changes of checkpoints up to `checkpoint`: their entries are
   * no longer needed in memory (they stay cached, and may be evicted).
   */
  persisted(checkpoint: number): void {
    for (const [key, entry] of this.unwritten) {
      if (entry.checkpoint < 0 || entry.checkpoint > checkpoint) continue;
      this.unwritten.delete(key);
      if (entry.value !== undefined) this.remember(key, entry.value);
    }
  }

  /** Applies one changelog record while restoring: decoded (a record that does not decode fails the restore), then written to LMDB. */
  restore(record: LogRecord): void {
    let value: V | undefined;
    try {
      this.serdes.key.deserialize(record.key);
      value = record.value === null ? undefined : this.serdes.value.deserialize(record.value);
    } catch (err) {
      throw new RestoreError(this.name, record, err);
    }
    if (!record.key) return;
    this.restoring.push([record.key, value === undefined ? null : record.value]);
    if (this.restoring.length >= RESTORE_BATCH) this.writeRestored();
  }

  /** Waits for the restored records to be on LMDB, and counts the keys. */
  async settle(): Promise<void> {
    this.writeRestored();
    await this.restoreWrites;
    this.keys = this.copy.entries();
  }

  rewrite(key: Buffer): void {
    let decoded: K;
    try {
      decoded = this.serdes.key.deserialize(key);
    } catch {
      return; // not a key of this store's serde (a foreign writer's): nothing of ours to protect
    }
    const value = this.get(decoded);
    this.change(decoded, value);
  }

  clear(): void {
    this.unwritten.clear();
    this.cache.clear();
    this.dirty.clear();
    this.restoring = [];
    this.keys = 0;
  }

  restored(): void {
    for (const listener of this.listeners) listener();
  }

  private writeRestored(): void {
    if (this.restoring.length === 0) return;
    const batch = this.restoring;
    this.restoring = [];
    this.restoreWrites = Promise.all([this.restoreWrites, this.copy.apply(batch)]);
  }

  private change(key: K, value: V | undefined): void {
    this.cache.delete(key);
    const entry = this.unwritten.get(key);
    if (entry) {
      entry.value = value;
      entry.checkpoint = -1;
    } else {
      this.unwritten.set(key, { value, checkpoint: -1 });
      if (this.unwritten.size > this.budget.maxKeys) {
        throw new StoreBudgetError(this.name, this.budget.maxKeys, `entries changed and not yet on its local copy (commits lag behind, or its local copy is no longer written)`);
      }
    }
    this.dirty.add(key);
  }

  private remember(key: K, value: V): void {
    this.cache.set(key, value);
    // Evict the least recently used, never the entry just read (its caller may change it in place and touch it).
    for (const evicted of this.cache.keys()) {
      if (this.cache.size <= this.budget.cacheKeys) break;
      this.cache.delete(evicted);
    }
  }

  private read(key: K): V | undefined {
    const keyBytes = this.serdes.key.serialize(key) ?? '';
    const stored = this.copy.db.get(typeof keyBytes === 'string' ? Buffer.from(keyBytes) : keyBytes);
    return stored === undefined ? undefined : this.decodeValue(key, stored);
  }

  private decodeKey(bytes: Buffer): K {
    try {
      return this.serdes.key.deserialize(bytes);
    } catch (err) {
      throw this.undecodable(err);
    }
  }

  private decodeValue(key: K, bytes: Buffer): V {
    try {
      return this.serdes.value.deserialize(bytes);
    } catch (err) {
      throw this.undecodable(err, key);
    }
  }

  /** An entry of the copy does not decode: the copy is no longer trusted (the next restore is a full one). */
  private undecodable(err: unknown, key?: K): StoreError {
    void this.copy.forget().catch(() => undefined);
    return new StoreError(`store ${this.name}: an entry of its local copy${key === undefined ? '' : ` (key ${String(key)})`} does not decode: ${(err as Error).message}; the copy is dropped, the next restore reads the changelog`, { cause: err });
  }
}
