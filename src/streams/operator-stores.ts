import { ConfigError } from '../errors.js';
import type { LoggedKeyValueStore } from '../state/logged-store.js';
import type { MemoryWindowStore } from '../state/memory-window-store.js';
import type { StoreOptions } from '../state/partition-state.js';
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
