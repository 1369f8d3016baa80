import type { LogRecord, OutgoingRecord } from '../connectors/log.js';
import type { KeyValueStore } from './key-value-store.js';
import type { WriteCheck } from './write-sampler.js';

/**
 * What the partition's state manager needs from every store: its changes since the last
 * checkpoint as changelog records, and a way back from them. Internal: users see the typed
 * store interfaces ({@link KeyValueStore}).
 */
export interface LoggedStore {
  readonly name: string;
  /**
   * The changes since the last call as changelog records, one per changed key (the last write
   * wins: a hot key costs one record per commit interval), a tombstone (null value) per
   * deleted key. Values are serialized now, so later changes do not reach them. `checkpoint`
   * numbers the checkpoint taking them (for {@link persisted}).
   */
  takeChanges(checkpoint?: number): OutgoingRecord[];
  /** A store reading through to its local copy: the copy now holds the changes taken by checkpoints up to `checkpoint`. */
  persisted?(checkpoint: number): void;
  /** Applies one changelog record while restoring (a tombstone deletes). Throws when it does not decode. */
  restore(record: LogRecord): void;
  /**
   * The key (changelog bytes) must be written again at the next checkpoint with whatever value
   * the store holds then (a tombstone if none): someone else's record for it sits later in the
   * changelog, and compaction would keep theirs.
   */
  rewrite(key: Buffer): void;
  /** Drops every entry without logging anything (a local copy that failed to load, before the changelog restore). */
  clear(): void;
  /** Restoring is over: the store may build what it derives from its contents. */
  restored(): void;
  /** Keys held. */
  readonly size: number;
  /**
   * Calls `check` with the key of sampled writes (`put`, `touch`) before they happen
   * (see `WriteSampler`); a throw refuses the write. Stores that operators do not write have none.
   */
  sampleWrites?(check: WriteCheck): void;
}

/** A key-value store as the partition's state and the operators see it (in memory, or reading through to LMDB). Internal. */
export interface LoggedKeyValueStore<K, V> extends KeyValueStore<K, V>, LoggedStore {
  readonly name: string;
  readonly size: number;
  /** Marks a key changed whose value was changed in place (the operator knows; the store cannot). */
  touch(key: K): void;
  /** Called once the store is restored, before any record reaches the pipeline. */
  onRestored(listener: () => void): void;
  /** What an interactive query shows of `value` (the store's `view`). */
  queryView(value: V): unknown;
}
