import { ConfigError } from '../errors.js';

/**
 * How much of a store may live in memory, per store and partition (each partition's store has
 * its own). Per store rather than per processor: a store's state is the same wherever its
 * partition runs, so a budget per store fails (or spills) the same way on every node, whatever
 * else the node was given; a processor-wide sum would depend on the assignment.
 *
 * - `maxKeys` (default 5,000,000): most keys an in-memory store holds (a window store: entries,
 *   window × key). Beyond it the partition fails with a {@link StoreBudgetError}. For a store on
 *   LMDB it bounds the entries changed and not yet on its local copy (they wait for a commit).
 * - `cacheKeys` (default 100,000): most entries a store on LMDB keeps cached in memory besides
 *   those; beyond it the least recently used are evicted, and read back from LMDB when needed.
 *
 * @example
 * defineProcessor({ id: 'totals', stores: 'lmdb', storeBudget: { cacheKeys: 50_000 }, ... });
 */
export interface StoreBudget {
  readonly maxKeys: number;
  readonly cacheKeys: number;
}

export const DEFAULT_STORE_BUDGET: StoreBudget = Object.freeze({ maxKeys: 5_000_000, cacheKeys: 100_000 });

/** No budget: stores outside a processor (plain RxJS, marble tests). */
export const UNBOUNDED_STORE_BUDGET: StoreBudget = Object.freeze({ maxKeys: Infinity, cacheKeys: Infinity });

/** Validates a processor's `storeBudget` (setting: its path, for the error) and applies the defaults. */
export function resolveStoreBudget(setting: string, budget: Partial<StoreBudget> | undefined): StoreBudget {
  if (budget === undefined) return DEFAULT_STORE_BUDGET;
  if (typeof budget !== 'object' || budget === null) throw new ConfigError(setting, 'must be an object { maxKeys?, cacheKeys? }');
  const count = (name: keyof StoreBudget, min: number): number => {
    const value = budget[name];
    if (value === undefined) return DEFAULT_STORE_BUDGET[name];
    if (value !== Infinity && (!Number.isSafeInteger(value) || value < min)) throw new ConfigError(`${setting}.${name}`, `must be an integer of at least ${min} (or Infinity), got ${String(value)}`);
    return value;
  };
  for (const name of Object.keys(budget)) if (name !== 'maxKeys' && name !== 'cacheKeys') throw new ConfigError(`${setting}.${name}`, 'unknown setting (maxKeys, cacheKeys)');
  return { maxKeys: count('maxKeys', 1), cacheKeys: count('cacheKeys', 100) };
}
