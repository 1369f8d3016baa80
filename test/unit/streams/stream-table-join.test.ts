import fc from 'fast-check';
import { EMPTY, partition } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { JoinResult } from '../../../src/streams/join-inputs.js';
import type { LateInfo } from '../../../src/streams/late-output.js';
import { streamTableJoin } from '../../../src/streams/stream-table-join.js';
import { joinEventsArb, type JoinEvent } from './join-support.js';
import { streamTableJoinReference, updateValue } from './join-references.js';
import { runOnClock } from './support.js';


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
          otherValue: updateValue,
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
        expect(run(events, type)).toEqual(streamTableJoinReference(events, type));
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
