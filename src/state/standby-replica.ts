import type { Logger } from 'pino';
import type { LogRecord, OutgoingRecord, PartitionReader, TopicPartition } from '../connectors/log.js';
import { isEpochMarker, markerInfo, ownerReader, type MarkerInfo } from './changelog.js';
import type { LmdbStoreCopy, LocalCopyMeta } from './lmdb-state-dir.js';
import type { StateMark } from './partition-state.js';

/** What a {@link StandbyReplica} needs: the changelog reader, and a store's local copy (undefined for a store kept in memory, which has none). */
export interface StandbyReplicaOptions {
  /** The input partition whose state this replica follows. */
  readonly topicPartition: TopicPartition;
  readonly reader: PartitionReader;
  /** The local copy of a store (by name) on this node, undefined for a store not on `'lmdb'`. */
  readonly copyOf: (store: string) => LmdbStoreCopy | undefined;
  readonly logger: Logger;
}

/** How a store's copy was brought to a committed mark. */
export type StandbyCatchUp = 'current' | 'tail' | 'new-owner' | 'rebuild';

/** One store of a standby, after its last catch-up. */
export interface StandbyStoreStatus {
  readonly store: string;
  /** The committed position its copy holds the state of. */
  readonly position: number;
  /** Changelog records past the copy (its end offset − position): what a takeover here reads. */
  readonly lag: number;
  readonly last: StandbyCatchUp;
}

/** One catch-up of a replica. */
export interface StandbyStep {
  /** Changelog records read. */
  readonly records: number;
  /** Records written to the copies (applied; deletes included). */
  readonly applied: number;
  /** Summed over the stores: records past the copies. */
  readonly lag: number;
  readonly stores: readonly StandbyStoreStatus[];
}

/** Records a copy takes in one LMDB transaction while it catches up (as a read-through restore). */
const CHUNK = 10_000;

/**
 * A warm standby of one partition's state on a node that does not own it: it keeps the local
 * copies (LMDB) of the partition's stores at the group's last committed mark, so that a takeover
 * on this node restores only the changelog past them — by the unchanged rule of
 * `PartitionState.restore` (a copy is used only when its position is at or below the committed
 * one and its owner is the committed owner). The copy's meta means exactly what an owner's does:
 * *the copy holds the state a restore of `[0, position)` for the mark `(position, owner)` yields*.
 *
 * {@link catchUp} brings each store's copy to the committed mark `(M, O)`, reading the changelog
 * with the restore rule (never past `M`: what lies past it is not committed, and may never be):
 * - copy at `(P, O)`, `P ≤ M` — the same owner: `[P, M)`, only `O`'s records count, as the
 *   restore from a copy reads it;
 * - copy at `(P, X)` and `O`'s epoch marker says `O` restored the mark `(Q, X)` with `Q ≥ P`:
 *   `[P, Q)` with only `X`'s records (the copy is then exactly the state `O` restored), the
 *   records of `[Q, O's marker)` skipped, and after the marker only `O`'s records. Exact because
 *   `O`'s position passes its marker only once it wrote again, with its restored value, every key
 *   of a record it ignored and every key written past `Q` (the invariant of the restore rule):
 *   each key either has such a rewrite before `M`, or its last record before the marker is the
 *   one the `(Q, X)` state took. A commit that names `O` lies past that;
 * - anything else (no meta, a copy ahead of `M`, another owner without such a marker, a marker
 *   of an older version): the copy is wiped and rebuilt from `[0, M)` with the full rule.
 * Each catch-up writes its records in chunks that delete the meta (a crash mid-way leaves a copy
 * no restore trusts) and the new meta with the last chunk, in one transaction.
 *
 * Only one of a node's owner actor and standby may touch a partition's copies at once: the
 * runtime stops the standby (and waits for its catch-up) before the partition starts here, and
 * starts one only after the partition left (its last copy write queued; each catch-up waits for
 * the directory's pending writes first).
 *
 * @example
 * const replica = new StandbyReplica({ topicPartition, reader, copyOf: (store) => dir.copy({ topic: changelogTopic('totals', store), partition: 0 }), logger });
 * const step = await replica.catchUp(committedMark); // { records, applied, lag, stores }
 */
export class StandbyReplica {
  private statuses = new Map<string, StandbyStoreStatus>();

  constructor(private readonly options: StandbyReplicaOptions) {}

  get topicPartition(): TopicPartition {
    return this.options.topicPartition;
  }

  /** Each store's copy after the last catch-up. */
  get stores(): readonly StandbyStoreStatus[] {
    return [...this.statuses.values()];
  }

  /** Records past the copies, summed over the stores (Infinity before the first catch-up). */
  get lag(): number {
    if (this.statuses.size === 0) return Infinity;
    let lag = 0;
    for (const s of this.statuses.values()) lag += s.lag;
    return lag;
  }

  /** Brings every store's copy to the committed `mark` (undefined: nothing committed with state: nothing to do). */
  async catchUp(mark: StateMark | undefined): Promise<StandbyStep> {
    let records = 0;
    let applied = 0;
    if (!mark) return { records, applied, lag: this.lag, stores: this.stores };
    for (const [store, until] of Object.entries(mark.positions)) {
      const copy = this.options.copyOf(store);
      if (!copy) continue;
      const step = await this.catchUpStore(store, copy, until, mark.owners?.[store], mark.epoch);
      records += step.records;
      applied += step.applied;
    }
    return { records, applied, lag: this.lag, stores: this.stores };
  }

  private async catchUpStore(store: string, copy: LmdbStoreCopy, until: number, owner: string | undefined, markEpoch: number): Promise<{ records: number; applied: number }> {
    const { reader } = this.options;
    await copy.dir.flushed(); // the last owner's writes on this node, if it ran here
    const meta = copy.meta();
    let maxEpoch = Math.max(markEpoch, meta?.epoch ?? 0);
    let records = 0;
    let applied = 0;
    let pending: Array<readonly [Buffer, Buffer | null]> = [];
    const writes: Promise<void>[] = [];
    const owners = ownerReader();
    /** Reads `[from, to)`: each record that is not a marker goes to the copy when `decide` says so. */
    const scan = (from: number, to: number, decide: (record: LogRecord, writer: string) => boolean, onMarker?: (record: LogRecord, writer: string) => void): Promise<void> =>
      to <= from
        ? Promise.resolve()
        : reader.read(copy.changelog, from, to, (batch) => {
            for (const record of batch) {
              records++;
              owners.read(record);
              if (owners.epoch > maxEpoch) maxEpoch = owners.epoch;
              if (isEpochMarker(record)) {
                onMarker?.(record, owners.owner);
                continue;
              }
              if (!record.key || !decide(record, owners.owner)) continue;
              pending.push([record.key, record.value]);
              applied++;
              if (pending.length >= CHUNK) {
                // Queued in order; each deletes the meta, so a crash mid-way leaves a copy no restore trusts.
                const write = copy.apply(pending);
                write.catch(() => undefined); // awaited below; not unhandled if the read fails first
                writes.push(write);
                pending = [];
              }
            }
          });

    let how: StandbyCatchUp;
    if (meta && meta.position === until && meta.owner === owner) {
      how = 'current';
    } else if (meta && meta.position < until && meta.owner === owner) {
      how = 'tail';
      // As a restore from the copy: past the copy's position only its owner's records count (none: every record).
      await scan(meta.position, until, (_r, writer) => owner === undefined || writer === owner);
    } else {
      const marker = meta && meta.position <= until && owner !== undefined ? await this.findMarker(copy, meta.position, until, owner) : undefined;
      if (meta && marker && marker.info.restoredFrom !== undefined && (marker.info.restoredFrom ?? undefined) === meta.owner && marker.info.restoredUntil >= meta.position && marker.info.restoredUntil <= marker.offset) {
        how = 'new-owner';
        const from = meta.owner;
        const restoredUntil = marker.info.restoredUntil;
        // [P, Q): the copy's owner's records (as the new owner's restore from (Q, from) took them);
        // [Q, marker): skipped (every key written there was written again by the new owner); after it, only the new owner's.
        let passed = false;
        await scan(
          meta.position,
          until,
          (record, writer) => (passed ? writer === owner : record.offset < restoredUntil && (from === undefined || writer === from)),
          (record, writer) => {
            if (writer === owner && record.offset === marker.offset) passed = true;
          },
        );
      } else {
        how = 'rebuild';
        copy.wipe();
        maxEpoch = markEpoch;
        // The full restore rule: every record counts up to the owner's marker, then only the owner's.
        let only: string | undefined;
        await scan(
          0,
          until,
          (_r, writer) => only === undefined || writer === only,
          (_r, writer) => {
            if (owner !== undefined && writer === owner) only = owner;
          },
        );
      }
    }
    if (how !== 'current' || meta === undefined || meta.epoch < maxEpoch) {
      const newMeta: LocalCopyMeta = { version: 2, changelog: copy.changelog.topic, partition: copy.changelog.partition, epoch: maxEpoch, position: until, ...(owner !== undefined ? { owner } : {}) };
      const rest: OutgoingRecord[] = pending.map(([key, value]) => ({ key, value }));
      writes.push(copy.dir.write([{ copy, records: rest, meta: newMeta }]));
    }
    await Promise.all(writes);
    const end = await reader.endOffset(copy.changelog);
    this.statuses.set(store, { store, position: until, lag: Math.max(0, end - until), last: how });
    if (how !== 'current') this.options.logger.debug({ store, changelog: copy.changelog, how, from: meta?.position, until, records, applied }, 'standby copy caught up');
    return { records, applied };
  }

  /** The epoch marker of `owner` in `[from, until)`, if there is one. */
  private async findMarker(copy: LmdbStoreCopy, from: number, until: number, owner: string): Promise<{ offset: number; info: MarkerInfo } | undefined> {
    let found: { offset: number; info: MarkerInfo } | undefined;
    await this.options.reader.read(copy.changelog, from, until, (batch) => {
      if (found) return;
      for (const record of batch) {
        if (!isEpochMarker(record)) continue;
        const info = markerInfo(record);
        if (info?.owner === owner) {
          found = { offset: record.offset, info };
          return;
        }
      }
    });
    return found;
  }
}
