import { deserialize, serialize } from 'node:v8';
import type { LogRecord, OutgoingRecord } from '../connectors/log.js';
import { RestoreError, StoreBudgetError, StoreError } from './errors.js';
import type { LoggedStore } from './logged-store.js';
import type { StoreSerdes } from './memory-key-value-store.js';
import { UNBOUNDED_STORE_BUDGET } from './store-budget.js';
import { WriteSampler, type WriteCheck } from './write-sampler.js';
import { fastSerialize } from './v8-fast-values.js';
import type { WindowStore } from './window-store.js';

/**
 * The in-memory window store: a `Map` of windows by start, each a `Map` of keys (insertion
 * ordered), and the (window, key) pairs changed since the last checkpoint. A changelog record's
 * key is `[start, key]` (JSON, the key through the store's key serde); its value carries the
 * entry's first-seen number, so a restored window fires its keys in the original order.
 *
 * @example
 * const store = new MemoryWindowStore<string, number>('views', { key: jsonKeys, value: structuredValues });
 * store.put(0, 'a', 1);
 * store.takeChanges(); // [{ key: '[0,"a"]', value: ... }]
 */
export class MemoryWindowStore<K, V> implements WindowStore<K, V>, LoggedStore {
  private readonly windows = new Map<number, Map<K, V>>();
  private readonly seqs = new Map<number, Map<K, number>>();
  private dirty = new Map<number, Set<K>>();
  private seq = 0;
  private count = 0;
  private readonly listeners: Array<() => void> = [];
  private sampler: WriteSampler | undefined;

  constructor(
    readonly name: string,
    private readonly serdes: StoreSerdes<K, V>,
    private readonly logged = true,
    /** Its memory budget in entries (window × key): one more fails with a {@link StoreBudgetError}. */
    private readonly maxKeys = UNBOUNDED_STORE_BUDGET.maxKeys,
  ) {}

  get size(): number {
    return this.count;
  }

  /** What an interactive query shows of `value` (the store's `view`). */
  queryView(value: V): unknown {
    return this.serdes.view ? this.serdes.view(value) : value;
  }

  get(start: number, key: K): V | undefined {
    return this.windows.get(start)?.get(key);
  }

  /** Calls `check` with the key of sampled writes before they happen (see `WriteSampler`); a throw refuses the write. */
  sampleWrites(check: WriteCheck): void {
    this.sampler = new WriteSampler(check);
  }

  put(start: number, key: K, value: V): void {
    if (this.sampler !== undefined) this.sampler.wrote(key);
    let window = this.windows.get(start);
    let seqs = this.seqs.get(start);
    if (window === undefined || seqs === undefined) {
      window = new Map();
      seqs = new Map();
      this.windows.set(start, window);
      this.seqs.set(start, seqs);
    }
    if (!window.has(key)) {
      if (this.count >= this.maxKeys) throw new StoreBudgetError(this.name, this.maxKeys, 'entries');
      this.count++;
      seqs.set(key, this.seq++);
    }
    window.set(key, value);
    this.mark(start, key);
  }

  /** Marks an entry changed whose value was changed in place. */
  touch(start: number, key: K): void {
    if (this.sampler !== undefined) this.sampler.wrote(key);
    this.mark(start, key);
  }

  window(start: number): ReadonlyMap<K, V> | undefined {
    return this.windows.get(start);
  }

  starts(): IterableIterator<number> {
    return this.windows.keys();
  }

  deleteWindow(start: number): void {
    const window = this.windows.get(start);
    if (window === undefined) return;
    this.windows.delete(start);
    this.seqs.delete(start);
    this.count -= window.size;
    if (!this.logged) return;
    for (const key of window.keys()) this.mark(start, key);
  }

  onRestored(listener: () => void): void {
    this.listeners.push(listener);
  }

  private mark(start: number, key: K): void {
    if (!this.logged) return;
    let keys = this.dirty.get(start);
    if (keys === undefined) this.dirty.set(start, (keys = new Set()));
    keys.add(key);
  }

  takeChanges(): OutgoingRecord[] {
    if (this.dirty.size === 0) return [];
    const changed = this.dirty;
    this.dirty = new Map();
    const records: OutgoingRecord[] = [];
    for (const [start, keys] of changed) {
      const window = this.windows.get(start);
      const seqs = this.seqs.get(start);
      for (const key of keys) {
        const keyBytes = `[${start},${bytesText(this.serdes.key.serialize(key))}]`;
        const value = window?.get(key);
        if (value === undefined) {
          records.push({ key: keyBytes, value: null });
          continue;
        }
        let valueBytes: Buffer | string | null;
        try {
          valueBytes = this.serdes.value.serialize(value);
        } catch (err) {
          throw new StoreError(`store ${this.name}: the value of window ${start} key ${String(key)} does not serialize with ${this.serdes.value.name}: ${(err as Error).message}`, { cause: err });
        }
        const entry = { seq: seqs?.get(key) ?? 0, value: valueBytes };
        records.push({ key: keyBytes, value: fastSerialize(entry) ?? serialize(entry) });
      }
    }
    return records;
  }

  restore(record: LogRecord): void {
    let start: number;
    let key: K;
    try {
      const [s, k] = JSON.parse((record.key ?? Buffer.alloc(0)).toString()) as [number, unknown];
      if (typeof s !== 'number') throw new Error('the window start is not a number');
      start = s;
      key = this.serdes.key.deserialize(Buffer.from(JSON.stringify(k)));
      if (record.value === null) {
        const window = this.windows.get(start);
        if (window?.delete(key)) {
          this.count--;
          this.seqs.get(start)?.delete(key);
          if (window.size === 0) {
            this.windows.delete(start);
            this.seqs.delete(start);
          }
        }
        return;
      }
      const { seq, value } = deserialize(record.value) as { seq: number; value: Uint8Array | string | null };
      const decoded = this.serdes.value.deserialize(value === null ? null : Buffer.from(value as Uint8Array));
      let window = this.windows.get(start);
      let seqs = this.seqs.get(start);
      if (window === undefined || seqs === undefined) {
        window = new Map();
        seqs = new Map();
        this.windows.set(start, window);
        this.seqs.set(start, seqs);
      }
      if (!window.has(key)) this.count++;
      window.set(key, decoded);
      if (this.count > this.maxKeys) throw new StoreBudgetError(this.name, this.maxKeys, 'entries');
      seqs.set(key, seq);
      if (seq >= this.seq) this.seq = seq + 1;
    } catch (err) {
      if (err instanceof RestoreError || err instanceof StoreBudgetError) throw err;
      throw new RestoreError(this.name, record, err);
    }
  }

  rewrite(key: Buffer): void {
    try {
      const [start, k] = JSON.parse(key.toString()) as [number, unknown];
      if (typeof start === 'number') this.mark(start, this.serdes.key.deserialize(Buffer.from(JSON.stringify(k))));
    } catch {
      // not one of this store's keys
    }
  }

  clear(): void {
    this.windows.clear();
    this.seqs.clear();
    this.dirty.clear();
    this.count = 0;
    this.seq = 0;
  }

  restored(): void {
    // Keys of each window back in first-seen order (the changelog has them in last-written order).
    for (const [start, window] of this.windows) {
      const seqs = this.seqs.get(start)!;
      const ordered = [...window].sort((a, b) => (seqs.get(a[0]) ?? 0) - (seqs.get(b[0]) ?? 0));
      window.clear();
      for (const [k, v] of ordered) window.set(k, v);
    }
    for (const listener of this.listeners) listener();
  }
}

function bytesText(bytes: Buffer | string | null): string {
  if (bytes === null) return 'null';
  return typeof bytes === 'string' ? bytes : bytes.toString();
}
