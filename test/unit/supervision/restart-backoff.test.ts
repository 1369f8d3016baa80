import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/supervision/backoff.js';
import { SimulatedClock } from '../../../src/supervision/simulated-clock.js';
import { Supervisor } from '../../../src/supervision/supervisor.js';
import { FakeChildren, harness, ofType, record, silentLogger } from './support.js';

describe('backoff between restarts', () => {
  it('waits backoffDelay(n - 1) before restart number n, and not a millisecond less', async () => {
    const { clock, fakes, supervisor } = harness();
    const backoff = { minMs: 100, maxMs: 1_000, factor: 2, jitter: 0 };
    const sup = supervisor({ name: 'sup', flags: { intensity: 100, backoff }, children: [fakes.spec('a')] });
    const events = record(sup);
    await sup.start();

    for (let n = 1; n <= 6; n++) {
      fakes.crash('a');
      const delay = backoffDelay(n - 1, backoff);
      await clock.advance(delay - 1);
      expect(fakes.isRunning('a')).toBe(false);
      await clock.advance(1);
      expect(fakes.isRunning('a')).toBe(true);
    }
    expect(ofType(events, 'supervisor.child-restarting').map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
      [5, 1_000],
      [6, 1_000],
    ]);
  });

  it('spreads the delays with the injected random source, as backoffDelay does', async () => {
    const clock = new SimulatedClock();
    const fakes = new FakeChildren(clock);
    const random = (): number => 1; // the top of the ±20% spread
    const sup = new Supervisor({ name: 'sup', clock, logger: silentLogger, random, children: [fakes.spec('a')] });
    const events = record(sup);
    await sup.start();
    fakes.crash('a');
    await clock.advance(200);
    fakes.crash('a');
    await clock.settle();

    expect(ofType(events, 'supervisor.child-restarting').map((e) => e.delayMs)).toEqual([backoffDelay(0, {}, random), backoffDelay(1, {}, random)]);
    expect(backoffDelay(1, {}, random)).toBe(240);
  });

  it('starts the backoff over once the child has run stably for resetAfterMs', async () => {
    const { clock, fakes, supervisor } = harness();
    const sup = supervisor({ name: 'sup', flags: { intensity: 100, resetAfterMs: 30_000, backoff: { jitter: 0 } }, children: [fakes.spec('a')] });
    const events = record(sup);
    await sup.start();
    for (const delay of [100, 200, 400]) {
      fakes.crash('a');
      await clock.advance(delay);
    }
    expect(sup.snapshot().children[0].backoffAttempt).toBe(3);

    await clock.advance(29_999); // not quite stable
    fakes.crash('a');
    await clock.advance(800);
    await clock.advance(30_000); // stable
    expect(sup.snapshot().children[0].backoffAttempt).toBe(0);
    fakes.crash('a');
    await clock.settle();

    expect(ofType(events, 'supervisor.child-restarting').map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
      [1, 100],
    ]);
    expect(sup.snapshot().children[0].restarts).toBe(5);
  });
});
