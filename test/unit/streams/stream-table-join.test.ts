import fc from 'fast-check';
import { EMPTY, partition } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { JoinResult } from '../../../src/streams/join-inputs.js';
import type { LateInfo } from '../../../src/streams/late-output.js';
import { streamTableJoin } from '../../../src/streams/stream-table-join.js';
import { joinEventsArb, type JoinEvent } from './join-support.js';
import { runOnClock } from './support.js';

/** A table update's value: every fourth one deletes its key. */
const valueOf = (e: JoinEvent): string | null => (e.i % 4 === 0 ? null : `v${e.i}`);

/** The join by a plain loop over the source order: a Map is the table. */
function reference(events: readonly JoinEvent[], type: 'inner' | 'left') {
  const table = new Map<string, string>();
  const results: string[] = [];
  const late: string[] = [];
  for (const e of events) {
    if (e.side === 'R') {
      if (e.k === null) late.push(`${e.i} null join key`);
      else if (valueOf(e) === null) table.delete(e.k);
      else table.set(e.k, valueOf(e)!);
      continue;
    }
    const value = e.k === null ? undefined : table.get(e.k);
    if (value !== undefined) results.push(`${e.i}|${value}@${e.ts}`);
    else if (type === 'left') results.push(`${e.i}|-@${e.ts}`);
    else if (e.k === null) late.push(`${e.i} null join key`);
  }
  return { results, late };
}

function run(events: readonly JoinEvent[], type: 'inner' | 'left') {
  const late: string[] = [];
  const results = runOnClock<JoinEvent, JoinResult<string, string>>(
    events,
    (source) => {
      const [records, updates] = partition(source, (e) => e.side === 'L');
      return records.pipe(
        streamTableJoin(updates, {
          type,
          key: (e: JoinEvent) => e.k,
          otherKey: (e: JoinEvent) => e.k,
          otherValue: valueOf,
          timestamp: (e: JoinEvent) => e.ts,
          late: (e: JoinEvent, info: LateInfo) => late.push(`${e.i} ${info.reason}`),
          join: (r: JoinEvent, value: string | null) => `${r.i}|${value ?? '-'}`,
        } as never),
      );
    },
    { timestamp: (e) => e.ts },
  );
  return { results: results.map((r) => `${r.value}@${r.timestamp}`), late };
}

describe('streamTableJoin', () => {
  it("joins each record with the table's latest value for its key in processing order, as a Map in a plain loop does", () => {
    fc.assert(
      fc.property(joinEventsArb({ nullKeys: true }), fc.constantFrom<'inner' | 'left'>('inner', 'left'), (events, type) => {
        expect(run(events, type)).toEqual(reference(events, type));
      }),
      { numRuns: 400 },
    );
  });

  it('takes TableUpdate and StreamRecord shapes by default: key, value, and a null value deletes', () => {
    const records = [
      { side: 'R', key: 'a', value: 1, timestamp: 0 },
      { side: 'L', key: 'a', value: 'x', timestamp: 5 },
      { side: 'R', key: 'a', value: null, timestamp: 6 },
      { side: 'L', key: 'a', value: 'y', timestamp: 7 },
    ];
    const out = runOnClock(records, (source) => {
      const [stream, table] = partition(source, (r) => r.side === 'L');
      return stream.pipe(streamTableJoin(table, { type: 'left', join: (r, v: number | null) => `${r.value}${v ?? '-'}` }));
    });
    expect(out).toEqual([
      { key: 'a', value: 'x1', timestamp: 5 },
      { key: 'a', value: 'y-', timestamp: 7 },
    ]);
  });

  it('checks its options', () => {
    expect(() => streamTableJoin(EMPTY, { type: 'outer' as never, join: () => 1 })).toThrow(ConfigError);
    expect(() => streamTableJoin(EMPTY, { join: 1 as never })).toThrow(ConfigError);
  });
});
