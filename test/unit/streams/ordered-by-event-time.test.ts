import fc from 'fast-check';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { orderedByEventTime } from '../../../src/streams/ordered-by-event-time.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { WatermarkClock } from '../../../src/streams/watermark-clock.js';
import { byCodeUnits, rec, RecordingHolds, runOnClock } from './support.js';

const marbles = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
type Tx = StreamRecord<string, { txId: string }>;
const tx = (card: string, ts: number, txId: string, offset = 0): Tx => rec(card, ts, offset, { txId });
const byTxId = (a: Tx, b: Tx): number => byCodeUnits(a.value.txId, b.value.txId);

describe('orderedByEventTime', () => {
  it('emits each key in timestamp order once the watermark passes each timestamp', () => {
    marbles().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c-d---|', { a: tx('c1', 10, 't1'), b: tx('c1', 5, 't2'), c: tx('c1', 12, 't3'), d: tx('c1', 30, 't4') });
      expectObservable(source.pipe(orderedByEventTime({ outOfOrderness: 5 }))).toBe('----x-(yz)(w|)', {
        x: tx('c1', 5, 't2'),
        y: tx('c1', 10, 't1'),
        z: tx('c1', 12, 't3'),
        w: tx('c1', 30, 't4'),
      });
    });
  });

  it('breaks timestamp ties with tieBreak', () => {
    const out = runOnClock([tx('c1', 10, 'tx-b'), tx('c1', 10, 'tx-a'), tx('c1', 9, 'tx-c')], (source, clock) =>
      source.pipe(orderedByEventTime({ tieBreak: byTxId, clock })), { outOfOrderness: 5 },
    );
    expect(out.map((t) => t.value.txId)).toEqual(['tx-c', 'tx-a', 'tx-b']);
  });

  it('sends a record whose timestamp the watermark has passed to the late output', () => {
    const late: string[] = [];
    const out = runOnClock([tx('c1', 100, 'a'), tx('c1', 94, 'b'), tx('c1', 95, 'c')], (source, clock) =>
      source.pipe(orderedByEventTime({ clock, late: (t, info) => late.push(`${t.value.txId}<${info.watermark}`) })), { outOfOrderness: 5 },
    );
    expect(late).toEqual(['b<95']);
    expect(out.map((t) => t.value.txId)).toEqual(['c', 'a']);
  });

  it('keeps buffered records in its store, not by holding their offsets', () => {
    const holds = new RecordingHolds();
    const clock = new WatermarkClock({ outOfOrderness: 10 });
    const source = new Subject<Tx>();
    const out: string[] = [];
    source.pipe(orderedByEventTime({ clock, holds })).subscribe((t) => out.push(t.value.txId));
    const feed = (t: Tx) => {
      source.next(t);
      clock.observe(t.timestamp);
    };
    feed(tx('c1', 20, 'a', 0));
    feed(tx('c2', 15, 'b', 1));
    expect(holds.count).toBe(0);
    feed(tx('c1', 31, 'c', 2)); // watermark 21: a (20) and b (15) go out
    expect(out).toEqual(['b', 'a']);
    clock.close();
    expect(out).toEqual(['b', 'a', 'c']);
    expect(holds.count).toBe(0);
  });

  it('emits every on-time record once, each key in (timestamp, tieBreak) order, for any input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ card: fc.constantFrom('c1', 'c2'), ts: fc.integer({ min: 0, max: 60 }), id: fc.string({ maxLength: 3 }) }), { maxLength: 50 }),
        fc.integer({ min: 0, max: 20 }),
        (xs, bound) => {
          const records = xs.map((x, i) => tx(x.card, x.ts, `${x.id}#${i}`, i));
          const late: number[] = [];
          const out = runOnClock(records, (source, clock) => source.pipe(orderedByEventTime({ tieBreak: byTxId, clock, late: (t) => late.push(t.offset) })), {
            outOfOrderness: bound,
          });
          // reference: late when behind the watermark from before it arrived
          let max = -Infinity;
          const expectedLate: number[] = [];
          for (const r of records) {
            if (r.timestamp < max - bound) expectedLate.push(r.offset);
            max = Math.max(max, r.timestamp);
          }
          expect(late).toEqual(expectedLate);
          for (const card of ['c1', 'c2']) {
            const expected = records
              .filter((r) => r.key === card && !expectedLate.includes(r.offset))
              .sort((a, b) => a.timestamp - b.timestamp || byTxId(a, b));
            expect(out.filter((r) => r.key === card)).toEqual(expected);
          }
        },
      ),
    );
  });
});
