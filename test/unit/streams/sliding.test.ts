import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { counting } from '../../../src/streams/counting.js';
import { sliding } from '../../../src/streams/sliding.js';
import { summing } from '../../../src/streams/summing.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';
import type { WindowResult } from '../../../src/streams/window-result.js';
import { rec, runOp } from './support.js';

const marbles = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
/** A window [start, start + 10] inclusive, i.e. [start, start + 11) half-open. */
const win = (windowStart: number, value: number, offset: number): WindowResult<string, number> => ({
  key: 'k', windowStart, windowEnd: windowStart + 11, value, timestamp: windowStart + 10, offset, final: true,
});

describe('sliding', () => {
  it('emits the left window of every record and the right windows that hold records, when each ends', () => {
    marbles().run(({ cold, expectObservable }) => {
      // d = 10; records at 5, 12, 30. Left: [-5,5] [2,12] [20,30]; right of 5: [6,16] holds 12.
      const source = cold('a-b-c---|', { a: rec('k', 5, 0), b: rec('k', 12, 1), c: rec('k', 30, 2) });
      expectObservable(source.pipe(sliding({ timeDifference: 10, aggregate: counting() }))).toBe('--x-(yz)(w|)', {
        x: win(-5, 1, 0),
        y: win(2, 2, 0),
        z: win(6, 1, 1),
        w: win(20, 1, 2),
      });
    });
  });

  it('computes a window that is both a left and a right window once', () => {
    // Left window of 11 is [1, 11]; right window of 0 is [1, 11] too.
    const out = runOp([rec('k', 0, 0), rec('k', 11, 1)], (clock) => sliding({ timeDifference: 10, aggregate: counting(), clock }));
    expect(out.map((w) => [w.windowStart, w.windowEnd - 1, w.value])).toEqual([
      [-10, 0, 1],
      [1, 11, 1],
    ]);
  });

  it('aggregates records with equal timestamps into the same windows', () => {
    const out = runOp([rec('k', 3, 0, 2), rec('k', 3, 1, 5), rec('k', 8, 2, 1)], (clock) =>
      sliding({ timeDifference: 4, aggregate: summing((r) => r.value), clock }),
    );
    // left [-1,3]=7, right of 3 [4,8]=1, left of 8 [4,8] (same)
    expect(out.map((w) => [w.windowStart, w.windowEnd - 1, w.value])).toEqual([
      [-1, 3, 7],
      [4, 8, 1],
    ]);
  });

  it('sends a record to the late output when its own left window has fired', () => {
    const lateOnes: number[] = [];
    const out = runOp([rec('k', 5, 0), rec('k', 20, 1), rec('k', 19, 2), rec('k', 25, 3)], (clock) =>
      sliding({ timeDifference: 10, aggregate: counting(), clock, late: (r) => lateOnes.push(r.offset) }),
    );
    expect(lateOnes).toEqual([2]);
    expect(out.map((w) => [w.windowStart, w.value])).toEqual([
      [-5, 1],
      [10, 1],
      [15, 2],
      [21, 1],
    ]);
  });

  it('drops its state and stops listening to the clock when unsubscribed', () => {
    const clock = new WatermarkClock();
    const source = new Subject<ReturnType<typeof rec>>();
    const out: unknown[] = [];
    const sub = source.pipe(sliding({ timeDifference: 10, aggregate: counting(), clock })).subscribe((w) => out.push(w));
    source.next(rec('k', 1));
    sub.unsubscribe();
    expect(clock.listeners).toBe(0);
    clock.close();
    expect(out).toEqual([]);
  });

  it('rejects a timeDifference that is not a positive integer', () => {
    expect(() => sliding({ timeDifference: 0, aggregate: counting() })).toThrow(ConfigError);
    expect(() => sliding({ timeDifference: -3, aggregate: counting() })).toThrow(/sliding\.timeDifference/);
  });
});
