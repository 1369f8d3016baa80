import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { aggregating } from '../../../src/streams/aggregator.js';
import { counting } from '../../../src/streams/counting.js';
import { session } from '../../../src/streams/session.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';
import type { WindowResult } from '../../../src/streams/window-result.js';
import { rec, runOnClock, runOp } from './support.js';

const marbles = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const sess = (key: string, first: number, last: number, value: number, offset: number, gap = 10, final = true): WindowResult<string, number> => ({
  key, windowStart: first, windowEnd: last, value, timestamp: last + gap, offset, final,
});

describe('session', () => {
  it('closes a session when the watermark passes its last event plus the gap', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c-d|', { a: rec('u', 1, 0), b: rec('u', 8, 1), c: rec('u', 18, 2), d: rec('u', 40, 3) });
      // [1, 18]: 18 - 8 = 10 is within the gap; it fires once the watermark reaches 18 + 10 + 1.
      expectObservable(source.pipe(session({ gap: 10, aggregate: counting() }))).toBe('------x(y|)', {
        x: sess('u', 1, 18, 3, 0),
        y: sess('u', 40, 40, 1, 3),
      });
    });
  });

  it('merges two sessions when a record bridges them, earlier session first', () => {
    const concat = aggregating<StreamRecord<string, string>, string>({
      init: () => '',
      add: (s, r) => s + r.value,
      merge: (a, b) => `${a}|${b}`,
    });
    const out = runOp([rec('u', 1, 0, 'a'), rec('u', 21, 1, 'b'), rec('u', 11, 2, 'c')], (clock) => session({ gap: 10, aggregate: concat, clock }), 20);
    expect(out).toEqual([{ key: 'u', windowStart: 1, windowEnd: 21, value: 'a|bc', timestamp: 31, offset: 0, final: true }]);
  });

  it('keeps keys apart', () => {
    const out = runOp([rec('u', 1, 0), rec('v', 2, 1), rec('u', 5, 2)], (clock) => session({ gap: 10, aggregate: counting(), clock }));
    expect(out).toEqual([sess('u', 1, 5, 2, 0), sess('v', 2, 2, 1, 1)]);
  });

  it('treats a record within the gap of a fired session as late, even when it also touches an open one', () => {
    const lateOnes: number[] = [];
    // gap 50: [100, 200] fires at watermark 260; 240 would bridge it to the open [260].
    const out = runOp([rec('u', 100, 0), rec('u', 150, 1), rec('u', 200, 1), rec('u', 260, 2), rec('u', 240, 3)], (clock) =>
      session({ gap: 50, aggregate: counting(), clock, late: (r) => lateOnes.push(r.offset) }),
    );
    expect(lateOnes).toEqual([3]);
    expect(out).toEqual([sess('u', 100, 200, 3, 0, 50), sess('u', 260, 260, 1, 2, 50)]);
  });

  it('treats a record that joins no open session and whose own session would have fired as late', () => {
    const lateOnes: number[] = [];
    const out = runOp([rec('u', 100, 0), rec('u', 50, 1), rec('u', 95, 2)], (clock) =>
      session({ gap: 10, aggregate: counting(), clock, late: (r) => lateOnes.push(r.offset) }),
    );
    expect(lateOnes).toEqual([1]);
    expect(out).toEqual([sess('u', 95, 100, 2, 0)]);
  });

  it('emits the updated session for every record with emit every-record', () => {
    const out = runOp([rec('u', 1, 0), rec('u', 3, 1)], (clock) => session({ gap: 10, aggregate: counting(), clock, emit: 'every-record' }));
    expect(out).toEqual([sess('u', 1, 1, 1, 0, 10, false), sess('u', 1, 3, 2, 0, 10, false), sess('u', 1, 3, 2, 0)]);
  });

  it('produces the clickstream sessions output', () => {
    interface Click { readonly page: string }
    const clicks = [
      rec<Click>('alice', 0, 0, { page: '/a' }),
      rec<Click>('bob', 5, 1, { page: '/x' }),
      rec<Click>('alice', 1_800_000, 2, { page: '/b' }),
      rec<Click>('alice', 1_800_000 + 1_800_001, 3, { page: '/a' }),
    ];
    const out = runOnClock(
      clicks,
      (source, clock) =>
        source.pipe(
          session({
            gap: 1_800_000,
            clock,
            aggregate: aggregating({
              init: () => ({ events: 0, pages: new Set<string>() }),
              add: (s, r: StreamRecord<string, Click>) => ({ events: s.events + 1, pages: s.pages.add(r.value.page) }),
              merge: (a, b) => ({ events: a.events + b.events, pages: new Set([...a.pages, ...b.pages]) }),
            }),
          }),
        ),
      { outOfOrderness: 5_000 },
    ).map((s) => ({
      userId: s.key,
      sessionStart: s.windowStart,
      sessionEnd: s.windowEnd,
      events: s.value.events,
      pages: s.value.pages.size,
      bounce: s.value.events === 1,
    }));
    expect(out).toEqual([
      { userId: 'bob', sessionStart: 5, sessionEnd: 5, events: 1, pages: 1, bounce: true },
      { userId: 'alice', sessionStart: 0, sessionEnd: 1_800_000, events: 2, pages: 2, bounce: false },
      { userId: 'alice', sessionStart: 3_600_001, sessionEnd: 3_600_001, events: 1, pages: 1, bounce: true },
    ]);
  });

  it('drops its state and stops listening to the clock when unsubscribed', () => {
    const clock = new WatermarkClock();
    const source = new Subject<ReturnType<typeof rec>>();
    const out: unknown[] = [];
    const sub = source.pipe(session({ gap: 10, aggregate: counting(), clock })).subscribe((w) => out.push(w));
    source.next(rec('u', 1));
    sub.unsubscribe();
    expect(clock.listeners).toBe(0);
    clock.close();
    expect(out).toEqual([]);
  });

  it('rejects an aggregator without merge and a gap that is not a positive integer', () => {
    const noMerge = aggregating({ init: () => 0, add: (n: number) => n + 1 });
    expect(() => session({ gap: 10, aggregate: noMerge })).toThrow(ConfigError);
    expect(() => session({ gap: 10, aggregate: noMerge })).toThrow(/session\.aggregate.*merge/);
    expect(() => session({ gap: 0, aggregate: counting() })).toThrow(/session\.gap/);
  });
});
