import fc from 'fast-check';
import { EMPTY, partition } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { JoinResult } from '../../../src/streams/join-inputs.js';
import type { LateInfo } from '../../../src/streams/late-output.js';
import { regularJoin } from '../../../src/streams/regular-join.js';
import { joinEventsArb, type JoinEvent } from './join-support.js';
import { regularJoinReference, type Ttl } from './join-references.js';
import { runOnClock } from './support.js';


function run(events: readonly JoinEvent[], bound: number, ttl: Ttl) {
  const late: string[] = [];
  const results = runOnClock<JoinEvent, JoinResult<string, string>>(
    events,
    (source, clock) => {
      const [lefts, rights] = partition(source, (e) => e.side === 'L');
      return lefts.pipe(
        regularJoin(rights, {
          ttl,
          clock,
          key: (e: JoinEvent) => e.k,
          otherKey: (e: JoinEvent) => e.k,
          timestamp: (e: JoinEvent) => e.ts,
          otherTimestamp: (e: JoinEvent) => e.ts,
          late: (e: JoinEvent, info: LateInfo) => late.push(`${e.i} ${info.reason}`),
          join: (l: JoinEvent, r: JoinEvent) => `${l.i}|${r.i}`,
        }),
      );
    },
    { outOfOrderness: bound, timestamp: (e) => e.ts },
  );
  return { results: results.map((r) => `${r.value}@${r.timestamp}`), late };
}

const ttlArb: fc.Arbitrary<Ttl> = fc.option(
  fc.record({ left: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }), right: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }) }),
  { nil: undefined },
);

describe('regularJoin', () => {
  it('joins every pair with the same key, in arrival order, as a plain loop does, with per-side TTLs on the watermark', () => {
    fc.assert(
      fc.property(joinEventsArb({ nullKeys: true }), fc.integer({ min: 0, max: 3 }), ttlArb, (events, bound, ttl) => {
        expect(run(events, bound, ttl)).toEqual(regularJoinReference(events, bound, ttl));
      }),
      { numRuns: 400 },
    );
  });

  it('joins whichever side arrived first, and forgets a record once the watermark reaches its time plus the TTL', () => {
    const e = (side: 'L' | 'R', k: string, ts: number, i: number): JoinEvent => ({ side, k, ts, i });
    // r1 (a, 0) before l0; l2 arrives at watermark 10: r1's TTL of 10 has passed.
    const events = [e('R', 'a', 0, 1), e('L', 'a', 1, 0), e('R', 'b', 10, 3), e('L', 'a', 11, 2)];
    expect(run(events, 0, { right: 10 }).results).toEqual(['0|1@1']);
    expect(run(events, 0, undefined).results).toEqual(['0|1@1', '2|1@11']);
  });

  it('checks its options', () => {
    expect(() => regularJoin(EMPTY, { ttl: 0, join: () => 1 })).toThrow(ConfigError);
    expect(() => regularJoin(EMPTY, { ttl: 5, join: () => 1 })).toThrow(/needs an event-time clock/);
    expect(() => regularJoin(EMPTY, {} as never)).toThrow(ConfigError);
  });
});
