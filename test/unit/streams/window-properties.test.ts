import fc from 'fast-check';
import type { OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { counting } from '../../../src/streams/counting.js';
import { hopping } from '../../../src/streams/hopping.js';
import { session } from '../../../src/streams/session.js';
import { sliding } from '../../../src/streams/sliding.js';
import type { StreamRecord } from '../../../src/streams/stream-record.js';
import { summing } from '../../../src/streams/summing.js';
import { tumbling } from '../../../src/streams/tumbling.js';
import type { WatermarkClock } from '../../../src/streams/watermark-clock.js';
import type { WindowResult } from '../../../src/streams/window-result.js';
import { rec, runOnClock } from './support.js';

// Every reference below is a plain loop over the input, written independently of src/.

type R = StreamRecord<string, number>;
/** One line per result: "key start end value", sorted. */
type Table = string[];

const KEYS = ['a', 'b', 'c'];

/** Records whose disorder stays within `bound`: each is at most `bound` ms older than the newest before it. */
const withinBound = (bound: number): fc.Arbitrary<R[]> =>
  fc
    .array(fc.record({ key: fc.constantFrom(...KEYS), delta: fc.integer({ min: -bound, max: 40 }), value: fc.integer({ min: -5, max: 20 }) }), {
      maxLength: 60,
    })
    .chain((steps) =>
      fc.integer({ min: -200, max: 200 }).map((base) => {
        let max = base;
        return steps.map((s, offset) => {
          const ts = max + s.delta;
          max = Math.max(max, ts);
          return rec(s.key, ts, offset, s.value);
        });
      }),
    );

/** Records in any order within a range (default 0-300): plenty of them are beyond the bound. */
const disorderedIn = (max: number, keys = KEYS): fc.Arbitrary<R[]> =>
  fc
    .array(fc.record({ key: fc.constantFrom(...keys), ts: fc.integer({ min: 0, max }), value: fc.integer({ min: -5, max: 20 }) }), {
      maxLength: 60,
    })
    .map((xs) => xs.map((x, offset) => rec(x.key, x.ts, offset, x.value)));
const disordered = disorderedIn(300);

interface Run {
  table: Table;
  late: number[];
}

function run(records: readonly R[], op: (clock: WatermarkClock, late: (r: R) => void) => OperatorFunction<R, WindowResult<string, number>>, bound: number): Run {
  const late: number[] = [];
  const results = runOnClock(records, (source, clock) => source.pipe(op(clock, (r) => late.push(r.offset))), { outOfOrderness: bound });
  return { table: results.map((w) => `${w.key} ${w.windowStart} ${w.windowEnd} ${w.value}`).sort(), late };
}

/** The watermark before each record arrives, as the runtime's clock computes it. */
function watermarksBefore(records: readonly R[], bound: number): number[] {
  const out: number[] = [];
  let max = -Infinity;
  for (const r of records) {
    out.push(max - bound);
    if (r.timestamp > max) max = r.timestamp;
  }
  return out;
}

function table(rows: Map<string, number>): Table {
  return [...rows].map(([k, v]) => `${k} ${v}`).sort();
}

function alignedReference(records: readonly R[], size: number, advance: number, value: (r: R) => number): Table {
  const rows = new Map<string, number>();
  for (const r of records) {
    for (let start = Math.floor(r.timestamp / advance) * advance; start > r.timestamp - size; start -= advance) {
      const id = `${r.key} ${start} ${start + size}`;
      rows.set(id, (rows.get(id) ?? 0) + value(r));
    }
  }
  return table(rows);
}

function alignedLate(records: readonly R[], size: number, advance: number, lateness: number, bound: number): number[] {
  const wms = watermarksBefore(records, bound);
  const late: number[] = [];
  records.forEach((r, i) => {
    let earliest = Math.floor(r.timestamp / advance) * advance;
    while (earliest - advance > r.timestamp - size) earliest -= advance;
    if (earliest + size + lateness <= wms[i]) late.push(r.offset);
  });
  return late;
}

function sessionsOf(times: number[], gap: number): Array<{ first: number; last: number; members: number[] }> {
  const sorted = [...times].sort((a, b) => a - b);
  const out: Array<{ first: number; last: number; members: number[] }> = [];
  for (const t of sorted) {
    const current = out[out.length - 1];
    if (current && t - current.last <= gap) {
      current.last = t;
      current.members.push(t);
    } else out.push({ first: t, last: t, members: [t] });
  }
  return out;
}

function sessionReference(records: readonly R[], gap: number, value: (r: R) => number): Table {
  const rows = new Map<string, number>();
  for (const key of KEYS) {
    const mine = records.filter((r) => r.key === key).sort((a, b) => a.timestamp - b.timestamp);
    let first = 0;
    let last = 0;
    let acc = 0;
    mine.forEach((r, i) => {
      if (i > 0 && r.timestamp - last <= gap) {
        last = r.timestamp;
        acc += value(r);
      } else {
        if (i > 0) rows.set(`${key} ${first} ${last}`, acc);
        first = r.timestamp;
        last = r.timestamp;
        acc = value(r);
      }
    });
    if (mine.length > 0) rows.set(`${key} ${first} ${last}`, acc);
  }
  return table(rows);
}

/** Late per the definition: the session the record would join (or its own) has already fired. */
function sessionLate(records: readonly R[], gap: number, lateness: number, bound: number): number[] {
  const wms = watermarksBefore(records, bound);
  const accepted = new Map<string, number[]>();
  const late: number[] = [];
  records.forEach((r, i) => {
    const w = wms[i];
    const t = r.timestamp;
    const parts = sessionsOf(accepted.get(r.key) ?? [], gap);
    const touching = parts.filter((p) => p.first - gap <= t && t <= p.last + gap);
    const fired = (last: number): boolean => last + gap + 1 + lateness <= w;
    if (touching.some((p) => fired(p.last)) || (touching.length === 0 && fired(t))) late.push(r.offset);
    else accepted.set(r.key, [...(accepted.get(r.key) ?? []), t]);
  });
  return late;
}

function slidingReference(records: readonly R[], d: number, value: (r: R) => number): Table {
  const rows = new Map<string, number>();
  for (const key of KEYS) {
    const mine = records.filter((r) => r.key === key);
    const starts = new Set<number>();
    for (const r of mine) {
      starts.add(r.timestamp - d); // left window [t - d, t]
      if (mine.some((o) => o.timestamp > r.timestamp && o.timestamp <= r.timestamp + d + 1)) starts.add(r.timestamp + 1);
    }
    for (const start of starts) {
      let acc = 0;
      for (const r of mine) if (r.timestamp >= start && r.timestamp <= start + d) acc += value(r);
      rows.set(`${key} ${start} ${start + d + 1}`, acc);
    }
  }
  return table(rows);
}

function slidingLate(records: readonly R[], lateness: number, bound: number): number[] {
  const wms = watermarksBefore(records, bound);
  return records.filter((r, i) => r.timestamp + 1 + lateness <= wms[i]).map((r) => r.offset);
}

const one = (): number => 1;
const valueOf = (r: R): number => r.value;
const without = (records: readonly R[], late: readonly number[]): R[] => records.filter((r) => !late.includes(r.offset));
const BOUND = 15;

describe('window results against a plain-loop reference', () => {
  it('tumbling counts and sums equal the reference when disorder stays within the bound, with no late records', () => {
    fc.assert(
      fc.property(withinBound(BOUND), fc.integer({ min: 1, max: 40 }), (records, size) => {
        const counts = run(records, (clock, late) => tumbling({ size, aggregate: counting(), clock, late }), BOUND);
        expect(counts.late).toEqual([]);
        expect(counts.table).toEqual(alignedReference(records, size, size, one));
        const sums = run(records, (clock, late) => tumbling({ size, aggregate: summing(valueOf), clock, late }), BOUND);
        expect(sums.table).toEqual(alignedReference(records, size, size, valueOf));
      }),
    );
  });

  it('tumbling with early updates ends with the same final results', () => {
    fc.assert(
      fc.property(withinBound(BOUND), fc.integer({ min: 1, max: 40 }), (records, size) => {
        const results = runOnClock(records, (source, clock) => source.pipe(tumbling({ size, aggregate: counting(), clock, emit: 'every-record' })), {
          outOfOrderness: BOUND,
        });
        const finals = results.filter((w) => w.final).map((w) => `${w.key} ${w.windowStart} ${w.windowEnd} ${w.value}`).sort();
        expect(finals).toEqual(alignedReference(records, size, size, one));
        expect(results.filter((w) => !w.final).length).toBe(records.length);
      }),
    );
  });

  it('hopping counts equal the reference when disorder stays within the bound', () => {
    fc.assert(
      fc.property(withinBound(BOUND), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), (records, a, b) => {
        const [advance, size] = a <= b ? [a, b] : [b, a];
        const counts = run(records, (clock, late) => hopping({ size, advance, aggregate: counting(), clock, late }), BOUND);
        expect(counts.late).toEqual([]);
        expect(counts.table).toEqual(alignedReference(records, size, advance, one));
      }),
    );
  });

  it('session counts and sums equal the reference when disorder stays within the bound', () => {
    fc.assert(
      fc.property(withinBound(BOUND), fc.integer({ min: 1, max: 30 }), (records, gap) => {
        const counts = run(records, (clock, late) => session({ gap, aggregate: counting(), clock, late }), BOUND);
        expect(counts.late).toEqual([]);
        expect(counts.table).toEqual(sessionReference(records, gap, one));
        const sums = run(records, (clock, late) => session({ gap, aggregate: summing(valueOf), clock, late }), BOUND);
        expect(sums.table).toEqual(sessionReference(records, gap, valueOf));
      }),
    );
  });

  it('sliding counts and sums equal the reference when disorder stays within the bound', () => {
    fc.assert(
      fc.property(withinBound(BOUND), fc.integer({ min: 1, max: 30 }), (records, d) => {
        const counts = run(records, (clock, late) => sliding({ timeDifference: d, aggregate: counting(), clock, late }), BOUND);
        expect(counts.late).toEqual([]);
        expect(counts.table).toEqual(slidingReference(records, d, one));
        const sums = run(records, (clock, late) => sliding({ timeDifference: d, aggregate: summing(valueOf), clock, late }), BOUND);
        expect(sums.table).toEqual(slidingReference(records, d, valueOf));
      }),
    );
  });

  it('with records beyond the bound, tumbling and hopping report each late record once and count the rest exactly', () => {
    fc.assert(
      fc.property(
        disordered,
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 20 }),
        (records, a, b, lateness, bound) => {
          const [advance, size] = a <= b ? [a, b] : [b, a];
          const expectedLate = alignedLate(records, size, advance, lateness, bound);
          const got = run(records, (clock, late) => hopping({ size, advance, aggregate: counting(), allowedLateness: lateness, clock, late }), bound);
          expect(got.late).toEqual(expectedLate);
          expect(got.table).toEqual(alignedReference(without(records, got.late), size, advance, one));

          const tumblingLate = alignedLate(records, size, size, lateness, bound);
          const sums = run(records, (clock, late) => tumbling({ size, aggregate: summing(valueOf), allowedLateness: lateness, clock, late }), bound);
          expect(sums.late).toEqual(tumblingLate);
          expect(sums.table).toEqual(alignedReference(without(records, sums.late), size, size, valueOf));
        },
      ),
    );
  });

  it('with records beyond the bound, sessions report each late record once and sessionize the rest exactly', () => {
    fc.assert(
      fc.property(
        fc.oneof(disordered, disorderedIn(120, ['a'])),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 20 }),
        (records, gap, lateness, bound) => {
        const got = run(records, (clock, late) => session({ gap, aggregate: summing(valueOf), allowedLateness: lateness, clock, late }), bound);
        expect(got.late).toEqual(sessionLate(records, gap, lateness, bound));
        expect(got.table).toEqual(sessionReference(without(records, got.late), gap, valueOf));
      }),
      { numRuns: 300 },
    );
  });

  it('with records beyond the bound, sliding windows report each late record once and aggregate the rest exactly', () => {
    fc.assert(
      fc.property(disordered, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 20 }), (records, d, lateness, bound) => {
        const got = run(records, (clock, late) => sliding({ timeDifference: d, aggregate: counting(), allowedLateness: lateness, clock, late }), bound);
        expect(got.late).toEqual(slidingLate(records, lateness, bound));
        expect(got.table).toEqual(slidingReference(without(records, got.late), d, one));
      }),
    );
  });
});
