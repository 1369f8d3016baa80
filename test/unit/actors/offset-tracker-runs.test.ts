import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../../src/actors/offset-tracker.js';

/** Takes `offsets` as one run (a batch), as the partition pipeline does. */
function takeRun(tracker: OffsetTracker, offsets: readonly number[]): void {
  tracker.beginRun();
  for (const o of offsets) tracker.take(o);
  tracker.endRun();
}

describe('OffsetTracker runs (one batch, completed together)', () => {
  it('completes a batch as one run, with gaps in its offsets', () => {
    const tracker = new OffsetTracker(0);
    takeRun(tracker, [0, 1, 4, 5]);
    takeRun(tracker, [6, 9]);
    expect(tracker.pending).toBe(6);
    expect(tracker.commitPoint()).toBe(0);
    tracker.completeRun(6, 10, 2); // the second batch first: nothing before it is complete
    expect(tracker.commitPoint()).toBe(0);
    expect(tracker.pending).toBe(6);
    tracker.completeRun(0, 6, 4);
    expect(tracker.commitPoint()).toBe(10);
    expect(tracker.pending).toBe(0);
  });

  it('completes the records before the one a failure stopped at, and keeps that one', () => {
    const tracker = new OffsetTracker(10);
    takeRun(tracker, [10, 11, 13, 14]);
    tracker.completeRun(10, 14, 3); // record 14 failed: 10, 11, 13 complete
    expect(tracker.commitPoint()).toBe(14);
    expect(tracker.firstIncomplete()).toBe(14);
    expect(tracker.pending).toBe(1);
  });

  it('keeps the state before every record, however the records are grouped', () => {
    const tracker = new OffsetTracker<number>(0);
    tracker.beginRun();
    tracker.take(0, -Infinity);
    tracker.take(1, 100);
    tracker.take(2, 100);
    tracker.endRun();
    tracker.beginRun();
    tracker.take(5, 250);
    tracker.endRun();
    expect(tracker.stateBefore(1)).toBe(100);
    expect(tracker.stateBefore(2)).toBe(100);
    expect(tracker.stateBefore(4)).toBe(100);
    expect(tracker.stateBefore(5)).toBe(250);
    tracker.forgetStatesBefore(5);
    expect(tracker.stateBefore(5)).toBe(250);
  });

  it('refuses to complete a record of a run on its own, or a run that does not exist', () => {
    const tracker = new OffsetTracker(0);
    takeRun(tracker, [0, 1, 2]);
    expect(() => tracker.complete(1)).toThrow(/run/);
    expect(() => tracker.completeRun(1, 3, 2)).toThrow(/no incomplete run/);
    expect(() => tracker.completeRun(0, 3, 4)).toThrow(/cannot complete/);
    expect(tracker.commitPoint()).toBe(0);
  });

  it('matches a per-record reference for any batching, completion order, failures and holds', () => {
    fc.assert(
      fc.property(
        // Batches: sizes and gaps before each record.
        fc.array(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: 8 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 25 }),
        (batchGaps, completionSeed, holdSpec, failLast) => {
          const tracker = new OffsetTracker(0);
          const runs: Array<{ offsets: number[]; completed: number }> = [];
          let next = 0;
          for (const gaps of batchGaps) {
            const offsets = gaps.map((gap) => (next += gap + 1) - 1);
            takeRun(tracker, offsets);
            // A batch whose last record failed completes only the records before it.
            const fails = failLast[runs.length] === true && offsets.length > 0;
            runs.push({ offsets, completed: fails ? offsets.length - 1 : offsets.length });
          }
          const all = runs.flatMap((r) => r.offsets);
          const holds = holdSpec.filter(() => all.length > 0).map(([i, released]) => ({ offset: all[i % all.length], released }));
          const releases = holds.map((h) => tracker.hold(h.offset));
          holds.forEach((h, i) => h.released && releases[i]());
          const done = new Set<number>();
          const completedRuns = new Set<number>();
          for (const s of completionSeed) {
            const r = s % runs.length;
            if (completedRuns.has(r)) continue;
            completedRuns.add(r);
            const { offsets, completed } = runs[r];
            if (offsets.length === 0) continue;
            const until = completed === offsets.length ? offsets[offsets.length - 1] + 1 : offsets[completed];
            tracker.completeRun(offsets[0], until, completed);
            for (const o of offsets.slice(0, completed)) done.add(o);
            // Reference: the first record not complete (or the next offset), bounded by the holds
            // in force (a hold released while records were incomplete lasts until all are).
            const first = all.find((o) => !done.has(o)) ?? next;
            const held = holds.filter((h) => !h.released || first < next).map((h) => h.offset);
            expect(tracker.commitPoint()).toBe(Math.min(first, ...held));
            expect(tracker.pending).toBe(all.filter((o) => o >= first).length);
          }
        },
      ),
    );
  });
});
