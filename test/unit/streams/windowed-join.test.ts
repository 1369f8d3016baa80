import fc from 'fast-check';
import { EMPTY, partition } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { NullJoinKeyError } from '../../../src/streams/errors.js';
import type { JoinResult } from '../../../src/streams/join-inputs.js';
import type { LateInfo } from '../../../src/streams/late-output.js';
import { windowedJoin, type WindowedJoinType } from '../../../src/streams/windowed-join.js';
import { joinEventsArb, sorted, type JoinEvent } from './join-support.js';
import { windowedJoinReference, type WindowedJoinParams } from './join-references.js';
import { runOnClock } from './support.js';


/** The operator on a clock as the runtime drives it; results as `left|right@timestamp`. */
function run(events: readonly JoinEvent[], p: WindowedJoinParams) {
  const late: string[] = [];
  const unmatchedTooEarly: string[] = [];
  const results = runOnClock<JoinEvent, JoinResult<string, string>>(
    events,
    (source, clock) => {
      const [lefts, rights] = partition(source, (e) => e.side === 'L');
      return lefts.pipe(
        windowedJoin(rights, {
          type: p.type,
          before: p.before,
          after: p.after,
          grace: p.grace,
          clock,
          key: (e: JoinEvent) => e.k,
          otherKey: (e: JoinEvent) => e.k,
          timestamp: (e: JoinEvent) => e.ts,
          otherTimestamp: (e: JoinEvent) => e.ts,
          late: (e: JoinEvent, info: LateInfo) => late.push(`${e.i} ${info.reason ?? 'late'}`),
          join: (l: JoinEvent | null, r: JoinEvent | null) => {
            // An unmatched record is emitted only once nothing on time can join it.
            const lone = l ?? r!;
            if ((l === null || r === null) && lone.k !== null && clock.current < lone.ts + p.before + p.after + 1 + p.grace) unmatchedTooEarly.push(`${lone.i}`);
            return `${l?.i ?? '-'}|${r?.i ?? '-'}`;
          },
        }),
      );
    },
    { outOfOrderness: p.bound, timestamp: (e) => e.ts },
  );
  return { results: results.map((r) => `${r.value}@${r.timestamp}`), late, unmatchedTooEarly };
}

const paramsArb = fc.record({
  before: fc.integer({ min: 0, max: 5 }),
  after: fc.integer({ min: 0, max: 5 }),
  grace: fc.integer({ min: 0, max: 3 }),
  bound: fc.integer({ min: 0, max: 3 }),
  type: fc.constantFrom<WindowedJoinType>('inner', 'left', 'outer'),
});

describe('windowedJoin', () => {
  it('gives exactly the plain loop join of the on-time records, with the same late records, for random interleavings, disorder and null keys', () => {
    fc.assert(
      fc.property(joinEventsArb({ nullKeys: true }), paramsArb, (events, p) => {
        const expected = windowedJoinReference(events, p);
        const actual = run(events, p);
        expect(sorted(actual.results)).toEqual(sorted(expected.results));
        expect(sorted(actual.late)).toEqual(sorted(expected.late));
        expect(actual.unmatchedTooEarly).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('emits a pair when its second record arrives, and a left record that joined nothing once its window has closed', () => {
    const e = (side: 'L' | 'R', ts: number, i: number): JoinEvent => ({ side, k: 'a', ts, i });
    const emittedAt: Array<[string, number]> = [];
    runOnClock(
      [e('L', 10, 0), e('R', 12, 1), e('L', 20, 2), e('R', 40, 3)],
      (source, clock) => {
        const [lefts, rights] = partition(source, (x) => x.side === 'L');
        return lefts.pipe(
          windowedJoin(rights, {
            type: 'left',
            timeDifference: 5,
            clock,
            timestamp: (x: JoinEvent) => x.ts,
            otherTimestamp: (x: JoinEvent) => x.ts,
            key: (x: JoinEvent) => x.k,
            otherKey: (x: JoinEvent) => x.k,
            join: (l: JoinEvent, r: JoinEvent | null) => {
              emittedAt.push([`${l.i}|${r?.i ?? '-'}`, clock.current]);
              return null;
            },
          }),
        );
      },
      { timestamp: (x) => x.ts },
    );
    // 0|1 when 1 arrives (watermark 10); 2 joined nothing: emitted when the watermark reaches 20 + 5 + 5 + 1.
    expect(emittedAt).toEqual([
      ['0|1', 10],
      ['2|-', 40],
    ]);
  });

  it('a self-join sees each record on the left first, then on the right: pairs in that order', () => {
    const out = runOnClock(
      [{ side: 'L', k: 'a', ts: 1, i: 0 }, { side: 'L', k: 'a', ts: 1, i: 1 }] as JoinEvent[],
      (source, clock) =>
        source.pipe(
          windowedJoin(source, { timeDifference: 0, clock, key: (e: JoinEvent) => e.k, otherKey: (e: JoinEvent) => e.k, timestamp: (e: JoinEvent) => e.ts, otherTimestamp: (e: JoinEvent) => e.ts, join: (l: JoinEvent, r: JoinEvent) => `${l.i}|${r.i}` }),
        ),
      { timestamp: (e) => e.ts },
    );
    // left 0, right 0 (joins left 0), left 1 (joins right 0), right 1 (joins left 0 and left 1)
    expect(out.map((r) => r.value)).toEqual(['0|0', '1|0', '0|1', '1|1']);
  });

  it('fails on a null join key in an inner join without a late output, and on a missing window', () => {
    const e: JoinEvent = { side: 'L', k: null, ts: 1, i: 0 };
    expect(() =>
      runOnClock([e], (source) => {
        const [lefts, rights] = partition(source, (x) => x.side === 'L');
        return lefts.pipe(windowedJoin(rights, { timeDifference: 1, key: (x: JoinEvent) => x.k, timestamp: (x: JoinEvent) => x.ts, join: () => 1 }));
      }, { timestamp: (x) => x.ts }),
    ).toThrow(NullJoinKeyError);
    const r = EMPTY;
    expect(() => windowedJoin(r, { join: () => 1 })).toThrow(ConfigError);
    expect(() => windowedJoin(r, { timeDifference: -1, join: () => 1 })).toThrow(ConfigError);
    expect(() => windowedJoin(r, { timeDifference: 1, type: 'full' as never, join: () => 1 })).toThrow(ConfigError);
    expect(() => windowedJoin([] as never, { timeDifference: 1, join: () => 1 })).toThrow(ConfigError);
  });
});
