import { ConfigError } from '../errors.js';
import type { LoggedKeyValueStore } from '../state/logged-store.js';
import type { MemoryWindowStore } from '../state/memory-window-store.js';
import type { StoreOptions, StorePartitioning } from '../state/partition-state.js';
import { unloggedStores } from '../state/store-provider.js';
import { currentPipelineScope } from './pipeline-scope.js';

/**
 * The name of a stateful operator's store: the `store` option (a non-empty string), or inside a
 * processor `<operator>-<n>` in declaration order, or the operator's name. Internal.
 */
export function operatorStoreName(operator: string, store: string | undefined): string {
  if (store !== undefined && (typeof store !== 'string' || store.length === 0)) {
    throw new ConfigError(`${operator}.store`, 'must be a non-empty string');
  }
  return store ?? currentPipelineScope()?.storeName(operator) ?? operator;
}

/**
 * The option every stateful operator takes on how its state is partitioned.
 *
 * @example
 * tumbling({ size: 60_000, key: () => 'top', aggregate: topN({ n: 10, compare: (a, b) => b.value.views - a.value.views }), partitioning: 'per-partition' });
 */
export interface PartitioningOptions {
  /**
   * `'by-key'` (default): the operator's input must be partitioned by the key it keeps state
   * under (its own record key, or a `repartition({ key })` by that key before it); a record whose
   * state key belongs to another partition fails the processor with a `KeyedUnlikeInputError`
   * (checked on the first 1,024 writes of each store, then 1 in 1,024). `'per-partition'`: each
   * input partition keeps its own state for a key on purpose (a per-partition top-N, a key
   * `() => 'top'`): never refused, but queries of its store are (`app.scan` answers). See
   * {@link StorePartitioning}.
   */
  readonly partitioning?: StorePartitioning;
}

/**
 * The `partitioning` option of a stateful operator, checked: `'by-key'` (the default) or
 * `'per-partition'` (see {@link StorePartitioning}). Internal.
 */
export function storePartitioning(operator: string, partitioning: unknown): StorePartitioning {
  if (partitioning === undefined || partitioning === 'by-key') return 'by-key';
  if (partitioning === 'per-partition') return partitioning;
  throw new ConfigError(`${operator}.partitioning`, `must be 'by-key' (the default: the input is partitioned by the operator's key) or 'per-partition' (state kept per input partition on purpose), got ${JSON.stringify(partitioning)}`);
}

/**
 * Declares a key-value store now, while the pipeline is built (inside a processor: the
 * partition's logged store, which the runtime restores before any record arrives), and returns
 * what each subscription uses: that store, or outside a processor a fresh unlogged one. Internal.
 */
export function declareKeyValueStore<K, V>(name: string, options: StoreOptions<K, V> = {}): () => LoggedKeyValueStore<K, V> {
  const logged = currentPipelineScope()?.stores.keyValueStore<K, V>(name, options);
  return () => logged ?? unloggedStores().keyValueStore<K, V>(name, options);
}

/** {@link declareKeyValueStore} for a window store. Internal. */
export function declareWindowStore<K, V>(name: string, options: Omit<StoreOptions<K, V>, 'key'> = {}): () => MemoryWindowStore<K, V> {
  const logged = currentPipelineScope()?.stores.windowStore<K, V>(name, options);
  return () => logged ?? unloggedStores().windowStore<K, V>(name, options);
}
