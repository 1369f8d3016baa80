import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../src/supervision/simulated-clock.js';

describe('SimulatedClock', () => {
  it('fires due timers in time order, ties in the order they were set, and not before their time', async () => {
    const clock = new SimulatedClock(10);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@30'), 20);
    clock.setTimeout(() => fired.push('a@20'), 10);
    clock.setTimeout(() => fired.push('c@30'), 20);
    const cancelled = clock.setTimeout(() => fired.push('never'), 5);
    clock.clearTimeout(cancelled);

    await clock.advance(9);
    expect(fired).toEqual([]);
    await clock.advance(11);
    expect(fired).toEqual(['a@20', 'b@30', 'c@30']);
    expect(clock.now()).toBe(30);
  });

  it('fires timers set by timers and promise callbacks within the same advance', async () => {
    const clock = new SimulatedClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      void Promise.resolve().then(() => clock.setTimeout(() => fired.push(clock.now()), 50));
    }, 50);
    await clock.advance(100);
    expect(fired).toEqual([100]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('moves to the next timer with next()', async () => {
    const clock = new SimulatedClock();
    clock.setTimeout(() => {}, 250);
    expect(clock.nextTimerAt).toBe(250);
    await clock.next();
    expect(clock.now()).toBe(250);
    expect(clock.nextTimerAt).toBeUndefined();
  });
});
