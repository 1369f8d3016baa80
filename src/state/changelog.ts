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
  /** The writer's epoch, on every record: which owner of the partition wrote it. */
  epoch: 'tributary.epoch',
  /** On an epoch marker only: `'epoch'`. */
  control: 'tributary.control',
} as const;

/**
 * The key of the epoch marker an owner writes before anything else. Unique per epoch, so
 * compaction never removes it; starting with a NUL byte, it cannot be a key a JSON key serde
 * writes.
 */
const MARKER_PREFIX = '\u0000tributary.epoch.';

/** The marker an owner of epoch `epoch` writes first, after restoring up to `restoredUntil`. */
export function epochMarker(epoch: number, restoredUntil: number): OutgoingRecord {
  return {
    key: `${MARKER_PREFIX}${epoch}`,
    value: JSON.stringify({ epoch, restoredUntil }),
    headers: { [ChangelogHeaders.epoch]: String(epoch), [ChangelogHeaders.control]: 'epoch' },
  };
}

/** Whether a changelog record is an epoch marker. */
export function isEpochMarker(record: LogRecord): boolean {
  const control = record.headers[ChangelogHeaders.control];
  return control !== undefined && String(control) === 'epoch';
}

/** The epoch a changelog record was written in (0 for a record without one). */
export function recordEpoch(record: LogRecord): number {
  const header = record.headers[ChangelogHeaders.epoch];
  if (header === undefined) return 0;
  const epoch = Number(String(header));
  return Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : 0;
}

/** The topic configuration tributary creates changelogs with. */
export const CHANGELOG_CONFIG: Readonly<Record<string, string>> = { 'cleanup.policy': 'compact' };
