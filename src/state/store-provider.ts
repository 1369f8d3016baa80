import type { Serde } from '../serdes/serde.js';
import type { LoggedKeyValueStore } from './logged-store.js';
import { MemoryKeyValueStore } from './memory-key-value-store.js';
import { MemoryWindowStore } from './memory-window-store.js';
import type { StoreOptions } from './partition-state.js';
import type { TableSource, TableView } from './source-table.js';
import { jsonKeys, structuredValues } from './store-serdes.js';

/**
 * Where a stateful operator gets its stores: the partition's {@link PartitionState} inside a
 * processor (logged, restored), or {@link unloggedStores} in plain RxJS and tests.
 */
export interface StoreProvider {
  keyValueStore<K, V>(name: string, options?: StoreOptions<K, V>): LoggedKeyValueStore<K, V>;
  windowStore<K, V>(name: string, options?: Omit<StoreOptions<K, V>, 'key'>): MemoryWindowStore<K, V>;
  /** A table read from a topic that the processor names in its `tables` option (undefined elsewhere). */
  table?<K, V>(source: TableSource<K, V>): TableView<K, V> | undefined;
}

/**
 * Stores that live only in memory, with no changelog and no change tracking: what an operator
 * uses outside a processor (plain RxJS, marble tests). A fresh provider per subscription.
 *
 * @example
 * const stores = unloggedStores();
 * stores.keyValueStore<string, number>('counts').put('a', 1);
 */
export function unloggedStores(): StoreProvider {
  const serdes = <K, V>(options: StoreOptions<K, V>) => ({ key: options.key ?? (jsonKeys as Serde<K>), value: options.value ?? (structuredValues as Serde<V>), view: options.view });
  return {
    keyValueStore: <K, V>(name: string, options: StoreOptions<K, V> = {}) => new MemoryKeyValueStore<K, V>(name, serdes(options), false),
    windowStore: <K, V>(name: string, options: Omit<StoreOptions<K, V>, 'key'> = {}) => new MemoryWindowStore<K, V>(name, serdes<K, V>(options), false),
  };
}
