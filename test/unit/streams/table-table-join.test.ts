import fc from 'fast-check';
import { EMPTY, partition } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { TableUpdate } from '../../../src/streams/aggregate-by-key.js';
import type { LateInfo } from '../../../src/streams/late-output.js';
import { tableTableJoin } from '../../../src/streams/table-table-join.js';
import { joinEventsArb, type JoinEvent } from './join-support.js';
import { rowValue, tableTableJoinReference } from './join-references.js';
import { runOnClock } from './support.js';


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
          value: rowValue,
          otherValue: rowValue,
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
        expect(run(events, type)).toEqual(tableTableJoinReference(events, type));
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
