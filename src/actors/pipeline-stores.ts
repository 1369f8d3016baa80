import type { PartitionState, RestoreSummary, StateMark } from '../state/partition-state.js';
import { MemoryKeyValueStore } from '../state/memory-key-value-store.js';
import { LmdbKeyValueStore } from '../state/lmdb-key-value-store.js';
import { MemoryWindowStore } from '../state/memory-window-store.js';
import type { OffsetTracker } from './offset-tracker.js';
import type { PartitionTime } from './partition-time.js';
import type { ResumePoint, TimeState } from './resume-point.js';
import { StateCheckpoints } from './state-checkpoints.js';
import { KEYS_PER_QUERY, StoreKeyPartitioning, type KeyMismatch } from './store-key-partitioning.js';
import type { TurnCycle } from './turn-cycle.js';
import { scanStore, type ResolvedScan, type ScanRow } from '../processor/store-scan.js';

/** A partition's answer to an interactive query: whether the key was found, and its value. */
export interface PartitionQueryAnswer {
  readonly found: boolean;
  readonly value: unknown;
  /** The partition has not yet replayed up to where its last run had got: its state is being rebuilt. */
  readonly stale: boolean;
}

/** What a partition pipeline's {@link PipelineStores} work with. */
export interface PipelineStoresOptions {
  /** The partition's stores and their changelogs (it may have none). */
  readonly state: PartitionState;
  /** The committed offset the pipeline starts at, with the event-time state and the changelog positions there. */
  readonly resume: ResumePoint;
  readonly tracker: OffsetTracker<number | TimeState>;
  readonly time: PartitionTime;
  readonly turns: TurnCycle;
  /** Whether a batch is being pushed (no checkpoint is taken in the middle of one). */
  readonly inBatch: () => boolean;
  readonly hasFailed: () => boolean;
  /** Resolves when the pipeline fails. */
  readonly failure: Promise<void>;
  /** A changelog write failed for good: the pipeline fails. */
  readonly fail: (err: unknown) => void;
  /** Checks whether the stores' keys follow the input's partitioning (see {@link StoreKeyPartitioning}). */
  readonly keys: StoreKeyPartitioning;
  /** A count that grows whenever the partition changes outside any record (see `PartitionPipeline.changesOutsideRecords`). */
  readonly changesOutsideRecords: () => number;
}

/**
 * A partition pipeline's stores, as the pipeline sees them: restored at its start (claiming the
 * partition first), checkpointed between batches (the changes at the current input offset
 * appended to their changelogs), the resume point a commit may name (with stores, the latest
 * usable checkpoint: {@link StateCheckpoints}), and what interactive queries and gauges read from them (and from
 * `ctx.queryable` state). Restore and checkpoint themselves are `state/partition-state.ts`'s.
 */
export class PipelineStores {
  /** `ctx.queryable` state by name: answers queries before any store of that name. */
  readonly queryables = new Map<string, (key: string) => unknown>();
  private readonly checkpointListeners = new Set<() => void>();
  // The checkpoints written since the restore.
  private checkpoints: StateCheckpoints | undefined;
  // changesOutsideRecords() when the state of the last checkpoint written was taken.
  private outsideAtCheckpoint = 0;

  constructor(private readonly options: PipelineStoresOptions) {}

  /** Calls `listener` before each checkpoint (`emit: 'on-commit'` operators emit then); returns its removal. */
  onCheckpoint(listener: () => void): () => void {
    this.checkpointListeners.add(listener);
    return () => this.checkpointListeners.delete(listener);
  }

  /**
   * Where a restart should resume, and in which state: the safe commit point, the watermark
   * just before it, and the offset up to which every record was complete. With stores, the
   * latest checkpoint whose records are all complete and that no hold keeps back (see
   * {@link StateCheckpoints}); before the restore, the point it started from.
   */
  resumePoint(): ResumePoint {
    const { tracker, resume } = this.options;
    if (!this.options.state.hasStores) {
      const offset = tracker.commitPoint();
      const before = offset >= tracker.nextOffset ? undefined : tracker.stateBefore(offset);
      const time = before === undefined ? this.options.time.snapshot() : typeof before === 'number' ? { watermark: before } : before;
      return { offset, time, replayUntil: Math.max(offset, tracker.firstIncomplete(), resume.replayUntil) };
    }
    const replayUntil = Math.max(tracker.firstIncomplete(), resume.replayUntil);
    if (!this.checkpoints) return resume;
    return this.checkpoints.resumePoint(Math.min(tracker.commitPoint(), tracker.firstIncomplete()), replayUntil);
  }

  /**
   * Restores the stores the pipeline declared to the state at the resume point, claiming the
   * partition for a new epoch first (`claim` commits the resume point with it, strictly).
   * Undefined when the pipeline has no stores.
   */
  async restore(claim: (point: ResumePoint) => Promise<void>): Promise<RestoreSummary | undefined> {
    const { state, resume } = this.options;
    if (!state.hasStores) return undefined;
    // Stores the topology no longer declares keep their committed marks.
    const summary = await state.restore(resume.state, (mark) =>
      claim({ ...resume, state: { epoch: mark.epoch, positions: { ...resume.state?.positions, ...mark.positions }, owners: { ...resume.state?.owners, ...mark.owners } } }),
    );
    this.checkpoints = new StateCheckpoints(resume, state.mark());
    this.options.keys.check(state.stores);
    return summary;
  }

  /**
   * Writes a checkpoint of the stores: lets `on-commit` operators emit, writes what they
   * emitted, takes every store's changes at the current input offset and appends them to the
   * changelogs. Resolves when the changes and every result written before them are
   * acknowledged; {@link resumePoint} may then name it. Nothing to do without stores.
   */
  async checkpoint(): Promise<void> {
    const { state, tracker, time, turns } = this.options;
    if (!state.hasStores || this.options.hasFailed() || this.options.inBatch()) return;
    for (const listener of this.checkpointListeners) listener();
    turns.close();
    const offset = tracker.nextOffset;
    const snapshot = time.snapshot();
    const outside = this.options.changesOutsideRecords();
    // User code holding an offset (`hold()`) keeps an earlier record: its state is
    // not in the changelogs, so the stores' state at this offset cannot be resumed from.
    const hold = tracker.lowestHold();
    const usable = hold === undefined || hold >= offset;
    const results = turns.writesInFlight;
    let mark: StateMark;
    try {
      mark = await state.checkpoint();
    } catch (err) {
      // A changelog write failed for good: the state past the last checkpoint is not durable. Fail; the restart restores and replays.
      this.options.fail(err);
      return;
    }
    // A write that never settles must not hold every later commit of the processor: once the
    // pipeline has failed (the watchdog fails a stalled one), stop waiting.
    await Promise.race([Promise.allSettled(results), this.options.failure]);
    if (this.options.hasFailed()) return;
    // Only a checkpoint a commit may name covers the changes outside records before it: with a
    // hold, the commit names an older one, so those changes still count (exactly-once then puts
    // the commit off until the hold is released, rather than commit results a replay repeats).
    if (usable) {
      this.checkpoints?.add({ offset, time: snapshot, mark });
      this.outsideAtCheckpoint = outside;
    }
    this.options.keys.check(state.stores);
  }

  /**
   * Whether the partition changed outside any record (its time moved between batches, or a turn
   * without a record wrote results) since the last checkpoint took its state: a replay from that
   * checkpoint cannot reproduce such a change. False without stores (there is no checkpoint to
   * take again). Counted from the last checkpoint a commit may name (one taken under a hold is not).
   */
  get changedOutsideRecordsSinceCheckpoint(): boolean {
    return this.options.state.hasStores && this.options.changesOutsideRecords() !== this.outsideAtCheckpoint;
  }

  /**
   * Whether the store `name` was found not partitioned by its key, after checking up to
   * `budget` more of its keys now (a query asks before it answers).
   */
  keyMismatch(name: string, budget = KEYS_PER_QUERY): KeyMismatch | undefined {
    if (this.queryables.has(name)) return undefined; // ctx.queryable state: its keys are not ours to see
    this.options.keys.check(this.options.state.stores, budget, name);
    return this.options.keys.mismatch(name);
  }

  /** Whether the store `name` was declared `partitioning: 'per-partition'` (its queries are refused, evidence or not). */
  isPerPartition(name: string): boolean {
    return this.options.keys.isPerPartition(name);
  }

  /** A range or full scan of the store `name` ({@link scanStore}: undefined when there is none). */
  scan(name: string, scan: ResolvedScan): ScanRow[] | undefined {
    return scanStore(this.options.state.stores, this.queryables, name, scan);
  }

  /**
   * Answers an interactive query from the `ctx.queryable` state named `name` if the pipeline
   * registered one, else from the store of that name. A key-value store answers with the key's
   * value (as its query view), a window store with the key's open windows,
   * `[{ windowStart, value }]` by start.
   */
  query(name: string, key: string, stale: boolean): PartitionQueryAnswer {
    const lookup = this.queryables.get(name);
    if (lookup) {
      const value = lookup(key);
      return { found: value !== undefined, value, stale };
    }
    const store = this.options.state.stores.get(name);
    if (store instanceof MemoryKeyValueStore || store instanceof LmdbKeyValueStore) {
      const value: unknown = store.get(key);
      return { found: value !== undefined, value: value === undefined ? undefined : store.queryView(value), stale };
    }
    if (store instanceof MemoryWindowStore) {
      // Every window of the key, by start: [{ windowStart, value }].
      const windows: Array<{ windowStart: number; value: unknown }> = [];
      for (const start of [...store.starts()].sort((a, b) => a - b)) {
        const value: unknown = store.get(start, key);
        if (value !== undefined) windows.push({ windowStart: start, value: store.queryView(value) });
      }
      return { found: windows.length > 0, value: windows.length > 0 ? windows : undefined, stale };
    }
    return { found: false, value: undefined, stale };
  }

  /** Keys in each store now (window stores: window and key pairs). */
  sizes(): Record<string, number> {
    const sizes: Record<string, number> = {};
    for (const [name, store] of this.options.state.stores) sizes[name] = store.size;
    return sizes;
  }
}
