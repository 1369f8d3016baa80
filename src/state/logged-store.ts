import type { LogRecord, OutgoingRecord } from '../connectors/log.js';

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
   * deleted key. Values are serialized now, so later changes do not reach them.
   */
  takeChanges(): OutgoingRecord[];
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
}
