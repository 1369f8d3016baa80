// tributary's state: stores, their changelogs, restore. Re-exports only.
export type { KeyValueStore } from './key-value-store.js';
export type { WindowStore } from './window-store.js';
export type { StoreBackend } from './lmdb-state-dir.js';
export type { StoreOptions, StorePartitioning, StateMark, RestoreSummary } from './partition-state.js';
export { unloggedStores, type StoreProvider } from './store-provider.js';
export { changelogTopic } from './changelog.js';
export { RestoreError, StoreError, StoreBudgetError, ChangelogTopicError } from './errors.js';
export { TableKeyingError } from './source-table.js';
export type { StoreBudget } from './store-budget.js';
