import fc from 'fast-check';
import { EMPTY, partition } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { TableUpdate } from '../../../src/streams/aggregate-by-key.js';
import type { LateInfo } from '../../../src/streams/late-output.js';
import { tableTableJoin } from '../../../src/streams/table-table-join.js';
import { joinEventsArb, type JoinEvent } from './join-support.js';
import { runOnClock } from './support.js';

/** An update's value: every third one deletes its key. */
const valueOf = (e: JoinEvent): string | null => (e.i % 3 === 0 ? null : `${e.side}${e.i}`);

/**
 * The joined table by a plain loop: after each update, the key's joined value computed from
 * both Maps; emitted when there is one, a tombstone when there was one and is none.
 */
function reference(events: readonly JoinEvent[], type: 'inner' | 'left') {
  const tables = { L: new Map<string, { v: string; ts: number }>(), R: new Map<string, { v: string; ts: number }>() };
  const joinedOf = (k: string): string | undefined => {
    const l = tables.L.get(k);
    const r = tables.R.get(k);
    if (l === undefined || (type === 'inner' && r === undefined)) return undefined;
    return `${l.v}+${r?.v ?? '-'}@${Math.max(l.ts, r?.ts ?? -Infinity)}`;
  };
  const results: string[] = [];
  const late: string[] = [];
  for (const e of events) {
    if (e.k === null) {
      late.push(`${e.i} null join key`);
      continue;
    }
    const table = tables[e.side];
    const value = valueOf(e);
    if (value === null && !table.has(e.k)) continue;
    const before = joinedOf(e.k);
    if (value === null) table.delete(e.k);
    else table.set(e.k, { v: value, ts: e.ts });
    const after = joinedOf(e.k);
    if (after !== undefined) results.push(`${e.k} ${after}`);
    else if (before !== undefined) results.push(`${e.k} null@${e.ts}`);
  }
  return { results, late };
}

function run(events: readonly JoinEvent[], type: 'inner' | 'left') {
  const late: string[] = [];
  const results = runOnClock<JoinEvent, TableUpdate<string, string | null>>(
    events,
    (source) => {
      const [lefts, rights] = partition(source, (e) => e.side === 'L');
      return lefts.pipe(
        tableTableJoin(rights, {
          type,
          key: (e: JoinEvent) => e.k,
          otherKey: (e: JoinEvent) => e.k,
          value: valueOf,
          otherValue: valueOf,
          timestamp: (e: JoinEvent) => e.ts,
          otherTimestamp: (e: JoinEvent) => e.ts,
          late: (e: JoinEvent, info: LateInfo) => late.push(`${e.i} ${info.reason}`),
          join: (l: string, r: string | null) => `${l}+${r ?? '-'}`,
        } as never),
      );
    },
    { timestamp: (e) => e.ts },
  );
  return { results: results.map((r) => `${r.key} ${r.value}@${r.timestamp}`), late };
}

describe('tableTableJoin', () => {
  it('emits the joined table as its updates, tombstones included, as a plain loop over two Maps computes it', () => {
    fc.assert(
      fc.property(joinEventsArb({ nullKeys: true }), fc.constantFrom<'inner' | 'left'>('inner', 'left'), (events, type) => {
        expect(run(events, type)).toEqual(reference(events, type));
      }),
      { numRuns: 400 },
    );
  });

  it('joins two tables of TableUpdates by their keys and values by default', () => {
    const updates = [
      { side: 'L', key: 'a', value: 1, timestamp: 1 },
      { side: 'R', key: 'a', value: 'x', timestamp: 2 },
      { side: 'L', key: 'a', value: 3, timestamp: 3 },
      { side: 'R', key: 'a', value: null, timestamp: 4 },
    ];
    const out = runOnClock(updates, (source) => {
      const [l, r] = partition(source, (u) => u.side === 'L');
      return l.pipe(tableTableJoin(r, { join: (n: number, s: string) => `${s}${n}` }));
    });
    expect(out).toEqual([
      { key: 'a', value: 'x1', timestamp: 2 },
      { key: 'a', value: 'x3', timestamp: 3 },
      { key: 'a', value: null, timestamp: 4 },
    ]);
  });

  it('checks its options', () => {
    expect(() => tableTableJoin(EMPTY, { type: 'outer' as never, join: () => 1 })).toThrow(ConfigError);
  });
});
