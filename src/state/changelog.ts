import { randomBytes } from 'node:crypto';
import type { LogRecord, OutgoingRecord } from '../connectors/log.js';

/**
 * The changelog topic of a store: `<processor>-<store>-changelog`, with as many partitions as
 * the input, compacted. A processor reading several topics keeps one per store and topic
 * (`<processor>-<store>-<topic>-changelog`): each partition actor owns one changelog partition.
 *
 * @example
 * changelogTopic('fraud', 'cards'); // 'fraud-cards-changelog'
 */
export function changelogTopic(processorId: string, store: string, sourceTopic?: string): string {
  return sourceTopic === undefined ? `${processorId}-${store}-changelog` : `${processorId}-${store}-${sourceTopic}-changelog`;
}

/** Headers of changelog records. */
export const ChangelogHeaders = {
  /**
   * The writer's owner id, on every record: which owner of the partition wrote it. An owner id
   * is `<epoch>.<token>`: the epoch number (one more than any before it) and a random token, so
   * two members that claim the partition at the same time (a split during a rebalance) never
   * share an id.
   */
  epoch: 'tributary.epoch',
  /** On an epoch marker only: `'epoch'`. */
  control: 'tributary.control',
} as const;

/**
 * The key of the epoch marker an owner writes before anything else. Unique per owner, so
 * compaction never removes it; starting with a NUL byte, it cannot be a key a JSON key serde
 * writes.
 */
const MARKER_PREFIX = '\u0000tributary.epoch.';

/** A new owner id for `epoch`: `<epoch>.<random token>`. */
export function newOwnerId(epoch: number): string {
  return `${epoch}.${randomBytes(4).toString('hex')}`;
}

/**
 * The marker owner `owner` writes first, after restoring its store up to `restoredUntil` for the
 * mark whose owner was `restoredFrom` (undefined: no owner had written the store). A standby
 * reads both to follow the state across a change of owner (see {@link markerInfo}).
 */
export function epochMarker(owner: string, restoredUntil: number, restoredFrom?: string): OutgoingRecord {
  return {
    key: `${MARKER_PREFIX}${owner}`,
    value: JSON.stringify({ owner, restoredUntil, restoredFrom: restoredFrom ?? null }),
    headers: { [ChangelogHeaders.epoch]: owner, [ChangelogHeaders.control]: 'epoch' },
  };
}

/** What an epoch marker says: whose it is, and the mark its owner restored (`restoredFrom` null: no owner; undefined: a marker that predates the field). */
export interface MarkerInfo {
  readonly owner: string;
  readonly restoredUntil: number;
  readonly restoredFrom: string | null | undefined;
}

/**
 * The content of an epoch marker, undefined when it does not parse.
 *
 * @example
 * markerInfo(record); // { owner: '3.9f2c01ab', restoredUntil: 1200, restoredFrom: '2.11aa22bb' }
 */
export function markerInfo(record: LogRecord): MarkerInfo | undefined {
  if (!record.value) return undefined;
  try {
    const parsed = JSON.parse(record.value.toString()) as { owner?: unknown; restoredUntil?: unknown; restoredFrom?: unknown };
    if (typeof parsed.owner !== 'string' || typeof parsed.restoredUntil !== 'number' || !Number.isSafeInteger(parsed.restoredUntil)) return undefined;
    const from = parsed.restoredFrom;
    if (from !== undefined && from !== null && typeof from !== 'string') return undefined;
    return { owner: parsed.owner, restoredUntil: parsed.restoredUntil, restoredFrom: from };
  } catch {
    return undefined;
  }
}

/** Whether a changelog record is an epoch marker. */
export function isEpochMarker(record: LogRecord): boolean {
  const control = record.headers[ChangelogHeaders.control];
  return control !== undefined && String(control) === 'epoch';
}

/** The owner id a changelog record was written by (`''` for a record without one). */
export function recordOwner(record: LogRecord): string {
  const header = record.headers[ChangelogHeaders.epoch];
  return header === undefined ? '' : String(header);
}

/** The epoch number of an owner id (0 when it has none). */
export function ownerEpoch(owner: string): number {
  const epoch = Number.parseInt(owner, 10);
  return Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : 0;
}

/**
 * {@link recordOwner} and its epoch for a run of records, decoding a header only when it is not
 * the very value the record before had (a changelog's records nearly all share one: the Kafka
 * reader hands them the same headers object).
 *
 * @example
 * const owners = ownerReader();
 * owners.read(record); // then owners.owner, owners.epoch
 */
export function ownerReader(): { read(record: LogRecord): void; readonly owner: string; readonly epoch: number } {
  let header: unknown = {};
  const state = {
    owner: '',
    epoch: 0,
    read(record: LogRecord): void {
      const value = record.headers[ChangelogHeaders.epoch];
      if (value === header) return;
      header = value;
      state.owner = value === undefined ? '' : String(value);
      state.epoch = ownerEpoch(state.owner);
    },
  };
  return state;
}

/** The epoch a changelog record was written in (0 for a record without one). */
export function recordEpoch(record: LogRecord): number {
  return ownerEpoch(recordOwner(record));
}

/**
 * The topic configuration tributary creates changelogs with: compacted, and no record younger
 * than an hour counts as a key's "later" record when the broker compacts (`min.compaction.lag.ms`).
 * A write past the committed position (an owner that died before committing it, a zombie's) is
 * ignored by the next restore, which needs the committed record of that key still there: the lag
 * keeps compaction from removing it for an hour after the ignored write, while the next owner's
 * restore writes the key again (docs/runtime.md, "Compaction").
 */
export const CHANGELOG_CONFIG: Readonly<Record<string, string>> = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(60 * 60 * 1000) };
