import type { MemoryKeyValueStore } from './memory-key-value-store.js';
import { MemoryKeyValueStore as Store } from './memory-key-value-store.js';
import type { StoreOptions } from './partition-state.js';
import { jsonKeys, structuredValues } from './store-serdes.js';
import type { Serde } from '../serdes/serde.js';

/**
 * Where a stateful operator gets its stores: the partition's {@link PartitionState} inside a
 * processor (logged, restored), or {@link unloggedStores} in plain RxJS and tests.
 */
export interface StoreProvider {
  keyValueStore<K, V>(name: string, options?: StoreOptions<K, V>): MemoryKeyValueStore<K, V>;
}

/**
 * Stores that live only in memory, with no changelog: what an operator uses outside a
 * processor (plain RxJS, marble tests). A fresh provider per subscription.
 *
 * @example
 * const stores = unloggedStores();
 * stores.keyValueStore<string, number>('counts').put('a', 1);
 */
export function unloggedStores(): StoreProvider {
  const stores = new Map<string, MemoryKeyValueStore<unknown, unknown>>();
  return {
    keyValueStore<K, V>(name: string, options: StoreOptions<K, V> = {}) {
      let store = stores.get(name) as MemoryKeyValueStore<K, V> | undefined;
      if (!store) {
        store = new Store<K, V>(name, { key: options.key ?? (jsonKeys as Serde<K>), value: options.value ?? (structuredValues as Serde<V>) }, false);
        stores.set(name, store as MemoryKeyValueStore<unknown, unknown>);
      }
      return store;
    },
  };
}
