import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { counting } from '../../../src/streams/counting.js';
import { hopping } from '../../../src/streams/hopping.js';
import { LateOutput } from '../../../src/streams/late-output.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import type { WindowResult } from '../../../src/streams/window-result.js';
import { rec, runOp } from './support.js';

const marbles = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const win = (windowStart: number, value: number, offset: number): WindowResult<string, number> => ({
  key: 'k', windowStart, windowEnd: windowStart + 10, value, timestamp: windowStart + 9, offset, final: true,
});

describe('hopping', () => {
  it('adds a record to every window that contains it and fires them in order of their end', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c---|', { a: rec('k', 1, 0), b: rec('k', 7, 1), c: rec('k', 12, 2) });
      expectObservable(source.pipe(hopping({ size: 10, advance: 5, aggregate: counting() }))).toBe('--x-y---(zw|)', {
        x: win(-5, 1, 0),
        y: win(0, 2, 0),
        z: win(5, 2, 1),
        w: win(10, 1, 2),
      });
    });
  });

  it('treats a record as late when its earliest window has fired, and adds it to none of its windows', () => {
    const late = new LateOutput<StreamRecord<string, null>>();
    const offsets: number[] = [];
    late.records.subscribe(({ element }) => offsets.push(element.offset));
    // At watermark 16, [5, 15) has fired but [10, 20) is open: the record at 12 is late, whole.
    const out = runOp([rec('k', 6, 0), rec('k', 16, 1), rec('k', 12, 2)], (clock) =>
      hopping({ size: 10, advance: 5, aggregate: counting(), clock, late }),
    );
    expect(out).toEqual([win(0, 1, 0), win(5, 1, 0), win(10, 1, 1), win(15, 1, 1)]);
    expect(offsets).toEqual([2]);
  });

  it('handles a size that is not a multiple of the advance', () => {
    const out = runOp([rec('k', 7, 0)], (clock) => hopping({ size: 10, advance: 4, aggregate: counting(), clock }));
    expect(out.map((w) => [w.windowStart, w.windowEnd])).toEqual([
      [0, 10],
      [4, 14],
    ]);
  });

  it('rejects an advance larger than the size, or not positive', () => {
    expect(() => hopping({ size: 10, advance: 11, aggregate: counting() })).toThrow(ConfigError);
    expect(() => hopping({ size: 10, advance: 11, aggregate: counting() })).toThrow(/hopping\.advance.*must not exceed size/);
    expect(() => hopping({ size: 10, advance: 0, aggregate: counting() })).toThrow(/hopping\.advance/);
    expect(() => hopping({ size: 0, advance: 1, aggregate: counting() })).toThrow(/hopping\.size/);
  });
});
