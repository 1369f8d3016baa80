import type { LogRecord } from '../connectors/log.js';
import { isEpochMarker, recordOwner } from './changelog.js';

/**
 * Compaction of a changelog partition's records below its committed position, such that every
 * restore the runtime can still do yields exactly what it yielded before (docs/runtime.md, "The
 * restore rule"). Kafka's cleaner keeps a key's last record, which is not enough here: a restore
 * ignores the records after its owner's marker that another owner wrote, so the record such a
 * foreign write would make "older" can be the one the restore needs. The rule instead:
 *
 * - a record is dropped when a **later record of the same key by the same writer** lies in the
 *   range, with **no epoch marker between them**. Whichever owner's restore reads the range,
 *   both sit on the same side of its marker and are by the same writer: both count (the later
 *   wins) or both are ignored (the key is written again either way);
 * - then a **tombstone that is the first record of its key** in the range is dropped: nothing
 *   earlier can be restored for that key, so a restore that applies it and one that never sees
 *   it agree, and a tombstone a restore ignores marks nothing that matters;
 * - markers, records without a key and records without a writer are kept.
 *
 * The range must end at or below the committed position (a restore reads up to the committed
 * position, which only grows): past it lie the writes of checkpoints not committed yet, which a
 * restore must not see.
 *
 * @example
 * log.compact?.({ topic: 'fraud-cards-changelog', partition: 3 }, committedPosition, compactChangelog);
 */
export function compactChangelog(records: readonly LogRecord[]): LogRecord[] {
  const kept: LogRecord[] = [];
  // Walking backwards, `run` counts the markers passed: records with the same run have no marker between them.
  let run = 0;
  const laterIn = new Map<string, number>();
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i];
    if (isEpochMarker(record)) {
      run++;
      kept.push(record);
      continue;
    }
    const writer = recordOwner(record);
    if (record.key === null || writer === '') {
      kept.push(record);
      continue;
    }
    const id = `${writer}\u0000${record.key.toString('latin1')}`;
    if (laterIn.get(id) === run) continue;
    laterIn.set(id, run);
    kept.push(record);
  }
  kept.reverse();
  const seen = new Set<string>();
  return kept.filter((record) => {
    if (record.key === null || isEpochMarker(record)) return true;
    const key = record.key.toString('latin1');
    const first = !seen.has(key);
    seen.add(key);
    return !(first && record.value === null && recordOwner(record) !== '');
  });
}
