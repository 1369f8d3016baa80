import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { counting } from '../../../src/streams/counting.js';
import { EventTimeError, LateRecordError } from '../../../src/streams/errors.js';
import { LateOutput } from '../../../src/streams/late-output.js';
import { summing } from '../../../src/streams/summing.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';
import type { WindowResult } from '../../../src/streams/window-result.js';
import { rec, runOnClock, runOp } from './support.js';

const marbles = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const win = (key: string, windowStart: number, size: number, value: number, offset: number, final = true): WindowResult<string, number> => ({
  key, windowStart, windowEnd: windowStart + size, value, timestamp: windowStart + size - 1, offset, final,
});

describe('tumbling', () => {
  it('fires each window once, when the watermark reaches its end, and the rest when the source completes', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|', { a: rec('k', 1, 0), b: rec('k', 5, 1), c: rec('k', 12, 2), d: rec('k', 25, 3) });
      expectObservable(source.pipe(tumbling({ size: 10, aggregate: counting() }))).toBe('----x-y(z|)', {
        x: win('k', 0, 10, 2, 0),
        y: win('k', 10, 10, 1, 2),
        z: win('k', 20, 10, 1, 3),
      });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('waits for the out-of-orderness bound and counts a straggler within it', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c-d|', { a: rec('k', 8, 0), b: rec('k', 13, 1), c: rec('k', 9, 2), d: rec('k', 16, 3) });
      expectObservable(source.pipe(tumbling({ size: 10, aggregate: counting(), outOfOrderness: 5 }))).toBe('------x(y|)', {
        x: win('k', 0, 10, 2, 0),
        y: win('k', 10, 10, 2, 1),
      });
    });
  });

  it('keeps keys apart and emits them in first-seen order', () => {
    const out = runOp([rec('b', 1, 0), rec('a', 2, 1), rec('b', 3, 2), rec('a', 15, 3)], (clock) =>
      tumbling({ size: 10, aggregate: counting(), clock }),
    );
    expect(out).toEqual([win('b', 0, 10, 2, 0), win('a', 0, 10, 1, 1), win('a', 10, 10, 1, 3)]);
  });

  it('sends a record whose window has fired to the late output, once, and leaves it out of the results', () => {
    const late = new LateOutput<ReturnType<typeof rec>>();
    const seen: number[] = [];
    late.records.subscribe(({ element, info }) => {
      seen.push(element.offset);
      expect(info).toEqual({ operator: 'tumbling', timestamp: 3, watermark: 12, offset: 2, window: { start: 0, end: 10 } });
    });
    const out = runOp([rec('k', 1, 0), rec('k', 12, 1), rec('k', 3, 2)], (clock) =>
      tumbling({ size: 10, aggregate: counting(), clock, late }),
    );
    expect(out).toEqual([win('k', 0, 10, 1, 0), win('k', 10, 10, 1, 1)]);
    expect(late.count).toBe(1);
    expect(seen).toEqual([2]);
  });

  it('keeps a window open for the allowed lateness', () => {
    const lateOnes: number[] = [];
    const out = runOp([rec('k', 1, 0), rec('k', 12, 1), rec('k', 3, 2), rec('k', 15, 3), rec('k', 4, 4)], (clock) =>
      tumbling({ size: 10, aggregate: counting(), allowedLateness: 5, clock, late: (r) => lateOnes.push(r.offset) }),
    );
    expect(out).toEqual([win('k', 0, 10, 2, 0), win('k', 10, 10, 2, 1)]);
    expect(lateOnes).toEqual([4]);
  });

  it('emits an update per record with emit every-record, then the final result', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c----|', { a: rec('k', 1, 0), b: rec('k', 2, 1), c: rec('k', 11, 2) });
      expectObservable(source.pipe(tumbling({ size: 10, aggregate: counting(), emit: 'every-record' }))).toBe('a-b-(cd)-(e|)', {
        a: win('k', 0, 10, 1, 0, false),
        b: win('k', 0, 10, 2, 0, false),
        c: win('k', 10, 10, 1, 2, false),
        d: win('k', 0, 10, 2, 0, true),
        e: win('k', 10, 10, 1, 2, true),
      });
    });
  });

  it('aligns windows to the epoch, negative timestamps included', () => {
    const out = runOp([rec('k', -1, 0), rec('k', 0, 1), rec('k', 9_999, 2), rec('k', 10_000, 3)], (clock) =>
      tumbling({ size: 10_000, aggregate: summing((r) => r.timestamp), clock }),
    );
    expect(out.map((w) => [w.windowStart, w.windowEnd, w.value])).toEqual([
      [-10_000, 0, -1],
      [0, 10_000, 9_999],
      [10_000, 20_000, 10_000],
    ]);
  });

  it('uses extractors for elements that are not stream records', () => {
    const out = runOnClock(
      [{ page: '/a', at: 5 }, { page: '/b', at: 6 }, { page: '/a', at: 7 }],
      (source, clock) => source.pipe(tumbling({ size: 10, key: (v) => v.page, timestamp: (v) => v.at, aggregate: counting(), clock })),
      { timestamp: (v) => v.at },
    );
    expect(out.map((w) => [w.key, w.value, w.offset])).toEqual([
      ['/a', 2, undefined],
      ['/b', 1, undefined],
    ]);
  });

  it('unsubscribes from its source when the subscriber leaves, with nothing emitted', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|', { a: rec('k', 1), b: rec('k', 12), c: rec('k', 25), d: rec('k', 40) });
      expectObservable(source.pipe(tumbling({ size: 10, aggregate: counting() })), '^-!').toBe('--');
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('drops its state and stops listening to the clock when unsubscribed', () => {
    const clock = new WatermarkClock();
    const source = new Subject<ReturnType<typeof rec>>();
    const out: unknown[] = [];
    const sub = source.pipe(tumbling({ size: 10, aggregate: counting(), clock })).subscribe((w) => out.push(w));
    expect(clock.listeners).toBe(1);
    source.next(rec('k', 1));
    sub.unsubscribe();
    expect(clock.listeners).toBe(0);
    expect(source.observed).toBe(false);
    clock.close();
    expect(out).toEqual([]);
  });

  it('fails the stream when a record is late and there is no late output', () => {
    const run = () => runOp([rec('k', 12, 0), rec('k', 1, 1)], (clock) => tumbling({ size: 10, aggregate: counting(), clock }));
    expect(run).toThrow(LateRecordError);
    expect(run).toThrow(/tumbling: record at event time 1 \(offset 1\) is late/);
  });

  it('fails the stream when an element has no numeric timestamp', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a|', { a: { key: 'k' } });
      expectObservable(source.pipe(tumbling({ size: 10, aggregate: counting() }))).toBe(
        '#',
        undefined,
        new EventTimeError('tumbling', undefined),
      );
    });
  });

  it('turns a throwing aggregator into an error notification', () => {
    const boom = new Error('boom');
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b', { a: rec('k', 1), b: rec('k', 2) });
      const aggregate = { init: () => 0, add: (n: number) => (n === 1 ? (() => { throw boom; })() : n + 1) };
      expectObservable(source.pipe(tumbling({ size: 10, aggregate }))).toBe('--#', undefined, boom);
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('rejects bad configuration at construction, naming the setting', () => {
    expect(() => tumbling({ size: -5, aggregate: counting() })).toThrow(ConfigError);
    expect(() => tumbling({ size: -5, aggregate: counting() })).toThrow(/tumbling\.size/);
    expect(() => tumbling({ size: 1.5, aggregate: counting() })).toThrow(/tumbling\.size/);
    expect(() => tumbling({ size: 10, aggregate: undefined as never })).toThrow(/tumbling\.aggregate/);
    expect(() => tumbling({ size: 10, aggregate: counting(), allowedLateness: -1 })).toThrow(/tumbling\.allowedLateness/);
    expect(() => tumbling({ size: 10, aggregate: counting(), emit: 'sometimes' as never })).toThrow(/tumbling\.emit/);
    expect(() => tumbling({ size: 10, aggregate: counting(), clock: new WatermarkClock(), outOfOrderness: 5 })).toThrow(
      /tumbling\.outOfOrderness/,
    );
    expect(() => tumbling({ size: 10, aggregate: counting(), late: 42 as never })).toThrow(/tumbling\.late/);
  });
});

describe('grace', () => {
  it('is the name of the time a window stays open after its end; allowedLateness, its old name, means the same, and setting both is an error', async () => {
    const { tumbling: tumblingOp } = await import('../../../src/streams/tumbling.js');
    const { counting: countingOp } = await import('../../../src/streams/counting.js');
    const { WatermarkClock: Clock } = await import('../../../src/streams/watermark-clock.js');
    const { ConfigError: ConfigErr } = await import('../../../src/errors.js');
    const { Subject: S } = await import('rxjs');
    const fired = (options: { grace?: number; allowedLateness?: number }): number[] => {
      const clock = new Clock();
      const source = new S<{ timestamp: number; key: string }>();
      const ends: number[] = [];
      source.pipe(tumblingOp({ size: 10, aggregate: countingOp(), clock, ...options })).subscribe(() => ends.push(clock.current));
      for (const ts of [1, 12, 15, 25]) {
        source.next({ timestamp: ts, key: 'k' });
        clock.observe(ts);
      }
      return ends;
    };
    expect(fired({ grace: 5 })).toEqual([15, 25]); // [0,10) at 15, [10,20) at 25
    expect(fired({ allowedLateness: 5 })).toEqual(fired({ grace: 5 }));
    expect(fired({})).toEqual([12, 25]);
    expect(() => tumblingOp({ size: 10, aggregate: countingOp(), grace: 1, allowedLateness: 1 })).toThrow(ConfigErr);
  });
});
