import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../src/connectors/log.js';
import { MemoryLog } from '../../../src/connectors/memory/index.js';
import { ChangelogHeaders, epochMarker, isEpochMarker, recordOwner } from '../../../src/state/changelog.js';
import { compactChangelog } from '../../../src/state/changelog-compaction.js';

const WRITERS = ['1.a', '2.b', '3.c'];

type Event = { kind: 'marker'; writer: number } | { kind: 'put'; writer: number; key: number; value: number | null };

/** A changelog partition's records: markers and puts (a null value: a tombstone), each writer's records after its marker. */
function history(events: readonly Event[]): LogRecord[] {
  const marked = new Set<number>();
  const records: LogRecord[] = [];
  for (const e of events) {
    if (e.kind === 'marker') {
      if (marked.has(e.writer)) continue;
      marked.add(e.writer);
      const m = epochMarker(WRITERS[e.writer], records.length);
      records.push({ topic: 'c', partition: 0, offset: records.length, key: Buffer.from(m.key as string), value: Buffer.from(m.value as string), headers: { ...(m.headers as Record<string, string>) }, timestamp: 0 });
    } else if (marked.has(e.writer)) {
      records.push({
        topic: 'c',
        partition: 0,
        offset: records.length,
        key: Buffer.from(JSON.stringify(`k${e.key}`)),
        value: e.value === null ? null : Buffer.from(String(e.value)),
        headers: { [ChangelogHeaders.epoch]: WRITERS[e.writer] },
        timestamp: 0,
      });
    }
  }
  return records;
}

/**
 * The restore rule as docs/runtime.md states it, as a plain loop: up to the owner's marker every
 * record counts (the last of a key wins), after it only the owner's; records ignored mark their
 * key to be written again.
 */
function restore(records: readonly LogRecord[], until: number, owner: string | undefined) {
  const state = new Map<string, string | null>();
  const stale = new Set<string>();
  let only: string | undefined;
  for (const r of records) {
    if (r.offset >= until) break;
    if (isEpochMarker(r)) {
      if (owner !== undefined && recordOwner(r) === owner) only = owner;
      continue;
    }
    const key = r.key!.toString();
    if (only !== undefined && recordOwner(r) !== only) {
      stale.add(key);
      continue;
    }
    if (r.value === null) state.delete(key);
    else state.set(key, r.value.toString());
  }
  return { state, stale };
}

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('marker' as const), writer: fc.integer({ min: 0, max: 2 }) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      writer: fc.integer({ min: 0, max: 2 }),
      key: fc.integer({ min: 0, max: 5 }),
      value: fc.option(fc.integer({ min: 0, max: 99 }), { nil: null, freq: 4 }),
    }),
  },
);

describe('changelog compaction (state/changelog-compaction.ts)', () => {
  it('changes no restore: for every owner and position at or past the bound, the same state (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 80 }), fc.nat(), fc.nat(), fc.integer({ min: -1, max: 2 }), (events, b, m, o) => {
        const records = history(events);
        const bound = records.length === 0 ? 0 : b % (records.length + 1);
        const until = bound + (m % (records.length - bound + 1));
        const compacted = [...compactChangelog(records.filter((r) => r.offset < bound)), ...records.filter((r) => r.offset >= bound)];
        const owner = o < 0 ? undefined : WRITERS[o];
        const before = restore(records, until, owner);
        const after = restore(compacted, until, owner);
        expect(after.state).toEqual(before.state);
        // A key no longer marked is one the restore holds nothing for (a dropped tombstone): its rewrite wrote a tombstone.
        for (const key of after.stale) expect(before.stale.has(key)).toBe(true);
        for (const key of before.stale) if (!after.stale.has(key)) expect(after.state.has(key)).toBe(false);
        // Markers all stay; nothing at or past the bound moves.
        expect(compacted.filter(isEpochMarker)).toEqual(records.filter(isEpochMarker));
      }),
      { numRuns: 2_000 },
    );
  });

  it("keeps a record a foreign write after the owner's marker would have made older (a key's last record is not enough)", () => {
    // k0 = 1 by 1.a; 2.b takes over (marker), a zombie 1.a then writes k0 = 9: a restore for 2.b ignores it.
    const records = history([
      { kind: 'marker', writer: 0 },
      { kind: 'put', writer: 0, key: 0, value: 1 },
      { kind: 'marker', writer: 1 },
      { kind: 'put', writer: 0, key: 0, value: 9 },
    ]);
    const compacted = compactChangelog(records);
    expect(restore(compacted, records.length, '2.b').state.get('"k0"')).toBe('1');
    // Kafka's rule (the last record of each key) would have lost it.
    const lastPerKey = records.filter((r, i) => isEpochMarker(r) || !records.slice(i + 1).some((later) => later.key!.equals(r.key!)));
    expect(restore(lastPerKey, records.length, '2.b').state.has('"k0"')).toBe(false);
  });

  it('MemoryLog compacts a compacted partition below the bound it is given, once enough of it is dirty', async () => {
    const log = new MemoryLog();
    await log.admin().ensureTopics([{ name: 'c', partitions: 1, config: { 'cleanup.policy': 'compact' } }]);
    const producer = log.producer();
    await producer.append('c', 0, [epochMarker('1.a', 0)]);
    const puts = (n: number) => Array.from({ length: n }, (_, i) => ({ key: JSON.stringify(`k${i % 10}`), value: String(i), headers: { [ChangelogHeaders.epoch]: '1.a' } }));
    await producer.append('c', 0, puts(500));
    log.compact({ topic: 'c', partition: 0 }, 501, compactChangelog);
    expect(log.read('c')).toHaveLength(501); // under 1,000 records: not worth it yet
    await producer.append('c', 0, puts(2_000));
    log.compact({ topic: 'c', partition: 0 }, 2_001, compactChangelog);
    const held = log.read('c');
    // The marker, the last record of each of the 10 keys below the bound, and the 500 above it.
    expect(held).toHaveLength(1 + 10 + 500);
    expect(held.at(-1)!.offset).toBe(2_500);
    expect(restore(held, 2_501, '1.a').state).toEqual(restore(allRecords(), 2_501, '1.a').state);
    // A delete-policy topic is never compacted.
    log.createTopic('d', 1);
    await producer.append('d', 0, puts(2_000));
    log.compact({ topic: 'd', partition: 0 }, 2_000, compactChangelog);
    expect(log.read('d')).toHaveLength(2_000);

    function allRecords(): LogRecord[] {
      const marker = epochMarker('1.a', 0);
      const all: LogRecord[] = [{ topic: 'c', partition: 0, offset: 0, key: Buffer.from(marker.key as string), value: null, headers: { ...(marker.headers as Record<string, string>) }, timestamp: 0 }];
      for (const [i, r] of [...puts(500), ...puts(2_000)].entries()) all.push({ topic: 'c', partition: 0, offset: i + 1, key: Buffer.from(r.key), value: Buffer.from(r.value), headers: r.headers, timestamp: 0 });
      return all;
    }
  });
});
