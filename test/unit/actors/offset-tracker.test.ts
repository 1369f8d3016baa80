import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../../src/actors/offset-tracker.js';

describe('OffsetTracker', () => {
  it('commits the offset after the highest contiguous completed record', () => {
    const tracker = new OffsetTracker(10);
    for (const o of [10, 11, 12, 13]) tracker.take(o);
    tracker.complete(11);
    tracker.complete(13);
    expect(tracker.commitPoint()).toBe(10);
    tracker.complete(10);
    expect(tracker.commitPoint()).toBe(12);
    tracker.complete(12);
    expect(tracker.commitPoint()).toBe(14);
    expect(tracker.pending).toBe(0);
  });

  it('never commits past the lowest held offset until it is released', () => {
    const tracker = new OffsetTracker(0);
    for (const o of [0, 1, 2]) tracker.take(o);
    const releaseOne = tracker.hold(1);
    const releaseTwo = tracker.hold(2);
    for (const o of [0, 1, 2]) tracker.complete(o);
    expect(tracker.commitPoint()).toBe(1);
    releaseTwo();
    expect(tracker.commitPoint()).toBe(1);
    releaseOne();
    releaseOne(); // idempotent
    expect(tracker.commitPoint()).toBe(3);
    expect(tracker.held).toBe(0);
  });

  it('keeps a released hold in force until every record taken before the release is complete', () => {
    const tracker = new OffsetTracker(0);
    for (const o of [0, 1, 2, 3]) tracker.take(o);
    const release = tracker.hold(1);
    tracker.complete(0);
    tracker.complete(1);
    release(); // record 2 and 3 are still incomplete: the window's result may depend on them
    tracker.take(4);
    expect(tracker.commitPoint()).toBe(1);
    tracker.complete(3);
    expect(tracker.commitPoint()).toBe(1);
    tracker.complete(2);
    expect(tracker.commitPoint()).toBe(4); // 0..3 complete: the hold is gone, 4 is in flight
  });

  it('keeps memory bounded under one long-lived hold while many others come and go', () => {
    const tracker = new OffsetTracker(0);
    tracker.take(0);
    tracker.hold(0); // never released: like a card whose history is kept forever
    tracker.complete(0);
    for (let o = 1; o <= 100_000; o++) {
      tracker.take(o);
      const release = tracker.hold(o);
      tracker.complete(o);
      release();
    }
    expect(tracker.held).toBe(1);
    expect(tracker.commitPoint()).toBe(0);
    // Internal: the released holds were dropped, not kept behind the live one.
    expect((tracker as unknown as { holds: number[] }).holds.length).toBeLessThan(5_000);
  });

  it('remembers the event-time state before each record for its commit point', () => {
    const tracker = new OffsetTracker(0);
    tracker.take(0, -Infinity);
    tracker.take(1, 100);
    tracker.take(2, 100);
    tracker.take(3, 250);
    expect(tracker.stateBefore(0)).toBe(-Infinity);
    expect(new OffsetTracker(0).stateBefore(0)).toBeUndefined();
    expect(tracker.stateBefore(2)).toBe(100);
    expect(tracker.stateBefore(3)).toBe(250);
    tracker.forgetStatesBefore(2);
    expect(tracker.stateBefore(2)).toBe(100);
    expect(tracker.stateBefore(3)).toBe(250);
  });

  it('accepts gaps in offsets, as compacted or transactional topics have', () => {
    const tracker = new OffsetTracker(0);
    tracker.take(0);
    tracker.take(5);
    tracker.complete(0);
    expect(tracker.commitPoint()).toBe(5);
    tracker.complete(5);
    expect(tracker.commitPoint()).toBe(6);
  });

  it('rejects offsets taken out of order', () => {
    const tracker = new OffsetTracker(3);
    expect(() => tracker.take(2)).toThrow(/out of order/);
  });

  it('matches a plain-loop reference for any completion order and holds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.nat(), { maxLength: 400 }),
        fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 30 }),
        (n, completionSeed, holdSpec) => {
          const tracker = new OffsetTracker(0);
          for (let o = 0; o < n; o++) tracker.take(o);
          const holds = holdSpec.map(([o, released]) => ({ offset: o % n, released }));
          const releases = holds.map((h) => tracker.hold(h.offset));
          holds.forEach((h, i) => h.released && releases[i]());
          const done = new Set<number>();
          for (const s of completionSeed) {
            const o = s % n;
            if (done.has(o)) continue;
            done.add(o);
            tracker.complete(o);
            // Reference: first incomplete offset, bounded by the lowest hold still in force. A hold
            // released while records were incomplete stays in force until every record taken
            // before its release (here: all n) is complete.
            let first = 0;
            while (first < n && done.has(first)) first++;
            const held = holds.filter((h) => !h.released || first < n).map((h) => h.offset);
            const expected = Math.min(first, ...held);
            expect(tracker.commitPoint()).toBe(expected);
          }
        },
      ),
    );
  });
});
