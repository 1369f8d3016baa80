import { ConfigError, TributaryError } from '../errors.js';
import type { LoggedStore } from '../state/logged-store.js';
import { MemoryKeyValueStore } from '../state/memory-key-value-store.js';
import { LmdbKeyValueStore } from '../state/lmdb-key-value-store.js';
import { MemoryWindowStore } from '../state/memory-window-store.js';

/**
 * A range or full scan of a store, as Kafka Streams' `ReadOnlyKeyValueStore.range(from, to)`
 * and `all()`: every entry whose key is in `[from, to]` (either bound may be left out), sorted
 * by key, at most `limit` of them.
 *
 * @example
 * await app.scan('totals', 'totals', { from: 'customer-1', to: 'customer-3', limit: 100 });
 */
export interface ScanOptions {
  /** Lowest key included. Default: no lower bound. */
  readonly from?: string;
  /** Highest key included. Default: no upper bound. */
  readonly to?: string;
  /** Most rows returned (the lowest keys win). Default 1,000; at most 10,000 (page on with `from`). */
  readonly limit?: number;
}

/** One entry of a scan: a key-value store's key and value, or one window of a window store. */
export interface ScanRow {
  readonly key: unknown;
  readonly value: unknown;
  /** Window stores only: the window's start (epoch ms). */
  readonly windowStart?: number;
}

/** {@link ScanOptions} checked, with the default limit. */
export interface ResolvedScan {
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly limit: number;
}

export const DEFAULT_SCAN_LIMIT = 1_000;
export const MAX_SCAN_LIMIT = 10_000;

/** Checks a scan's options; a bad one is a {@link ConfigError} naming it. */
export function resolveScan(options: ScanOptions = {}): ResolvedScan {
  const { from, to, limit = DEFAULT_SCAN_LIMIT } = options;
  if (from !== undefined && typeof from !== 'string') throw new ConfigError('scan.from', 'must be a string');
  if (to !== undefined && typeof to !== 'string') throw new ConfigError('scan.to', 'must be a string');
  if (!Number.isSafeInteger(limit) || limit <= 0 || limit > MAX_SCAN_LIMIT) {
    throw new ConfigError('scan.limit', `must be an integer in [1, ${MAX_SCAN_LIMIT}], got ${String(limit)}`);
  }
  return { from, to, limit };
}

/**
 * Keys in one order whatever their type: numbers before strings, each by `<`; anything else
 * (a composite key) by its JSON.
 */
export function compareKeys(a: unknown, b: unknown): number {
  const ta = typeof a === 'number' ? 0 : typeof a === 'string' ? 1 : 2;
  const tb = typeof b === 'number' ? 0 : typeof b === 'string' ? 1 : 2;
  if (ta !== tb) return ta - tb;
  const x = ta === 2 ? JSON.stringify(a) : (a as number | string);
  const y = tb === 2 ? JSON.stringify(b) : (b as number | string);
  return x < y ? -1 : y < x ? 1 : 0;
}

/** Rows by key, then by window start. */
export function compareRows(a: ScanRow, b: ScanRow): number {
  return compareKeys(a.key, b.key) || (a.windowStart ?? 0) - (b.windowStart ?? 0);
}

function inRange(key: unknown, scan: ResolvedScan): boolean {
  // Bounds are strings (what a query can send); a key of another type is compared as its order says.
  return (scan.from === undefined || compareKeys(key, scan.from) >= 0) && (scan.to === undefined || compareKeys(key, scan.to) <= 0);
}

/**
 * Scans one partition's store `name`: its entries in the scan's range, sorted, at most
 * `limit + 1` (one more than asked tells the merge that this partition had more).
 * Throws a {@link TributaryError} when the state cannot be scanned (a `ctx.queryable` lookup
 * answers point queries only); returns undefined when the partition has no store of that name.
 */
export function scanStore(stores: ReadonlyMap<string, LoggedStore>, lookups: { has(name: string): boolean }, name: string, scan: ResolvedScan): ScanRow[] | undefined {
  const store = stores.get(name);
  if (store === undefined && lookups.has(name)) {
    throw new TributaryError(`state '${name}' is a ctx.queryable lookup: it answers point queries (app.query), not scans; keep it in a store to scan it`);
  }
  const rows: ScanRow[] = [];
  if (store instanceof MemoryKeyValueStore || store instanceof LmdbKeyValueStore) {
    for (const [key, value] of store.all()) if (inRange(key, scan)) rows.push({ key, value: store.queryView(value) });
  } else if (store instanceof MemoryWindowStore) {
    for (const start of store.starts()) {
      for (const [key, value] of store.window(start) ?? []) if (inRange(key, scan)) rows.push({ key, value: store.queryView(value), windowStart: start });
    }
  } else {
    return undefined;
  }
  rows.sort(compareRows);
  if (rows.length > scan.limit + 1) rows.length = scan.limit + 1;
  return rows;
}

/** What one node answers to a scan: each partition it runs, and the source topics' partition counts as it knows them. */
export interface PartitionScans {
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly stale: boolean; readonly rows: readonly ScanRow[] }>;
  readonly partitionCounts: Readonly<Record<string, number>>;
}

/**
 * The answer of `app.scan(processor, store, options)`: the rows of every partition, merged by
 * key.
 *
 * @example
 * const { rows, truncated } = await app.scan('totals', 'totals', { from: 'c-1', to: 'c-9' });
 */
export interface StateScanAnswer {
  /** Sorted by key (then window start), at most `limit`; each names its partition. */
  readonly rows: ReadonlyArray<ScanRow & { readonly topic: string; readonly partition: number }>;
  /** More rows were in range than `limit`: scan on from the last key. */
  readonly truncated: boolean;
  /** Some partition was still replaying from its committed offset: its values may lag behind. */
  readonly stale: boolean;
  /** Partitions that answered (all of the processor's source partitions). */
  readonly partitions: number;
  /** The nodes that answered (empty without a cluster). */
  readonly nodes: readonly string[];
}

/**
 * Merges the nodes' answers: each source partition counted once (during a rebalance two nodes
 * may both still run one: a fresh answer wins over a stale one), rows by key, at most `limit`.
 * `missing` lists the partitions no node answered for (`topic-partition`).
 */
export function mergeScans(answers: ReadonlyArray<{ readonly node: string | undefined; readonly scans: PartitionScans }>, scan: ResolvedScan): { answer: StateScanAnswer; missing: string[] } {
  const counts = new Map<string, number>();
  const chosen = new Map<string, { node: string | undefined; part: PartitionScans['partitions'][number] }>();
  for (const { node, scans } of answers) {
    for (const [topic, count] of Object.entries(scans.partitionCounts)) counts.set(topic, Math.max(count, counts.get(topic) ?? 0));
    for (const part of scans.partitions) {
      const id = `${part.topic}-${part.partition}`;
      const seen = chosen.get(id);
      if (seen === undefined || (seen.part.stale && !part.stale)) chosen.set(id, { node, part });
    }
  }
  const missing: string[] = [];
  for (const [topic, count] of counts) for (let p = 0; p < count; p++) if (!chosen.has(`${topic}-${p}`)) missing.push(`${topic}-${p}`);
  const rows: Array<ScanRow & { topic: string; partition: number }> = [];
  const nodes = new Set<string>();
  let stale = false;
  for (const { node, part } of chosen.values()) {
    if (node !== undefined) nodes.add(node);
    stale ||= part.stale;
    for (const row of part.rows) rows.push({ ...row, topic: part.topic, partition: part.partition });
  }
  rows.sort(compareRows);
  const truncated = rows.length > scan.limit;
  if (truncated) rows.length = scan.limit;
  return { answer: { rows, truncated, stale, partitions: chosen.size, nodes: [...nodes].sort() }, missing };
}
