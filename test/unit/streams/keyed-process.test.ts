import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError, TributaryError } from '../../../src/errors.js';
import { keyedProcess, type KeyedProcessContext } from '../../../src/streams/keyed-process.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';
import { rec, RecordingHolds, runOp } from './support.js';

const marbles = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
type R = StreamRecord<string, number>;
type N = StreamRecord<string, null>;

describe('keyedProcess', () => {
  it('keeps state per key', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('abc|', { a: rec('x', 1, 0, 5), b: rec('y', 2, 1, 7), c: rec('x', 3, 2, 1) });
      const running = keyedProcess<R, number, string, string>({
        init: () => 0,
        onRecord: (ctx, r) => {
          ctx.state += r.value;
          ctx.emit(`${ctx.key}=${ctx.state}`);
        },
      });
      expectObservable(source.pipe(running)).toBe('abc|', { a: 'x=5', b: 'y=7', c: 'x=6' });
    });
  });

  it('fires timers in time order across keys when the watermark passes them', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c-d---|', { a: rec('x', 10), b: rec('y', 5), c: rec('x', 30), d: rec('z', 40) });
      const timers = keyedProcess<N, null, string, string>({
        init: () => null,
        onRecord: (ctx) => ctx.registerTimer(ctx.timestamp + 10),
        onTimer: (ctx, time) => ctx.emit(`${ctx.key}@${time}`),
      });
      // watermark 30 passes 15 (y) and 20 (x), not 40; watermark 40 passes nothing new; the end fires 40 and 50.
      expectObservable(source.pipe(timers)).toBe('----(ab)--(cd|)', { a: 'y@15', b: 'x@20', c: 'x@40', d: 'z@50' });
    });
  });

  it('fires a timer only once the watermark is past it, and orders equal times by registration', () => {
    const fired: string[] = [];
    const clock = new WatermarkClock();
    const source = new Subject<R>();
    source
      .pipe(
        keyedProcess<R, null, string, string>({
          init: () => null,
          clock,
          onRecord: (ctx) => ctx.registerTimer(100),
          onTimer: (ctx, time) => fired.push(`${ctx.key}@${time}`),
        }),
      )
      .subscribe();
    source.next(rec('b', 0));
    source.next(rec('a', 0));
    clock.advanceTo(100);
    expect(fired).toEqual([]);
    clock.advanceTo(101);
    expect(fired).toEqual(['b@100', 'a@100']);
  });

  it('deletes timers and registers each key and time once', () => {
    const out = runOp<R, string>([rec('x', 1), rec('x', 2), rec('y', 3)], (clock) =>
      keyedProcess<R, null, string, string>({
        init: () => null,
        clock,
        onRecord: (ctx) => {
          ctx.registerTimer(50);
          if (ctx.key === 'y') ctx.deleteTimer(50);
        },
        onTimer: (ctx, time) => ctx.emit(`${ctx.key}@${time}`),
      }),
    );
    expect(out).toEqual(['x@50']);
  });

  it('fires a timer registered behind the watermark right after the callback that registered it', () => {
    const out = runOp<R, string>([rec('x', 100), rec('x', 20)], (clock) =>
      keyedProcess<R, null, string, string>({
        init: () => null,
        clock,
        onRecord: (ctx) => {
          ctx.registerTimer(ctx.timestamp);
          ctx.emit(`record ${ctx.timestamp} behind=${ctx.timestamp < ctx.watermark}`);
        },
        onTimer: (ctx, time) => ctx.emit(`timer ${time}`),
      }),
    );
    expect(out).toEqual(['record 100 behind=false', 'record 20 behind=true', 'timer 20', 'timer 100']);
  });

  it('frees a key whose state is cleared and that has no timers', () => {
    const inits: string[] = [];
    const out = runOp<R, number>([rec('x', 1, 0, 1), rec('x', 2, 1, 2), rec('x', 3, 2, 3)], (clock) =>
      keyedProcess<R, number, number, string>({
        init: (key) => {
          inits.push(key);
          return 0;
        },
        clock,
        onRecord: (ctx, r) => {
          ctx.state += r.value;
          ctx.emit(ctx.state);
          if (r.value === 2) ctx.clearState();
        },
      }),
    );
    expect(out).toEqual([1, 3, 3]);
    expect(inits).toEqual(['x', 'x']);
  });

  it('lets a callback hold the current offset until it releases it', () => {
    const holds = new RecordingHolds();
    const releases: Array<() => void> = [];
    runOp<R, never>([rec('x', 1, 7), rec('x', 2, 8)], (clock) =>
      keyedProcess<R, null, never, string>({
        init: () => null,
        clock,
        holds,
        onRecord: (ctx) => void releases.push(ctx.hold()),
      }),
    );
    expect(holds.min).toBe(7);
    releases.forEach((release) => release());
    expect(holds.count).toBe(0);
  });

  it('refuses a context used outside its callback', () => {
    let kept: KeyedProcessContext<null, never, string> | undefined;
    runOp<R, never>([rec('x', 1)], (clock) =>
      keyedProcess<R, null, never, string>({ init: () => null, clock, onRecord: (ctx) => void (kept = ctx) }),
    );
    expect(() => kept?.key).toThrow(TributaryError);
  });

  it('turns a throwing callback into an error notification and unsubscribes from its source', () => {
    const boom = new Error('boom');
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b', { a: rec('x', 1), b: rec('x', 2) });
      const op = keyedProcess<N, null, never, string>({
        init: () => null,
        onRecord: (ctx) => {
          if (ctx.timestamp === 2) throw boom;
        },
      });
      expectObservable(source.pipe(op)).toBe('--#', undefined, boom);
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('unsubscribes from its source when the subscriber leaves, before its timers come', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', { a: rec('x', 1), b: rec('x', 2), c: rec('x', 30) });
      const op = keyedProcess<N, null, number, string>({
        init: () => null,
        onRecord: (ctx) => ctx.registerTimer(ctx.timestamp),
        onTimer: (ctx, time) => ctx.emit(time),
      });
      // the timer at 1 fires on the record at 2; the one at 2 would fire on the record at 30
      expectObservable(source.pipe(op), '^--!').toBe('--a', { a: 1 });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('drops state and timers when unsubscribed', () => {
    const clock = new WatermarkClock();
    const source = new Subject<R>();
    const fired: number[] = [];
    const sub = source
      .pipe(keyedProcess<R, null, never, string>({ init: () => null, clock, onRecord: (ctx) => ctx.registerTimer(5), onTimer: (_, t) => void fired.push(t) }))
      .subscribe();
    source.next(rec('x', 1));
    sub.unsubscribe();
    expect(clock.listeners).toBe(0);
    clock.close();
    expect(fired).toEqual([]);
  });

  it('rejects missing callbacks at construction', () => {
    expect(() => keyedProcess({ init: () => 0 } as never)).toThrow(ConfigError);
    expect(() => keyedProcess({ init: () => 0 } as never)).toThrow(/keyedProcess\.onRecord/);
    expect(() => keyedProcess({ onRecord: () => undefined } as never)).toThrow(/keyedProcess\.init/);
  });
});
